package menus

import (
	"context"
	"strings"
	"testing"
)

// TestResumeOffer: the offer says where the caller was; "1" shows that screen again with what had
// been typed, a renewal's summary included, never confirming it; "2" starts over; anything else
// asks again.
func TestResumeOffer(t *testing.T) {
	ctx := context.Background()
	e, _, renewals := newRenewEngine(Options{})
	// An officer who had entered a family, a receipt and an amount: the summary.
	st, _, err := e.Begin(ctx, officer, []string{"3", "604120019", "R-77", "37000"})
	if err != nil || st.Node != NodeRenewConfirm {
		t.Fatalf("renewal entered: %+v %v", st, err)
	}
	_, summaryScreen, _ := e.render(e.newCall(ctx, officer, ""), st, "")

	tests := []struct {
		name     string
		saved    State
		input    string
		wantNode string
		want     string // a line of the screen after the input
	}{
		{"continue a renewal: the summary again", st, "1", NodeRenewConfirm, "R-77"},
		{"start over", st, "2", NodeMain, "1. Check membership"},
		{"a wrong choice asks again", st, "7", NodeResume, "Invalid choice."},
		{"continue a renewal at its amount", State{Node: NodeRenewAmount, Back: []string{NodeMain, NodeRenewAsk, NodeRenewReceipt},
			Lang: "en", Renew: Renewal{CHFID: "604120019", Product: "FAM01", Due: 37000_00, Receipt: "R-78"}}, "1", NodeRenewAmount, "Enter the amount paid:"},
		{"back from the offer is the main menu", st, "0", NodeMain, "1. Check membership"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offer, scr, err := e.Offer(ctx, officer, tt.saved)
			if err != nil || scr.End || !offer.Offering() {
				t.Fatalf("offer: %+v %+v %v", offer, scr, err)
			}
			where := e.cat.text("en", whereMsgs[tt.saved.Node], nil)
			if !strings.Contains(scr.Text, "1. Continue: "+where) || !strings.Contains(scr.Text, "2. Start over") {
				t.Errorf("offer:\n%s", scr.Text)
			}
			next, scr, err := e.Next(ctx, officer, offer, tt.input)
			if err != nil || next.Node != tt.wantNode || !strings.Contains(scr.Text, tt.want) {
				t.Errorf("after %q: %s, want %s with %q:\n%s (%v)", tt.input, next.Node, tt.wantNode, tt.want, scr.Text, err)
			}
			if tt.wantNode == NodeRenewConfirm {
				if next.Renew != st.Renew || scr != summaryScreen {
					t.Errorf("resumed renewal %+v:\n%s\nwant %+v:\n%s", next.Renew, scr.Text, st.Renew, summaryScreen.Text)
				}
				if next, _, _ = e.Next(ctx, officer, next, "1"); len(renewals.requests) != 1 {
					t.Errorf("confirmed after resuming: %d renewals written, want 1", len(renewals.requests))
				}
			}
			if len(renewals.requests) > 1 || (tt.wantNode != NodeRenewConfirm && len(renewals.requests) != 0) {
				t.Errorf("%d renewals written", len(renewals.requests))
			}
			renewals.requests = nil
		})
	}
}

// TestResumable: the screens that hold what the caller typed are worth resuming, when the engine
// has them; an offer of anything else is the main menu.
func TestResumable(t *testing.T) {
	ctx := context.Background()
	full, _, _ := newRenewEngine(Options{})
	bare := New(newFake(), Options{})
	for node := range full.nodes {
		want := node == NodeClaimsList || strings.HasPrefix(node, "renew.") && node != NodeRenewAsk
		if got := full.Resumable(State{Node: node}); got != want {
			t.Errorf("Resumable(%s) = %v, want %v", node, got, want)
		}
		if _, ok := bare.nodes[node]; !ok && bare.Resumable(State{Node: node}) {
			t.Errorf("%s resumable on an engine without it", node)
		}
	}
	for _, st := range []State{{Node: NodeResume}, {Node: NodeResume, Resume: &State{Node: NodeRenewAmount}}} {
		got, scr, err := bare.Next(ctx, Caller{Phone: stranger.Phone}, st, "1")
		if err != nil || got.Node != NodeMain || !strings.Contains(scr.Text, "1. Check membership") {
			t.Errorf("offer %+v answered 1: %+v\n%s", st, got, scr.Text)
		}
	}
}
