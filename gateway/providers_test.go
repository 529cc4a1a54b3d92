package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/menus"
	"github.com/openimis/imis-gateway/openimis"
	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/providers/simphone"
	"github.com/openimis/imis-gateway/sessions/redistest"
)

func phone(t *testing.T, g *testGateway, provider string) *simphone.Phone {
	t.Helper()
	p, err := simphone.New(provider, g.URL, token, stranger, "*384*1234#", nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// screenOf fails t on a transport error and returns the screen.
func screenOf(t *testing.T) func(simphone.Screen, error) simphone.Screen {
	return func(s simphone.Screen, err error) simphone.Screen {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

// TestMembershipCheckThroughEveryWireFormat walks the same membership check
// through each aggregator's own format: dial, "1", the insurance number, and
// a pre-dialled route.
func TestMembershipCheckThroughEveryWireFormat(t *testing.T) {
	g := newGateway(t, harness{})
	ctx := context.Background()
	for _, provider := range simphone.Providers {
		t.Run(provider, func(t *testing.T) {
			p, must := phone(t, g, provider), screenOf(t)
			if s := must(p.Dial(ctx, "")); s.End || !strings.Contains(s.Text, "1. Check membership") {
				t.Fatalf("dial: %+v", s)
			}
			if s := must(p.Send(ctx, "1")); s.End || !strings.Contains(s.Text, "insurance number") {
				t.Fatalf("1: %+v", s)
			}
			s := must(p.Send(ctx, "101203401"))
			if !s.End || !strings.Contains(s.Text, "101203401") || !strings.Contains(s.Text, "covered until") {
				t.Fatalf("answer: %+v", s)
			}

			if provider == "beem" {
				return // Beem's initiate carries no dial string, so no route
			}
			s = must(p.Dial(ctx, "1*48213"))
			// Infobip keeps the first screen of a session open whatever we say.
			if (!s.End && provider != "infobip") || !strings.Contains(s.Text, "48213") {
				t.Fatalf("pre-dialled route: %+v", s)
			}
		})
	}
}

// TestRetriesReplayAndEndSignalsOnlyCleanUp: a start or a hop sent twice is
// answered once; an end signal deletes the session and writes nothing.
func TestRetriesReplayAndEndSignalsOnlyCleanUp(t *testing.T) {
	g := newGateway(t, harness{})
	ctx := context.Background()
	for _, provider := range simphone.Providers {
		t.Run(provider, func(t *testing.T) {
			p, must := phone(t, g, provider), screenOf(t)
			first := must(p.Dial(ctx, ""))
			if again := must(p.Retry(ctx)); again != first {
				t.Fatalf("retried start: %+v vs %+v", again, first)
			}
			ask := must(p.Send(ctx, "1"))
			if !strings.Contains(ask.Text, "insurance number") {
				t.Fatalf("after a retried start, 1 gave %+v", ask)
			}
			if provider == "africastalking" || provider == "hubtel" {
				// Their hops carry a key of their own (transcript, Sequence): a
				// retry after the answer still replays.
				if again := must(p.Retry(ctx)); again != ask {
					t.Fatalf("retried hop: %+v vs %+v", again, ask)
				}
			}
			if err := p.Hangup(ctx); err != nil {
				t.Fatal(err)
			}
			if provider == "infobip" {
				r := g.get("/ussd/infobip/" + token + "/session/" + p.Session() + "/status")
				if !strings.Contains(r.body, `"sessionActive":false`) {
					t.Fatalf("status after end: %q", r.body)
				}
			}
		})
	}
}

// TestHubtelLateSequenceIsRefused: a hop whose Sequence the session has
// already passed, with other content, is late and must not step the menu.
func TestHubtelLateSequenceIsRefused(t *testing.T) {
	g := newGateway(t, harness{})
	hop := func(typ string, seq int, msg string) string {
		r := g.post("/ussd/hubtel/"+token, "application/json", fmt.Sprintf(
			`{"SessionId":"late-hubtel","Mobile":"255700000001","ServiceCode":"384*1234","Type":%q,"Message":%q,"Operator":"vodafone","ClientState":"","Sequence":%d,"Platform":"USSD"}`,
			typ, msg, seq))
		if r.status != http.StatusOK {
			t.Fatalf("status %d", r.status)
		}
		return r.body
	}
	hop("Initiation", 1, "*384*1234#")
	hop("Response", 2, "1")
	hop("Response", 3, "0")
	if late := hop("Response", 2, "7"); !strings.Contains(late, `"Type":"Release"`) || !strings.Contains(late, "dial again") {
		t.Fatalf("late hop: %s", late)
	}
}

// TestLostSessionIsToldToDialAgain: a last-only hop of a session Redis no
// longer holds (expired, or lost in a failover) carries an input typed on a
// screen the gateway cannot know. It is applied to none: the caller is told to
// dial again, and nothing is saved for the session.
func TestLostSessionIsToldToDialAgain(t *testing.T) {
	g := newGateway(t, harness{})
	hop := func(typ string, seq int, msg string) string {
		r := g.post("/ussd/hubtel/"+token, "application/json", fmt.Sprintf(
			`{"SessionId":"lost-hubtel","Mobile":"255700000001","ServiceCode":"384*1234","Type":%q,"Message":%q,"Operator":"vodafone","ClientState":"","Sequence":%d,"Platform":"USSD"}`,
			typ, msg, seq))
		if r.status != http.StatusOK {
			t.Fatalf("status %d", r.status)
		}
		return r.body
	}
	hop("Initiation", 1, "*384*1234#")
	hop("Response", 2, "1")
	if err := g.sessions.End(context.Background(), "hubtel", "lost-hubtel"); err != nil {
		t.Fatal(err)
	}
	if lost := hop("Response", 3, "101203401"); !strings.Contains(lost, `"Type":"Release"`) || !strings.Contains(lost, "dial again") {
		t.Fatalf("hop of a lost session: %s", lost)
	}
	if active, err := g.sessions.Active(context.Background(), "hubtel", "lost-hubtel"); err != nil || active {
		t.Fatalf("a lost session was saved again (active %v, err %v)", active, err)
	}
	if !strings.Contains(g.get("/metrics").body, `outcome="lost"`) {
		t.Error(`no hop counted with outcome="lost" in /metrics`)
	}
}

// TestCopiesOfAHopInFlightAnswerAlike: an aggregator that retries before the
// first answer arrives sends copies of a hop at once. While they are all in
// flight (held at the coverage query), none knows the others' answer; every
// wire, with or without a key of its own, must still answer them alike and
// step the menu once.
func TestCopiesOfAHopInFlightAnswerAlike(t *testing.T) {
	dbURL := seededDatabase(t)
	store, err := policystore.Open(context.Background(), dbURL, policystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	gate := &gatedSource{CoverageSource: store}
	g := newGateway(t, harness{databaseURL: dbURL, source: gate})
	ctx := context.Background()
	for _, provider := range simphone.Providers {
		t.Run(provider, func(t *testing.T) {
			p, must := phone(t, g, provider), screenOf(t)
			must(p.Dial(ctx, ""))
			must(p.Send(ctx, "1"))
			const n = 5
			arrived, release := gate.arm()
			done := make(chan []simphone.Screen)
			go func() {
				copies, err := p.SendCopies(ctx, "101203401", n)
				if err != nil {
					t.Error(err)
				}
				done <- copies
			}()
			// The locked way lets one copy in at a time; from memory all go.
			timeout := time.After(time.Second)
		wait:
			for range n {
				select {
				case <-arrived:
				case <-timeout:
					break wait
				}
			}
			close(release)
			copies := <-done
			for _, c := range copies {
				if c != copies[0] || !c.End || !strings.Contains(c.Text, "covered") {
					t.Fatalf("copies answered %+v", copies)
				}
			}
			key := g.prefix + ":{" + provider + ":" + p.Session() + "}:s"
			if hops, err := redistest.Client(t).HGet(ctx, key, "h").Result(); err != nil || hops != "3" {
				t.Fatalf("hops answered: %q, %v; want 3 (dial, 1, the number once)", hops, err)
			}
		})
	}
}

// gatedSource holds coverage queries, once armed, until released.
type gatedSource struct {
	menus.CoverageSource
	mu               sync.Mutex
	arrived, release chan struct{}
}

func (g *gatedSource) arm() (arrived <-chan struct{}, release chan<- struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.arrived, g.release = make(chan struct{}, 100), make(chan struct{})
	return g.arrived, g.release
}

func (g *gatedSource) Coverage(ctx context.Context, chfid string, today time.Time) (openimis.Coverage, error) {
	g.mu.Lock()
	arrived, release := g.arrived, g.release
	g.mu.Unlock()
	if release != nil {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
			return openimis.Coverage{}, ctx.Err()
		}
	}
	return g.CoverageSource.Coverage(ctx, chfid, today)
}
