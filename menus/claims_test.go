package menus

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/openimis/imis-gateway/openimis"
)

const (
	fullMainMenu = "Health insurance\n1. Check membership\n2. Claim status\n3. Language"
	navMore      = "98 More 0 Back 00 Menu"
	navLast      = "0 Back 00 Menu"
)

// newClaimsEngine shows claims to anyone: these tests are about the list
// and its screens, access_test.go about who sees it.
func newClaimsEngine(claims *fakeClaims) *Engine {
	return newFullEngine(newFake(), claims, &fakeLanguages{}, Options{ClaimsVisibleTo: ClaimsToAnyone})
}

func TestClaimStatusScreens(t *testing.T) {
	tests := []struct {
		name   string
		chfid  string
		want   string
		end    bool
		node   string
		inputs []string
	}{
		{name: "one claim, long facility name, fits one screen", chfid: "310482231", end: true, node: NodeClaimsAsk,
			want: "Latest claim:\nBUF00412 28 May 2026\nHospitali Teule ya Rufaa ya ...\nRejected"},
		{name: "received", chfid: "120507726", end: true, node: NodeClaimsAsk,
			want: "Latest claim:\nBSW00131 12 Jun 2026\nBuswelu Dispensary\nReceived"},
		{name: "no claims", chfid: "101203402", end: true, node: NodeClaimsAsk,
			want: "No claims for number 101203402."},
		{name: "unknown number: a retry", chfid: "999", node: NodeClaimsAsk,
			want: "No insuree has number 999.\nEnter the insurance number:\n" + navLast},
		{name: "not a number", chfid: "12-3", node: NodeClaimsAsk,
			want: "An insurance number has 1 to 12 letters or digits.\nEnter the insurance number:\n" + navLast},
		{name: "five claims: the first page", chfid: "101203401", node: NodeClaimsList,
			want: "Latest 5 claims:\nMKH00342 11 Jun 2026\nMakole Health Centre\nReceived\n" + navMore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := newFakeClaims()
			e := newClaimsEngine(claims)
			states, screens := walk(t, e, stranger, nil, "2", tt.chfid)
			if screens[1].Text != "Enter the insurance number:\n"+navLast || states[1].Node != NodeClaimsAsk {
				t.Errorf("ask screen %+v %q", states[1], screens[1].Text)
			}
			if got := last(screens); got.Text != tt.want || got.End != tt.end {
				t.Errorf("screen (end %v) =\n%s\nwant (end %v)\n%s", got.End, got.Text, tt.end, tt.want)
			}
			if got := last(states); got.Node != tt.node {
				t.Errorf("node %q, want %q", got.Node, tt.node)
			}
			if calls := claims.callCount(); calls > 1 {
				t.Errorf("%d store calls for one answer", calls)
			}
		})
	}
}

