package gateway_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/openimis/imis-gateway/openimis"
	"github.com/openimis/imis-gateway/policystore/demo"
)

const stranger = "+255700000001"

// statusWords is how an English answer line states each coverage status.
var statusWords = map[openimis.CoverageStatus]string{
	openimis.Covered:      ": covered until ",
	openimis.NotYetActive: ": not yet active",
	openimis.Expired:      ": expired",
	openimis.Suspended:    ": suspended",
}

// TestMembershipCheckOfEveryDemoCase walks main menu → "Check membership" →
// insurance number for every demo insurance number, over HTTP, as Africa's
// Talking would, once as a stranger and once from the insuree's own phone.
func TestMembershipCheckOfEveryDemoCase(t *testing.T) {
	g := newGateway(t, harness{})
	for i, c := range demo.Catalogue {
		t.Run(c.CHFID, func(t *testing.T) {
			session := fmt.Sprintf("ATUid_case_%d", i)
			if menu := mustCON(t, g.hop(session, stranger, "")); !strings.Contains(menu, "1. Check membership") {
				t.Fatalf("main menu: %q", menu)
			}
			if ask := mustCON(t, g.hop(session, stranger, "1")); !strings.Contains(ask, "insurance number") {
				t.Fatalf("ask: %q", ask)
			}
			answer := mustEND(t, g.hop(session, stranger, "1*"+c.CHFID))
			if !strings.Contains(answer, c.CHFID) {
				t.Errorf("answer does not name the number: %q", answer)
			}
			want := "No policy"
			if c.HasPolicy {
				want = statusWords[c.Want]
			}
			if !strings.Contains(answer, want) {
				t.Errorf("answer %q does not say %q (%s)", answer, want, c.Shows)
			}
			if strings.Contains(answer, c.Name) {
				t.Errorf("a stranger sees the name: %q", answer)
			}
			if len([]rune(answer)) > 160 {
				t.Errorf("answer is %d characters", len([]rune(answer)))
			}

			if c.Phone == "" {
				return
			}
			own := mustEND(t, g.hop(session+"_own", e164(c.Phone), "1*"+c.CHFID))
			if !strings.Contains(own, c.Name) && !strings.Contains(own, "...") {
				t.Errorf("the insuree's own phone %s does not see the name %q: %q", c.Phone, c.Name, own)
			}
		})
	}
}

// e164 turns a Tanzanian phone as stored in the demo ("0712 345 678",
// "255714111444", "+255 713 111 333") into what AT sends.
func e164(stored string) string {
	digits := strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return r
		}
		return -1
	}, stored)
	if strings.HasPrefix(digits, "0") {
		digits = "255" + digits[1:]
	}
	return "+" + digits
}

func TestPreDialledRouteGoesStraightToTheAnswer(t *testing.T) {
	g := newGateway(t, harness{})
	answer := mustEND(t, g.hop("ATUid_route", stranger, "1*101203401"))
	if !strings.Contains(answer, "101203401") || !strings.Contains(answer, ": covered until ") {
		t.Fatalf("answer: %q", answer)
	}
}

func TestUnknownNumberAsksAgainThenAnswers(t *testing.T) {
	g := newGateway(t, harness{})
	mustCON(t, g.hop("ATUid_retry", stranger, ""))
	mustCON(t, g.hop("ATUid_retry", stranger, "1"))
	retry := mustCON(t, g.hop("ATUid_retry", stranger, "1*99999999"))
	if !strings.Contains(retry, "No insuree has number 99999999") || !strings.Contains(retry, "0 Back 00 Menu") {
		t.Fatalf("unknown number: %q", retry)
	}
	answer := mustEND(t, g.hop("ATUid_retry", stranger, "1*99999999*48213"))
	if !strings.Contains(answer, "48213") {
		t.Fatalf("answer after retry: %q", answer)
	}
}

func TestNavigationBackAndMainMenu(t *testing.T) {
	g := newGateway(t, harness{})
	s := "ATUid_nav"
	mustCON(t, g.hop(s, stranger, ""))
	mustCON(t, g.hop(s, stranger, "1"))
	if back := mustCON(t, g.hop(s, stranger, "1*0")); !strings.Contains(back, "1. Check membership") {
		t.Fatalf("0 from the question: %q", back)
	}
	mustCON(t, g.hop(s, stranger, "1*0*1"))
	if home := mustCON(t, g.hop(s, stranger, "1*0*1*00")); !strings.Contains(home, "1. Check membership") {
		t.Fatalf("00 from the question: %q", home)
	}
	if invalid := mustCON(t, g.hop(s, stranger, "1*0*1*00*7")); !strings.Contains(invalid, "Invalid choice") {
		t.Fatalf("unknown choice: %q", invalid)
	}
}

