package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/providers/simphone"
)

const offerText = "2. Start over"

// TestResumeAcrossInstances: a renewal dropped on one instance (no further hop, or the aggregator's
// end notice) is offered on the officer's next session on another; a retried first hop replays the
// offer without consuming it; "1" continues where the officer was, with the number and receipt
// entered, and the inputs that follow are the resumed session's, whatever the wire: accumulated
// (Africa's Talking), last-only with a sequence (Hubtel) or counted (Nalo). Once the officer is
// back at the main menu, nothing is offered.
func TestResumeAcrossInstances(t *testing.T) {
	databaseURL := seededDatabase(t)
	ctx := context.Background()
	for _, provider := range []string{"africastalking", "hubtel", "nalo"} {
		for _, endNotice := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s end notice %v", provider, endNotice), func(t *testing.T) {
				a := newGateway(t, harness{databaseURL: databaseURL, renewals: true})
				b := newGateway(t, harness{databaseURL: databaseURL, renewals: true, prefix: a.prefix})
				onA, onB, must := simphoneOf(t, a, provider, officerEO001), simphoneOf(t, b, provider, officerEO001), screenOf(t)
				must(onA.Dial(ctx, ""))
				for _, in := range []string{"3", "604120019"} {
					must(onA.Send(ctx, in))
				}
				if s := must(onA.Send(ctx, "RC-3001")); !strings.Contains(s.Text, "Enter the amount paid:") {
					t.Fatalf("receipt: %+v", s)
				}
				if endNotice {
					if err := onA.Hangup(ctx); err != nil {
						t.Fatal(err)
					}
				}

				offer := must(onB.Dial(ctx, ""))
				if offer.End || !strings.Contains(offer.Text, "1. Continue: renewal, amount") || !strings.Contains(offer.Text, offerText) {
					t.Fatalf("offer: %+v", offer)
				}
				if again := must(onB.Retry(ctx)); again != offer {
					t.Fatalf("retried first hop: %+v, want the offer %+v", again, offer)
				}
				if s := must(onB.Send(ctx, "1")); s.End || !strings.Contains(s.Text, "Enter the amount paid:") {
					t.Fatalf("continue: %+v", s)
				}
				s := must(onB.Send(ctx, quoteFor(t, a.store, officerEO001, "604120019", "").Value.String()))
				if s.End || !strings.Contains(s.Text, "RC-3001") || !strings.Contains(s.Text, "1. Confirm") {
					t.Fatalf("resumed summary: %+v", s)
				}
				must(onB.Send(ctx, "00"))
				if s := must(onA.Dial(ctx, "")); strings.Contains(s.Text, offerText) {
					t.Fatalf("offered after the main menu: %+v", s)
				}
			})
		}
	}
}

// TestResumeStartOver: "2" starts over at the main menu, and the dropped session is offered no
// more.
func TestResumeStartOver(t *testing.T) {
	g := newGateway(t, harness{renewals: true})
	ctx := context.Background()
	p, must := simphoneOf(t, g, "hubtel", officerEO001), screenOf(t)
	must(p.Dial(ctx, ""))
	must(p.Send(ctx, "3"))
	must(p.Send(ctx, "604120019"))
	if s := must(p.Dial(ctx, "")); !strings.Contains(s.Text, "1. Continue: renewal, receipt") {
		t.Fatalf("offer: %+v", s)
	}
	if s := must(p.Send(ctx, "2")); s.End || !strings.Contains(s.Text, "3. Renew policy") {
		t.Fatalf("start over: %+v", s)
	}
	if s := must(p.Dial(ctx, "")); !strings.Contains(s.Text, "3. Renew policy") {
		t.Fatalf("after starting over: %+v", s)
	}
}

