package menus

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/openimis"
)

// fakeLimiter allows the first allow look-ups and refuses the rest for
// 20 minutes, recording each call.
type fakeLimiter struct {
	mu    sync.Mutex
	allow int
	err   error
	calls []limitCall
}

type limitCall struct {
	phone   string
	officer bool
}

func (f *fakeLimiter) AllowLookup(_ context.Context, phone string, officer bool) (bool, time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, limitCall{phone, officer})
	if f.err != nil {
		return false, 0, f.err
	}
	if len(f.calls) > f.allow {
		return false, 20 * time.Minute, nil
	}
	return true, 0, nil
}

func (f *fakeLimiter) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// Two families: Amina's (the officer's area) and one of another village.
const (
	inArea     = "101000001"
	otherArea  = "202000001"
	privateMsg = " are shown only on the phone registered for that insurance number."
	limitMsg   = "Too many numbers checked from this phone. Please try again in 20 minutes."
)

var (
	member       = Caller{Phone: "0765 111 222"} // Amina's son, a phone of his own
	otherFamily  = openimis.Holder{Phone: "0713 000 001", HeadPhone: "0713 000 001", FamilyPhones: []string{"0713 000 001"}, Location: 7}
	accessClaims = &fakeClaims{byCHFID: map[string][]openimis.Claim{inArea: {claimEntered}, otherArea: {claimEntered}}}
)

// holderClaims returns each number's claims with its own holder.
type holderClaims map[string]openimis.Holder

func (h holderClaims) Claims(ctx context.Context, chfid string, limit int) (openimis.ClaimList, error) {
	list, err := accessClaims.Claims(ctx, chfid, limit)
	if holder, ok := h[chfid]; ok {
		list.Holder = holder
	}
	return list, err
}

func newAccessEngine(opt Options) *Engine {
	src := newFake()
	src.byCHFID[otherArea] = openimis.Coverage{CHFID: otherArea, LastName: "Other", OtherNames: "Family", Holder: otherFamily,
		Policies: []openimis.PolicyCoverage{basicCovered}}
	officers, renewals := newFakeRenewals()
	opt.Officers, opt.Renewals = officers, renewals
	return newFullEngine(src, holderClaims{otherArea: otherFamily}, &fakeLanguages{}, opt)
}

func TestClaimsVisibility(t *testing.T) {
	callers := []struct {
		name   string
		caller Caller
		chfid  string
		sees   [4]bool // insured, family, officers, anyone
	}{
		{"the insuree's phone", insuree, inArea, [4]bool{true, true, true, true}},
		{"the head's phone", head, inArea, [4]bool{true, true, true, true}},
		{"a member's phone", member, inArea, [4]bool{false, true, true, true}},
		{"an officer of the family's area", officer, inArea, [4]bool{true, true, true, true}},
		{"an officer of another area", officer, otherArea, [4]bool{false, false, true, true}},
		{"a stranger", stranger, inArea, [4]bool{false, false, false, true}},
		{"the insuree's phone, another family", insuree, otherArea, [4]bool{false, false, false, true}},
	}
	for v := ClaimsToInsured; v <= ClaimsToAnyone; v++ {
		e := newAccessEngine(Options{ClaimsVisibleTo: v})
		for _, c := range callers {
			want := "Claims of " + c.chfid + privateMsg
			if c.sees[v] {
				want = "Latest claim:\nMKH00342 11 Jun 2026\nMakole Health Centre\nReceived"
			}
			if r := sms(t, e, c.caller.Phone, "CLAIMS "+c.chfid); r.Text != want {
				t.Errorf("%s, %s, SMS: %q\nwant %q", v, c.name, r.Text, want)
			}
			if _, screens := walk(t, e, c.caller, nil, "2", c.chfid); last(screens) != (Screen{Text: want, End: true}) {
				t.Errorf("%s, %s, USSD: %+v\nwant %q", v, c.name, last(screens), want)
			}
		}
	}
	// An unknown number is answered as a known one is, but where anyone
	// may see claims.
	e := newAccessEngine(Options{})
	if r := sms(t, e, insuree.Phone, "CLAIMS 999"); r.Text != "Claims of 999"+privateMsg {
		t.Errorf("unknown number: %q", r.Text)
	}
	e = newAccessEngine(Options{ClaimsVisibleTo: ClaimsToAnyone})
	if r := sms(t, e, insuree.Phone, "CLAIMS 999"); r.Text != "No insuree has number 999." {
		t.Errorf("unknown number, claims to anyone: %q", r.Text)
	}
}