// TestClaimPagination walks a five-claim list forward with 98 and back
// with 0, past both ends.
func TestClaimPagination(t *testing.T) {
	pages := []string{
		"Latest 5 claims:\nMKH00342 11 Jun 2026\nMakole Health Centre\nReceived\n" + navMore,
		"MKH00318 28 May 2026\nMakole Health Centre\nChecked, approved TZS 28,500\n" +
			"MKH00290 8 May 2026\nMakole Health Centre\nRejected\n" + navMore,
		"DRH01022 17 Apr 2026\nDodoma Regional Referral ...\nProcessed, approved TZS 42,000\n" + navMore,
		"DRH00871 20 Feb 2026\nDodoma Regional Referral ...\nValued: TZS 172,500\n" + navLast,
	}
	steps := []struct {
		in   string
		page int
	}{{"98", 1}, {"98", 2}, {"98", 3}, {"98", 3}, {" 98 ", 3}, {"0", 2}, {"0", 1}, {"x", 1}, {"0", 0}}
	claims := newFakeClaims()
	e := newClaimsEngine(claims)
	inputs := []string{"2", "101203401"}
	for _, s := range steps {
		inputs = append(inputs, s.in)
	}
	states, screens := walk(t, e, stranger, nil, inputs...)
	if states[2].Page != 0 || screens[2].Text != pages[0] {
		t.Errorf("first page %+v:\n%s", states[2], screens[2].Text)
	}
	for i, s := range steps {
		st, scr := states[i+3], screens[i+3]
		if st.Node != NodeClaimsList || st.ID != "101203401" || st.Page != s.page {
			t.Errorf("after %q: state %+v, want page %d", inputs[:i+3], st, s.page)
		}
		if scr.Text != pages[s.page] || scr.End {
			t.Errorf("after %q: screen\n%s\nwant\n%s", inputs[:i+3], scr.Text, pages[s.page])
		}
	}
	// One query per screen of the list, none for the question.
	if got := claims.callCount(); got != 1+len(steps) {
		t.Errorf("%d store calls, want %d", got, 1+len(steps))
	}
	// "0" on the first page goes back to the question, then to the menu.
	ctx := context.Background()
	st, scr, _ := e.Next(ctx, stranger, last(states), "0")
	if st.Node != NodeClaimsAsk || st.ID != "" || st.Page != 0 || scr.Text != "Enter the insurance number:\n"+navLast {
		t.Errorf("back from the first page: %+v %q", st, scr.Text)
	}
	st, scr, _ = e.Next(ctx, stranger, st, "0")
	if st.Node != NodeMain || scr.Text != fullMainMenu {
		t.Errorf("back again: %+v %q", st, scr.Text)
	}
}

func TestClaimPaginationEdges(t *testing.T) {
	ctx := context.Background()
	claims := newFakeClaims()
	e := newClaimsEngine(claims)
	// A page past the end (the list shrank between two hops) shows the last.
	st, scr, err := e.Next(ctx, stranger, State{Node: NodeClaimsList, Back: []string{NodeMain, NodeClaimsAsk}, ID: "101203401", Page: 7}, "98")
	if err != nil || st.Page != 3 || !strings.HasSuffix(scr.Text, "\n"+navLast) {
		t.Errorf("past the end: %+v %q %v", st, scr.Text, err)
	}
	// "00" leaves the list from any page.
	st, scr, _ = e.Next(ctx, stranger, State{Node: NodeClaimsList, Back: []string{NodeMain, NodeClaimsAsk}, ID: "101203401", Page: 2}, "00")
	if st.Node != NodeMain || st.ID != "" || st.Page != 0 || scr.Text != fullMainMenu {
		t.Errorf("home: %+v %q", st, scr.Text)
	}
	// The claims went away between two hops.
	delete(claims.byCHFID, "101203401")
	st, scr, _ = e.Next(ctx, stranger, State{Node: NodeClaimsList, Back: []string{NodeMain, NodeClaimsAsk}, ID: "101203401", Page: 1}, "98")
	if st.Node != NodeClaimsList || scr.Text != "No claims for number 101203401.\n"+navLast {
		t.Errorf("claims gone: %+v %q", st, scr.Text)
	}
	// A route straight to the list.
	_, screens := walk(t, e, stranger, []string{"2", "310482231"})
	if !last(screens).End || !strings.Contains(last(screens).Text, "BUF00412") {
		t.Errorf("route: %q", last(screens).Text)
	}
}

func TestClaimStoreError(t *testing.T) {
	boom := errors.New("connection refused")
	ctx := context.Background()
	claims := &fakeClaims{err: boom}
	e := newClaimsEngine(claims)
	from := State{Node: NodeClaimsAsk, Back: []string{NodeMain}, Lang: "sw"}
	st, scr, err := e.Next(ctx, stranger, from, "101203401")
	if !errors.Is(err, boom) || scr != e.Unavailable("sw") || st.Node != NodeClaimsAsk {
		t.Errorf("ask: %+v %+v %v", st, scr, err)
	}
	if strings.Contains(err.Error(), "101203401") {
		t.Errorf("error names the insurance number: %v", err)
	}
	// A failure while paging leaves the session on the page it was on.
	page := State{Node: NodeClaimsList, Back: []string{NodeMain, NodeClaimsAsk}, ID: "101203401", Page: 1}
	st, scr, err = e.Next(ctx, stranger, page, "98")
	if !errors.Is(err, boom) || !scr.End || st.Page != 1 || st.Node != NodeClaimsList {
		t.Errorf("paging: %+v %+v %v", st, scr, err)
	}
}

