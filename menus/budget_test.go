package menus

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/menus/gsm7"
	"github.com/openimis/imis-gateway/openimis"
)

// The budgets every screen is checked against: the default (160 GSM-7 / 70
// UCS-2), Nalo's 120 characters, and a stricter one still.
var testBudgets = map[string]Budget{
	"default": DefaultBudget,
	"nalo":    {GSM7: 120, UCS2: 70},
	"tight":   {GSM7: 100, UCS2: 60},
}

// longest builds the longest realistic coverage: 100-character names (in
// one word, four, or fifty), product names of 100 characters and codes of
// 50, five policies, the insurance number as wide as the database allows.
func longest(chfid string, status openimis.CoverageStatus, nameWords int) openimis.Coverage {
	name := func(c string) string {
		if nameWords <= 1 {
			return strings.Repeat(c, 100)
		}
		w := strings.Repeat(c, 100/nameWords-1)
		return strings.TrimSpace(strings.Repeat(w+" ", nameWords))
	}
	cov := openimis.Coverage{CHFID: chfid, LastName: name("L"), OtherNames: name("O"),
		Holder: openimis.Holder{Phone: "+255 712 345 678", HeadPhone: "+255 754 000 111"}}
	for i := range 5 {
		cov.Policies = append(cov.Policies, openimis.PolicyCoverage{
			ProductCode: strings.Repeat(string(rune('A'+i)), 50), ProductName: strings.Repeat("P", 100),
			Status: status, EffectiveDate: date(2026, 9, 30), ExpiryDate: date(2027, 9, 29)})
	}
	return cov
}

// longestClaims are ten claims in every status, with the widest codes, the
// longest facility name (100 characters) and amounts of 99,999,999.99.
func longestClaims(codeLen int) []openimis.Claim {
	statuses := []openimis.ClaimStatus{openimis.ClaimEntered, openimis.ClaimChecked, openimis.ClaimProcessed,
		openimis.ClaimValuated, openimis.ClaimRejected, 3}
	big := openimis.Amount{Cents: 99999999_99, Valid: true}
	var claims []openimis.Claim
	for i := range 10 {
		claims = append(claims, openimis.Claim{
			Code: fmt.Sprintf("%0*d", codeLen, i), FacilityCode: "GDB00001", FacilityName: gaspar,
			DateClaimed: date(2026, 9, 30-i), Status: statuses[i%len(statuses)], Claimed: big, Approved: big, Valuated: big})
	}
	return claims
}

type shot struct {
	label string
	scr   Screen
}