// A crafted state cannot page through claims the caller may not see.
func TestClaimsListChecksTheCaller(t *testing.T) {
	e := newAccessEngine(Options{})
	st := State{Node: NodeClaimsList, Back: []string{NodeMain, NodeClaimsAsk}, ID: inArea}
	_, scr, err := e.Next(context.Background(), stranger, st, "98")
	if err != nil || strings.Contains(scr.Text, "MKH00342") || !strings.HasPrefix(scr.Text, "Claims of "+inArea+privateMsg) {
		t.Errorf("%q, %v", scr.Text, err)
	}
}

func TestParseClaimsVisibility(t *testing.T) {
	for in, want := range map[string]ClaimsVisibility{"": ClaimsToInsured, "insured": ClaimsToInsured, " Family ": ClaimsToFamily,
		"officers": ClaimsToOfficers, "ANYONE": ClaimsToAnyone} {
		if got, err := ParseClaimsVisibility(in); err != nil || got != want {
			t.Errorf("ParseClaimsVisibility(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"all", "head", "1"} {
		if _, err := ParseClaimsVisibility(bad); err == nil {
			t.Errorf("ParseClaimsVisibility(%q): no error", bad)
		}
	}
}

func TestLookupLimit(t *testing.T) {
	ctx := context.Background()
	t.Run("own family is never counted", func(t *testing.T) {
		lim := &fakeLimiter{}
		e := newAccessEngine(Options{Lookups: lim})
		for _, c := range []Caller{insuree, head, member, officer} {
			walk(t, e, c, nil, "1", inArea)
			walk(t, e, c, []string{"1", inArea})
			sms(t, e, c.Phone, "CHECK "+inArea)
			walk(t, e, c, nil, "2", inArea)
			sms(t, e, c.Phone, "CLAIMS "+inArea)
		}
		if n := lim.count(); n != 0 {
			t.Errorf("%d look-ups counted: %+v", n, lim.calls)
		}
	})

	t.Run("everything else is, found or not, and the limit holds", func(t *testing.T) {
		lim := &fakeLimiter{allow: 5}
		e := newAccessEngine(Options{Lookups: lim})
		// Five look-ups: two numbers in one session, a route, an SMS, a claims list.
		_, screens := walk(t, e, stranger, nil, "1", "999", inArea)
		if !strings.HasPrefix(screens[2].Text, "No insuree has number 999.") || !strings.HasPrefix(last(screens).Text, "A*** J***") {
			t.Fatalf("%+v", screens)
		}
		walk(t, e, stranger, []string{"1", otherArea})
		if r := sms(t, e, stranger.Phone, "CHECK 101000004"); !strings.HasPrefix(r.Text, "A*** J***") {
			t.Fatalf("%q", r.Text)
		}
		walk(t, e, stranger, nil, "2", inArea)
		if n := lim.count(); n != 5 {
			t.Fatalf("%d look-ups counted, want 5: %+v", n, lim.calls)
		}
		// Over the limit: when to try again, and nothing else, by USSD and SMS.
		over := Screen{Text: limitMsg, End: true}
		for _, route := range [][]string{{"1", inArea}, {"1", "999"}, {"2", inArea}} {
			if _, screens := walk(t, e, stranger, nil, route...); last(screens) != over {
				t.Errorf("%q: %+v", route, last(screens))
			}
			if _, screens := walk(t, e, stranger, route); last(screens) != over {
				t.Errorf("route %q: %+v", route, last(screens))
			}
		}
		for _, text := range []string{"CHECK 101000001", "CHECK 999", "CLAIMS 101000001"} {
			if r := sms(t, e, stranger.Phone, text); r.Text != limitMsg {
				t.Errorf("%q: %q", text, r.Text)
			}
		}
		// The insuree's own family stays open to her.
		if _, screens := walk(t, e, insuree, nil, "1", inArea); !strings.HasPrefix(last(screens).Text, "Amina Juma") {
			t.Errorf("owner over someone else's limit: %q", last(screens).Text)
		}
		for _, c := range lim.calls {
			if c.phone != stranger.Phone || c.officer {
				t.Errorf("counted %+v", c)
			}
		}
	})

	t.Run("an officer outside the area counts as an officer", func(t *testing.T) {
		lim := &fakeLimiter{allow: 10}
		e := newAccessEngine(Options{Lookups: lim})
		walk(t, e, officer, nil, "1", otherArea)
		if len(lim.calls) != 1 || lim.calls[0] != (limitCall{"+255767890123", true}) {
			t.Errorf("%+v", lim.calls)
		}
	})

	t.Run("an officer's renewal look-ups outside the area count", func(t *testing.T) {
		lim := &fakeLimiter{allow: 1}
		officers, renewals := newFakeRenewals()
		renewals.refuse["303000001"] = openimis.ErrOutsideArea
		e := newFullEngine(newFake(), newFakeClaims(), &fakeLanguages{}, Options{Lookups: lim, Officers: officers, Renewals: renewals})
		// A family of the area, twice: not counted.
		for range 2 {
			if _, screens := walk(t, e, officer, nil, "3", "604120019"); last(screens).End {
				t.Fatalf("in the area: %+v", last(screens))
			}
		}
		// An unknown number, then a family of another area: the second is over.
		if _, screens := walk(t, e, officer, nil, "3", "999"); !strings.HasPrefix(last(screens).Text, "No insuree has number 999.") {
			t.Errorf("unknown: %+v", last(screens))
		}
		if _, screens := walk(t, e, officer, nil, "3", "303000001"); last(screens) != (Screen{Text: limitMsg, End: true}) {
			t.Errorf("over the limit: %+v", last(screens))
		}
		if r := sms(t, e, officer.Phone, "RENEW 303000001 37000 RC-X1"); r.Text != limitMsg {
			t.Errorf("RENEW over the limit: %q", r.Text)
		}
		if len(lim.calls) != 3 || !lim.calls[0].officer {
			t.Errorf("%+v", lim.calls)
		}
	})

	t.Run("paging a list counts once", func(t *testing.T) {
		lim := &fakeLimiter{allow: 10}
		e := newFullEngine(newFake(), newFakeClaims(), &fakeLanguages{}, Options{Lookups: lim, ClaimsVisibleTo: ClaimsToAnyone})
		walk(t, e, stranger, nil, "2", "101203401", "98", "98", "0")
		if n := lim.count(); n != 1 {
			t.Errorf("%d look-ups counted for one list", n)
		}
	})

	t.Run("a failing limiter fails the hop", func(t *testing.T) {
		boom := errors.New("redis down")
		e := newAccessEngine(Options{Lookups: &fakeLimiter{err: boom}})
		st, _, _ := e.Begin(ctx, stranger, []string{"1"})
		if _, scr, err := e.Next(ctx, stranger, st, inArea); !errors.Is(err, boom) || scr.Text != "Service temporarily unavailable, please try again." {
			t.Errorf("%+v, %v", scr, err)
		}
		if r, err := e.SMS(ctx, SMSRequest{From: stranger.Phone, Text: "CHECK " + inArea}); !errors.Is(err, boom) || strings.Contains(r.Text, "J***") {
			t.Errorf("%+v, %v", r, err)
		}
	})
}

func TestWait(t *testing.T) {
	e := newTestEngine(newFake())
	tests := []struct {
		d          time.Duration
		en, sw, fr string
	}{
		{0, "1 minute", "dakika 1", "1 minute"},
		{59 * time.Second, "1 minute", "dakika 1", "1 minute"},
		{6*time.Minute + time.Second, "7 minutes", "dakika 7", "7 minutes"},
		{2 * time.Hour, "120 minutes", "dakika 120", "120 minutes"},
		{2*time.Hour + time.Second, "3 hours", "saa 3", "3 heures"},
		{23*time.Hour + 59*time.Minute, "24 hours", "saa 24", "24 heures"},
	}
	for _, tt := range tests {
		for lang, want := range map[string]string{"en": tt.en, "sw": tt.sw, "fr": tt.fr} {
			if got := e.newCall(context.Background(), stranger, lang).wait(tt.d); got != want {
				t.Errorf("%s wait(%v) = %q, want %q", lang, tt.d, got, want)
			}
		}
	}
}