// TestResumedRenewalShowsTheSummaryAgain: a renewal dropped on its summary is resumed on the
// summary, byte for byte, on another instance; resuming writes nothing, and the renewal is written
// once when the officer confirms again.
func TestResumedRenewalShowsTheSummaryAgain(t *testing.T) {
	a := newGateway(t, harness{renewals: true})
	b := newGateway(t, harness{renewals: true, databaseURL: a.databaseURL, prefix: a.prefix})
	quote := quoteFor(t, a.store, officerEO001, "604120019", "")
	before := policiesOf(t, a.store.Pool(), "604120019")

	entered := "3*604120019*RC-2001*" + quote.Value.String()
	s := "ATUid_resume_renewal_1"
	for _, text := range []string{"", "3", "3*604120019", "3*604120019*RC-2001"} {
		mustCON(t, a.hop(s, officerEO001, text))
	}
	summary := a.hop(s, officerEO001, entered)
	if !strings.Contains(mustCON(t, summary), "1. Confirm") {
		t.Fatalf("summary: %q", summary.body)
	}

	s2 := "ATUid_resume_renewal_2"
	offer := b.hop(s2, officerEO001, "")
	if !strings.Contains(mustCON(t, offer), "1. Continue: renewal, confirm") {
		t.Fatalf("offer: %q", offer.body)
	}
	if again := b.hop(s2, officerEO001, ""); again != offer {
		t.Fatalf("retried first hop: %q, want %q", again.body, offer.body)
	}
	if again := b.hop(s2, officerEO001, "1"); again != summary {
		t.Fatalf("resumed: %q, want the summary %q", again.body, summary.body)
	}
	if n := policiesOf(t, a.store.Pool(), "604120019"); n != before {
		t.Fatalf("policies %d → %d on resuming, want none written", before, n)
	}
	if done := mustEND(t, a.hop(s2, officerEO001, "1*1")); !strings.Contains(done, "renewed") {
		t.Fatalf("confirmed: %q", done)
	}
	if n := policiesOf(t, a.store.Pool(), "604120019"); n != before+1 {
		t.Fatalf("policies %d → %d, want one more", before, n)
	}
	if menu := mustCON(t, b.hop("ATUid_resume_renewal_3", officerEO001, "")); strings.Contains(menu, offerText) {
		t.Fatalf("renewed session offered: %q", menu)
	}
}

// TestResumeOffered: which dropped sessions are offered on the caller's next dial (Africa's
// Talking), with the window and without.
func TestResumeOffered(t *testing.T) {
	databaseURL := seededDatabase(t)
	receipt := []string{"", "3", "3*604120019"} // an officer asked for a receipt
	tests := []struct {
		name    string
		caller  string
		window  time.Duration
		wait    time.Duration
		first   []string // the first session's transcripts, hop by hop
		offered bool
	}{
		{name: "dropped on a renewal", caller: officerEO001, first: receipt, offered: true},
		{name: "dropped on a list of claims", caller: headA, first: []string{"", "2", "2*101203401"}, offered: true},
		{name: "the window passed", caller: officerEO001, window: 300 * time.Millisecond, wait: 450 * time.Millisecond, first: receipt},
		{name: "within a short window", caller: officerEO001, window: 2 * time.Second, first: receipt, offered: true},
		{name: "RESUME_WINDOW=0", caller: officerEO001, window: -1, first: receipt},
		{name: "refused", caller: officerEO001, first: append(receipt, "2*5")},
		{name: "back at the main menu", caller: officerEO001, first: append(receipt, "3*604120019*00")},
		{name: "a family outside the officer's area", caller: officerEO003, first: receipt},
		{name: "never left the main menu", caller: officerEO001, first: []string{"", "9"}},
		{name: "one key from the main menu", caller: officerEO001, first: []string{"", "3"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGateway(t, harness{databaseURL: databaseURL, resumeWindow: tt.window, renewals: true})
			s := fmt.Sprintf("ATUid_offered_%d", i)
			for _, text := range tt.first {
				g.hop(s, tt.caller, text)
			}
			time.Sleep(tt.wait)
			next := mustCON(t, g.hop(s+"_next", tt.caller, ""))
			if offered := strings.Contains(next, offerText); offered != tt.offered {
				t.Fatalf("offered %v, want %v:\n%s", offered, tt.offered, next)
			}
		})
	}
}

// simphoneOf is a phone of msisdn on g's aggregator provider.
func simphoneOf(t *testing.T, g *testGateway, provider, msisdn string) *simphone.Phone {
	t.Helper()
	p, err := simphone.New(provider, g.URL, token, msisdn, "*384*1234#", nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