// TestRetriedHopsReplayByteForByte: a hop whose transcript equals the last
// one answered returns the stored reply and does not advance the session,
// including a duplicated session start (docs/design.md, "Failure modes the tests cover").
func TestRetriedHopsReplayByteForByte(t *testing.T) {
	g := newGateway(t, harness{})
	s := "ATUid_replay"
	for _, text := range []string{"", "1", "1*101203401"} {
		first := g.hop(s, stranger, text)
		again := g.hop(s, stranger, text)
		if first != again {
			t.Fatalf("text %q: replay differs:\n%q\n%q", text, first.body, again.body)
		}
	}
	// The duplicated start did not advance the session: "1" was applied once.
	if rec := g.hop(s, stranger, "1*101203401"); !strings.HasPrefix(rec.body, "END ") {
		t.Fatalf("after replays: %q", rec.body)
	}
}

// TestConcurrentRetriesOfOneHopAdvanceItOnce fires the same hop 20 times at
// once: one runs the menu, the others wait for its reply.
func TestConcurrentRetriesOfOneHopAdvanceItOnce(t *testing.T) {
	g := newGateway(t, harness{})
	s := "ATUid_race"
	mustCON(t, g.hop(s, stranger, ""))
	replies := make([]reply, 20)
	var wg sync.WaitGroup
	for i := range replies {
		wg.Go(func() { replies[i] = g.hop(s, stranger, "1") })
	}
	wg.Wait()
	for _, r := range replies {
		if r != replies[0] {
			t.Fatalf("concurrent retries answered differently: %q vs %q", r.body, replies[0].body)
		}
	}
	if ask := mustCON(t, replies[0]); !strings.Contains(ask, "insurance number") {
		t.Fatalf("ask: %q", ask)
	}
	// Had two of them advanced, "1*<number>" would no longer extend the transcript.
	mustEND(t, g.hop(s, stranger, "1*48213"))
}

// TestSessionMovesBetweenInstances: two gateway instances on one Redis and
// one database, and an aggregator that sends each hop to either. Each
// instance's memory of the session goes stale whenever the other answers; the
// hops still walk the menu as on one instance, and retries still replay.
func TestSessionMovesBetweenInstances(t *testing.T) {
	a := newGateway(t, harness{})
	b := newGateway(t, harness{databaseURL: a.databaseURL, prefix: a.prefix})
	one := newGateway(t, harness{databaseURL: a.databaseURL})
	for _, route := range [][]*testGateway{{a, b, a}, {a, a, b}, {b, a, a}, {a, b, b}} {
		s := fmt.Sprintf("ATUid_moves_%p%p%p", route[0], route[1], route[2])
		for i, text := range []string{"", "1", "1*101203401"} {
			got, want := route[i].hop(s, stranger, text), one.hop(s, stranger, text)
			if got != want {
				t.Fatalf("hop %q: %q, one instance answers %q", text, got.body, want.body)
			}
			if again := route[(i+1)%3].hop(s, stranger, text); again != got {
				t.Fatalf("retry of %q on the other instance: %q, want %q", text, again.body, got.body)
			}
		}
	}
	// Stale memories were found out, and counted for the operator.
	if a.conflicts()+b.conflicts() == 0 {
		t.Error("imisgw_ussd_session_conflicts_total stayed 0")
	}
	if n := one.conflicts(); n != 0 {
		t.Errorf("one instance alone: %d conflicts", n)
	}
}

// conflicts reads imisgw_ussd_session_conflicts_total from /metrics.
func (g *testGateway) conflicts() int {
	g.t.Helper()
	for line := range strings.Lines(g.get("/metrics").body) {
		if v, ok := strings.CutPrefix(line, "imisgw_ussd_session_conflicts_total "); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				g.t.Fatalf("metric: %q", line)
			}
			return n
		}
	}
	g.t.Fatal("no imisgw_ussd_session_conflicts_total in /metrics")
	return 0
}

// TestDivergentTranscriptIsRefusedWithoutTouchingTheSession: a late hop whose
// text does not extend the last answered one gets END, and the session goes
// on from where the newer hop left it.
func TestDivergentTranscriptIsRefusedWithoutTouchingTheSession(t *testing.T) {
	g := newGateway(t, harness{})
	s := "ATUid_divergent"
	mustCON(t, g.hop(s, stranger, ""))
	mustCON(t, g.hop(s, stranger, "1"))
	if msg := mustEND(t, g.hop(s, stranger, "2*5")); !strings.Contains(msg, "dial again") {
		t.Fatalf("divergent: %q", msg)
	}
	mustEND(t, g.hop(s, stranger, "1*48213"))
}

func TestSessionIsBoundToItsPhone(t *testing.T) {
	g := newGateway(t, harness{})
	s := "ATUid_bound"
	mustCON(t, g.hop(s, stranger, ""))
	if msg := mustEND(t, g.hop(s, "+255799999999", "1")); !strings.Contains(msg, "dial again") {
		t.Fatalf("another phone in the session: %q", msg)
	}
	mustCON(t, g.hop(s, stranger, "1"))
}

func TestNameIsShownToTheFamilyHead(t *testing.T) {
	g := newGateway(t, harness{})
	// 101203404 is a child without a phone; the head's phone is 0712 111 222.
	answer := mustEND(t, g.hop("ATUid_head", "+255712111222", "1*101203404"))
	if !strings.Contains(answer, "Neema Juma Mrisho") {
		t.Fatalf("head does not see the child's name: %q", answer)
	}
}