// everyScreen drives an engine through every node and every notice, with
// the longest data, and returns every screen it showed.
func everyScreen(t *testing.T, budget Budget, lang string, width int) []shot {
	t.Helper()
	ctx := context.Background()
	wide, unknown := strings.Repeat("9", width), strings.Repeat("8", width)
	covs := map[string]openimis.Coverage{}
	numbers := []string{}
	for _, status := range []openimis.CoverageStatus{openimis.Covered, openimis.NotYetActive, openimis.Expired,
		openimis.Suspended, openimis.CoverageStatus(42)} {
		for _, words := range []int{1, 4, 50} {
			n := fmt.Sprintf("%d%d%s", status, words, wide)[:width]
			covs[n] = longest(n, status, words)
			numbers = append(numbers, n)
		}
	}
	covs["7"] = openimis.Coverage{CHFID: "7", LastName: strings.Repeat("L", 100)}
	claims := &fakeClaims{byCHFID: map[string][]openimis.Claim{wide: longestClaims(min(width, 50)), "1": nil,
		"2": longestClaims(8)[:1]}}
	// Renewal: a head's name of 99 characters in four words, product codes
	// of 50, an old product renewed as another, 99,999,999.99 due.
	officers, renewals := newFakeRenewals()
	renewing, lapsed, noPolicy := wide, strings.Repeat("6", width), strings.Repeat("5", width)
	headName := strings.TrimSpace(strings.Repeat(strings.Repeat("N", 24)+" ", 4))
	renewals.quotes[renewing] = openimis.RenewalQuote{FamilyID: 99, HeadName: headName, HeadPhone: "+255 754 000 111",
		ProductCode: strings.Repeat("P", 50), ProductName: strings.Repeat("P", 100), Converted: true,
		PreviousProductCode: strings.Repeat("Q", 50), PreviousExpiry: date(2026, 9, 30), Start: date(2026, 10, 1),
		Expiry: date(2027, 9, 30), Value: openimis.Money(99_999_999_99)}
	renewals.quotes[lapsed] = openimis.RenewalQuote{FamilyID: 98, HeadName: headName, HeadPhone: "+255 754 000 111",
		ProductCode: strings.Repeat("P", 50), PreviousProductCode: strings.Repeat("P", 50), PreviousExpiry: date(2026, 5, 31),
		Start: date(2026, 6, 15), Expiry: date(2027, 6, 14), Value: openimis.Money(99_999_999_99)}
	renewals.refuse[noPolicy] = openimis.ErrNoPreviousPolicy
	outside := strings.Repeat("4", width)
	renewals.refuse[outside] = openimis.ErrOutsideArea
	e := newFullEngine(&fakeSource{byCHFID: covs}, claims, &fakeLanguages{},
		Options{CHFIDMaxLen: width, DefaultLang: lang, Budget: budget, Officers: officers, Renewals: renewals})

	var shots []shot
	add := func(label string, scr Screen) { shots = append(shots, shot{label, scr}) }
	run := func(label string, c Caller, inputs ...string) (State, Screen) {
		st, scr, err := e.Begin(ctx, c, nil)
		if err != nil {
			t.Fatal(err)
		}
		add(label+" begin", scr)
		for _, in := range inputs {
			if st, scr, err = e.Next(ctx, c, st, in); err != nil {
				t.Fatalf("%s %q: %v", label, in, err)
			}
			add(fmt.Sprintf("%s %.12q", label, in), scr)
		}
		return st, scr
	}
	stranger := Caller{Phone: stranger.Phone, Lang: lang, Budget: budget}
	owner := Caller{Phone: insuree.Phone, Lang: lang, Budget: budget}
	run("main", stranger, "99", "1", "x!", unknown, wide+"9", strings.Repeat("7", 5000), "0", "2", "x!", unknown, "0", "3", "9")
	for _, n := range numbers {
		for _, c := range []Caller{stranger, owner} {
			// The number and "+N more" stay, whatever else gives way.
			_, scr := run("membership "+n, c, "1", n)
			lines := strings.Split(scr.Text, "\n")
			if !scr.End || !strings.Contains(scr.Text, n[:8]) || !strings.HasPrefix(lines[len(lines)-1], "+") {
				t.Errorf("membership answer for %s:\n%s", n, scr.Text)
			}
		}
	}
	run("membership without policy", owner, "1", "7")
	run("no claims", owner, "2", "1")
	run("one claim", owner, "2", "2")
	run("claims of another family", stranger, "2", wide)
	st, _ := run("claims", owner, "2", wide)
	for range 11 {
		st, _ = runFrom(t, e, owner, st, "98", add)
	}
	for range 11 {
		st, _ = runFrom(t, e, owner, st, "0", add)
	}
	for i := range languages {
		run("choose language", stranger, "3", fmt.Sprint(i+1), "2", "x")
	}

	// Renewal, by an officer: every refusal of a number, every mistake at
	// every step, back and forth, then every outcome.
	off := Caller{Phone: officer.Phone, Lang: lang, Budget: budget}
	session := 0
	renew := func(label string, inputs ...string) {
		session++ // each its own renewal: the same session key would repeat the first
		off.Session = fmt.Sprintf("africastalking:ATUid_%d", session)
		run(label, off, inputs...)
	}
	_, menu := run("officer menu", off)
	if item, _, _ := (fitter{}).encode(e.cat.text(lang, msgItemRenew, nil)); !strings.Contains(menu.Text, item) {
		t.Errorf("officer menu without %q:\n%s", item, menu.Text)
	}
	receipt := strings.Repeat("R", 50)
	renew("renew", "3", "x!", unknown, wide+"9", noPolicy, "604120027", "503910017", "120507768", "402771106", outside,
		renewing, "bad receipt!", receipt, "abc", "0", receipt, "-5", strings.Repeat("9", 17), "0.5", "9", "0",
		"9999999999999999.99", "9", "1")
	renew("renew idle", "3", lapsed, "R-1", "1", "1")
	renew("renew repeated", "3", lapsed, "R-1", "1", "1")
	renewals.ready = true
	renew("renew ready", "3", renewing, "R-2", "99999999.99", "1")
	renewals.ready = false
	for _, refusal := range []error{openimis.ErrReceiptUsed, openimis.ErrNotOfficer, openimis.ErrUnknownProduct,
		openimis.ErrInvalidRequest, openimis.ErrOutsideArea,
		&openimis.RefusalError{Reason: openimis.ReasonAmountTooHigh, Due: openimis.MaxMoney}} {
		renewals.refuseNow = refusal
		renew("renew refused", "3", renewing, receipt, "1", "1")
	}
	renewals.refuseNow = nil
	full := Renewal{CHFID: wide, Product: strings.Repeat("P", 50), Due: 99_999_999_99, Receipt: receipt, Amount: int64(openimis.MaxMoney)}
	for _, node := range []string{NodeRenewAsk, NodeRenewReceipt, NodeRenewAmount, NodeRenewConfirm} {
		for _, c := range []Caller{{Phone: stranger.Phone, Lang: lang, Budget: budget}, off} {
			for _, r := range []Renewal{full, {}} {
				from := State{Node: NodeRenewConfirm, Back: []string{NodeMain, node}, Lang: lang, Renew: r}
				for _, in := range []string{"0", "1"} {
					_, scr, err := e.Next(ctx, c, from, in)
					if err != nil {
						t.Fatal(err)
					}
					add(fmt.Sprintf("crafted %s %q", node, in), scr)
				}
			}
		}
	}
	// The offer to resume each screen worth it, with the longest data, and each answer to it.
	for node := range whereMsgs {
		saved := State{Node: node, Back: []string{NodeMain}, Lang: lang, ID: wide, Renew: full}
		offer, scr, err := e.Offer(ctx, off, saved)
		if err != nil {
			t.Fatal(err)
		}
		add("offer "+node, scr)
		for _, in := range []string{"1", "2", "x"} {
			_, scr, err := e.Next(ctx, off, offer, in)
			if err != nil {
				t.Fatal(err)
			}
			add(fmt.Sprintf("offer %s %q", node, in), scr)
		}
	}
	add("unavailable", e.Unavailable(lang))
	add("session error", e.SessionError(lang))
	return shots
}