func TestClaimStatusWords(t *testing.T) {
	e := newClaimsEngine(newFakeClaims())
	noAmount := openimis.Amount{}
	tests := []struct {
		c    openimis.Claim
		want map[string]string
	}{
		{claimEntered, map[string]string{"en": "Received", "fr": "Reçue", "sw": "Limepokelewa", "ne": "प्राप्त"}},
		{claimChecked, map[string]string{"en": "Checked, approved TZS 28,500", "fr": "Vérifiée, approuvé : 28 500 TZS",
			"sw": "Limehakikiwa, TZS 28,500 zimeidhinishwa", "ne": "जाँच भयो: TZS 28,500"}},
		{claimProcessed, map[string]string{"en": "Processed, approved TZS 42,000", "fr": "Traitée, approuvé : 42 000 TZS",
			"sw": "Limeshughulikiwa, TZS 42,000 zimeidhinishwa", "ne": "प्रशोधित: TZS 42,000"}},
		{claimValuated, map[string]string{"en": "Valued: TZS 172,500", "fr": "Valorisée : 172 500 TZS",
			"sw": "Limethaminiwa: TZS 172,500", "ne": "मूल्याङ्कित: TZS 1,72,500"}},
		{claimRejected, map[string]string{"en": "Rejected", "fr": "Rejetée", "sw": "Limekataliwa", "ne": "अस्वीकृत"}},
		// Amounts only where they mean something: none when missing.
		{openimis.Claim{Status: openimis.ClaimChecked, Approved: noAmount}, map[string]string{"en": "Checked"}},
		{openimis.Claim{Status: openimis.ClaimValuated, Approved: money(5), Valuated: noAmount}, map[string]string{"en": "Valued"}},
		{openimis.Claim{Status: openimis.ClaimEntered, Approved: money(5)}, map[string]string{"en": "Received"}},
		{openimis.Claim{Status: 3}, map[string]string{"en": "Status 3", "ne": "स्थिति 3"}},
	}
	for _, tt := range tests {
		for lang, want := range tt.want {
			if got := claimStatus(e.newCall(context.Background(), stranger, lang), tt.c); got != want {
				t.Errorf("%s status %d: %q, want %q", lang, tt.c.Status, got, want)
			}
		}
	}
}

// TestClaimsNeverShowHealthData: diagnoses and items are not even in the
// store's Claim; the screens show no claimed amount either.
func TestClaimsShowNoClaimedAmount(t *testing.T) {
	e := newClaimsEngine(newFakeClaims())
	_, screens := walk(t, e, stranger, nil, "2", "101203401", "98", "98", "98")
	for _, scr := range screens {
		for _, claimed := range []string{"15,000", "185,000", "45,000"} {
			if strings.Contains(scr.Text, claimed) {
				t.Errorf("claimed amount %s shown:\n%s", claimed, scr.Text)
			}
		}
	}
}

func TestClaimsHiddenWithoutSource(t *testing.T) {
	e := newTestEngine(newFake())
	if _, ok := e.nodes[NodeClaimsAsk]; ok {
		t.Error("claims nodes without a ClaimsSource")
	}
	_, screens := walk(t, e, stranger, nil, "2")
	if last(screens).Text != invalidMain {
		t.Errorf("item 2 without claims: %q", last(screens).Text)
	}
	if slices.ContainsFunc(e.commands, func(c smsCommand) bool { return c.keyword == "CLAIMS" }) {
		t.Error("CLAIMS command without a ClaimsSource")
	}
}