func TestBadInputGetsAClearAnswer(t *testing.T) {
	g := newGateway(t, harness{})
	const form = "application/x-www-form-urlencoded"
	valid := "sessionId=ATUid_bad&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text="
	cases := []struct {
		name        string
		contentType string
		body        string
		status      int
	}{
		{"missing sessionId", form, "serviceCode=%2A384%23&phoneNumber=%2B255712345678&text=", http.StatusBadRequest},
		{"missing phoneNumber", form, "sessionId=ATUid_x&serviceCode=%2A384%23&text=", http.StatusBadRequest},
		{"malformed phone", form, "sessionId=ATUid_x&serviceCode=%2A384%23&phoneNumber=hello&text=", http.StatusBadRequest},
		{"invalid UTF-8 in the session id", form, "sessionId=ATUid_%FF&serviceCode=%2A384%23&phoneNumber=%2B255712345678&text=", http.StatusBadRequest},
		{"JSON body", "application/json", `{"sessionId":"x"}`, http.StatusBadRequest},
		{"empty body", form, "", http.StatusBadRequest},
		{"body over 64 KiB", form, valid + strings.Repeat("1", 70<<10), http.StatusRequestEntityTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := g.post("/ussd/africastalking/"+token, c.contentType, c.body)
			if r.status != c.status {
				t.Fatalf("status %d, want %d (%q)", r.status, c.status, r.body)
			}
			if strings.Contains(r.body, "goroutine") || strings.Contains(r.body, ".go:") {
				t.Fatalf("internals leaked: %q", r.body)
			}
		})
	}

	s := "ATUid_digits"
	mustCON(t, g.hop(s, stranger, ""))
	mustCON(t, g.hop(s, stranger, "1"))
	long := mustCON(t, g.hop(s, stranger, "1*"+strings.Repeat("7", 1000)))
	if !strings.Contains(long, "letters or digits") {
		t.Fatalf("1,000-digit input: %q", long)
	}
	odd := mustCON(t, g.hop(s, stranger, "1*"+strings.Repeat("7", 1000)+"*12#!"))
	if !strings.Contains(odd, "letters or digits") {
		t.Fatalf("punctuation: %q", odd)
	}
}

func TestWrongTokenIs404WithNoBody(t *testing.T) {
	g := newGateway(t, harness{})
	for _, path := range []string{"/ussd/africastalking/wrong", "/ussd/africastalking/" + token + "x", "/ussd/africastalking/wrong/events", "/ussd/nobody/" + token} {
		r := g.post(path, "application/x-www-form-urlencoded", "sessionId=a&serviceCode=b&phoneNumber=%2B255712345678&text=")
		if r.status != http.StatusNotFound || r.body != "" {
			t.Errorf("%s: %d %q, want 404 with no body", path, r.status, r.body)
		}
	}
}

// TestSessionEndEventOnlyCleansUp: AT's end-of-session notification deletes
// the session and is acknowledged; a hop arriving after it starts afresh.
func TestSessionEndEventOnlyCleansUp(t *testing.T) {
	g := newGateway(t, harness{})
	s := "ATUid_ended"
	mustCON(t, g.hop(s, stranger, ""))
	mustCON(t, g.hop(s, stranger, "1"))
	ev := "date=2026-09-29+12%3A00%3A00&sessionId=" + s + "&serviceCode=%2A384%2A1234%23&networkCode=64004" +
		"&phoneNumber=%2B255700000001&status=Incomplete&cost=TZS+0.00&durationInMillis=30211&hopsCount=2" +
		"&hopsMetadata=main%7Cmembership&input=1&lastAppResponse=CON+Enter+insurance+number&errorMessage="
	r := g.post("/ussd/africastalking/"+token+"/events", "application/x-www-form-urlencoded", ev)
	if r.status != http.StatusOK || r.body != "OK" || r.contentType != "text/plain; charset=utf-8" {
		t.Fatalf("event: %d %q %q", r.status, r.contentType, r.body)
	}
	if r := g.post("/ussd/africastalking/"+token+"/events", "application/x-www-form-urlencoded", "status=Success"); r.status != http.StatusBadRequest {
		t.Fatalf("event without sessionId: %d", r.status)
	}
	if menu := mustCON(t, g.hop(s, stranger, "")); !strings.Contains(menu, "1. Check membership") {
		t.Fatalf("late hop after the end: %q", menu)
	}
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	g := newGateway(t, harness{})
	if r := g.get("/healthz"); r.status != http.StatusOK {
		t.Fatalf("healthz: %d", r.status)
	}
	if r := g.get("/readyz"); r.status != http.StatusOK || !strings.Contains(r.body, `"redis":"ok"`) || !strings.Contains(r.body, `"postgres":"ok"`) {
		t.Fatalf("readyz: %d %s", r.status, r.body)
	}
	mustCON(t, g.hop("ATUid_metrics", stranger, ""))
	if r := g.get("/metrics"); !strings.Contains(r.body, `imisgw_ussd_hop_duration_seconds_count{outcome="answered",provider="africastalking"} 1`) {
		t.Fatalf("metrics: %s", r.body)
	}
}