func runFrom(t *testing.T, e *Engine, c Caller, st State, in string, add func(string, Screen)) (State, Screen) {
	t.Helper()
	st, scr, err := e.Next(context.Background(), c, st, in)
	if err != nil {
		t.Fatal(err)
	}
	add(fmt.Sprintf("claims page %d after %q", st.Page, in), scr)
	return st, scr
}

// TestEveryScreenFitsItsBudget renders every state in every language with
// the longest realistic data, for 12- and 50-character insurance numbers,
// under each test budget: every screen fits, and a navigation line is
// whole or absent, never cut.
func TestEveryScreenFitsItsBudget(t *testing.T) {
	cat := mustCatalog(t)
	for name, budget := range testBudgets {
		for _, lang := range languages {
			navs := []string{cat.text(lang, msgNav, nil), cat.text(lang, msgNavMore, nil)}
			for _, width := range []int{12, 50} {
				t.Run(fmt.Sprintf("%s/%s/%d", name, lang, width), func(t *testing.T) {
					shots := everyScreen(t, budget, lang, width)
					if len(shots) < 100 {
						t.Fatalf("only %d screens", len(shots))
					}
					// Menus keep every item, whatever gives way.
					for _, label := range []msg{msgItemCheck, msgItemClaims, msgItemLanguage} {
						if item, _, _ := (fitter{}).encode(cat.text(lang, label, nil)); !strings.Contains(shots[0].scr.Text, item) {
							t.Errorf("main menu without %q:\n%s", item, shots[0].scr.Text)
						}
					}
					for _, s := range shots {
						if s.scr.Text == "" || !withinBudget(s.scr.Text, budget) {
							enc, n := gsm7.Measure(s.scr.Text)
							t.Errorf("%s: %v %d, over %+v:\n%s", s.label, enc, n, budget, s.scr.Text)
						}
						for _, line := range strings.Split(s.scr.Text, "\n") {
							for _, nav := range navs {
								if line != nav && len(line) > 4 && strings.HasPrefix(nav, line[:4]) && !isNav(line, navs) {
									t.Errorf("%s: cut navigation line %q:\n%s", s.label, line, s.scr.Text)
								}
							}
						}
					}
				})
			}
		}
	}
}

func isNav(line string, navs []string) bool {
	for _, n := range navs {
		if line == n {
			return true
		}
	}
	return false
}

// TestClaimPagesKeepEveryClaim: paging through the longest claims shows
// each claim exactly once, with its status and amount whole, in every
// language and budget; only the facility name (and, on the tightest
// budgets, nothing else) gives way.
func TestClaimPagesKeepEveryClaim(t *testing.T) {
	claims := longestClaims(8)
	for name, budget := range testBudgets {
		for _, lang := range languages {
			t.Run(name+"/"+lang, func(t *testing.T) {
				e := newFullEngine(newFake(), &fakeClaims{byCHFID: map[string][]openimis.Claim{"5": claims}},
					&fakeLanguages{}, Options{Budget: budget})
				caller := Caller{Phone: insuree.Phone, Lang: lang}
				c := e.newCall(context.Background(), caller, lang)
				st, scr, _ := e.Begin(context.Background(), caller, []string{"2", "5"})
				all := scr.Text + "\n"
				for page := 0; ; page++ {
					st, scr, _ = e.Next(context.Background(), caller, st, "98")
					if st.Page == page {
						break
					}
					all += scr.Text + "\n"
				}
				for _, cl := range claims {
					if n := strings.Count(all, cl.Code+" "); n != 1 {
						t.Errorf("claim %s shown %d times", cl.Code, n)
					}
					status, _, _ := c.fit.encode(claimStatus(c, cl))
					if !strings.Contains(all, "\n"+status+"\n") {
						t.Errorf("status %q not shown whole:\n%s", status, all)
					}
				}
			})
		}
	}
	// The default budget leaves room for some of the facility name in
	// every language.
	for _, lang := range languages {
		e := newFullEngine(newFake(), &fakeClaims{byCHFID: map[string][]openimis.Claim{"5": claims}}, &fakeLanguages{}, Options{})
		_, scr, _ := e.Begin(context.Background(), Caller{Phone: insuree.Phone, Lang: lang}, []string{"2", "5"})
		if !strings.Contains(scr.Text, "Hospitali") {
			t.Errorf("%s: no facility name on the first page:\n%s", lang, scr.Text)
		}
	}
}

// TestNepaliAndFrenchScreens pins two screens and their sizes, as shown on
// issue 4.
func TestNepaliAndFrenchScreens(t *testing.T) {
	e := newFullEngine(newFake(), newFakeClaims(), &fakeLanguages{}, Options{Now: func() time.Time { return testNow }})
	tests := []struct {
		lang  string
		route []string
		want  string
		enc   gsm7.Encoding
		n     int
	}{
		{"ne", []string{"2", "101203401", "98"}, "MKH00318 2026/05/28\nMakole…\nजाँच भयो: TZS 28,500\n98 थप 0 पछाडि 00 मेनु", gsm7.UCS2, 70},
		{"fr", []string{"2", "101203401", "98"}, "MKH00318 du 28 mai 2026\nMakole Health Centre\nVérifiée, approuvé : 28 500 TZS\n" +
			"MKH00290 du 8 mai 2026\nMakole Health Centre\nRejetée\n98 Suite 0 Retour 00 Menu", gsm7.GSM7, 154},
	}
	for _, tt := range tests {
		c := Caller{Phone: insuree.Phone, Lang: tt.lang}
		st, scr, _ := e.Begin(context.Background(), c, tt.route[:2])
		st, scr, _ = e.Next(context.Background(), c, st, tt.route[2])
		enc, n := gsm7.Measure(scr.Text)
		if scr.Text != tt.want || enc != tt.enc || n != tt.n {
			t.Errorf("%s (%v, %d):\n%s\nwant (%v, %d):\n%s", tt.lang, enc, n, scr.Text, tt.enc, tt.n, tt.want)
		}
		t.Logf("%s page %d, %v, %d units:\n%s", tt.lang, st.Page, enc, n, scr.Text)
	}
}
