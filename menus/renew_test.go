package menus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/openimis/imis-gateway/menus/gsm7"
	"github.com/openimis/imis-gateway/openimis"
)

const (
	officerMenu  = "Health insurance\n1. Check membership\n2. Claim status\n3. Renew policy\n4. Language"
	strangerMenu = "Health insurance\n1. Check membership\n2. Claim status\n3. Language"
	renewAsk     = "Renew policy\nEnter the insurance number of any family member:\n0 Back 00 Menu"
	quoteScreen  = "Tumaini Anyisile Mwakalinga\nFAM01 expires 24 Jun 2026\nDue: TZS 37,000\nEnter the receipt number:\n0 Back 00 Menu"
	amountScreen = "Receipt QFC9M3NX5T\nDue: TZS 37,000\nEnter the amount paid:\n0 Back 00 Menu"
	confirmFull  = "Confirm the renewal:\nNo. 604120019, FAM01\nReceipt QFC9M3NX5T\nPaid TZS 37,000 of TZS 37,000\n1. Confirm\n0 Back 00 Menu"
	renewedFull  = "Policy renewed: active\n25 Jun 2026 to 24 Jun 2027\nNo. 604120019, FAM01\nTumaini Anyisile Mwakalinga\nReceipt QFC9M3NX5T"
	notOfficer   = "Only enrolment officers can renew policies."
)

func TestRenewMenuItem(t *testing.T) {
	e, officers, _ := newRenewEngine(Options{})
	for _, c := range []Caller{officer, {Phone: "0767 890 123"}, {Phone: "255767890123"}} {
		states, screens := walk(t, e, c, nil, "3")
		if screens[0].Text != officerMenu || screens[1].Text != renewAsk || states[1].Node != NodeRenewAsk {
			t.Errorf("officer %q: %q then %+v %q", c.Phone, screens[0].Text, states[1], screens[1].Text)
		}
	}
	for _, d := range officers.today {
		if !d.Equal(testDay) {
			t.Fatalf("officer looked up on %v, want the scheme's date %v", d, testDay)
		}
	}
	// Anyone else: no item, and the same key is the next item.
	for _, c := range []Caller{stranger, insuree, {Phone: ""}, {Phone: "not a phone"}, {Phone: "+255715246135"}} {
		states, screens := walk(t, e, c, nil, "3")
		if screens[0].Text != strangerMenu || states[1].Node != NodeLanguage {
			t.Errorf("%q: %q then %+v", c.Phone, screens[0].Text, states[1])
		}
	}
	// An officer whose look-up fails sees the menu everyone sees.
	officers.err = errors.New("no officer index yet")
	if _, screens := walk(t, e, officer, nil); screens[0].Text != strangerMenu {
		t.Errorf("failing look-up: %q", screens[0].Text)
	}
	// Renewal needs both the directory and the service.
	o, r := newFakeRenewals()
	for _, opt := range []Options{{Officers: o}, {Renewals: r}} {
		e := newFullEngine(newFake(), newFakeClaims(), &fakeLanguages{}, opt)
		if _, screens := walk(t, e, officer, nil); screens[0].Text != strangerMenu {
			t.Errorf("%+v: %q", opt, screens[0].Text)
		}
		if _, ok := e.nodes[NodeRenewAsk]; ok {
			t.Errorf("%+v: renewal nodes", opt)
		}
	}
	// Position per README.md, "The USSD menu" without claims: after Check membership.
	e = New(newFake(), Options{Officers: o, Renewals: r, Languages: &fakeLanguages{}})
	if _, screens := walk(t, e, officer, nil); screens[0].Text != "Health insurance\n1. Check membership\n2. Renew policy\n3. Language" {
		t.Errorf("without claims: %q", screens[0].Text)
	}
}

func TestRenewFlow(t *testing.T) {
	e, _, renewals := newRenewEngine(Options{})
	states, screens := walk(t, e, officer, nil, "3", "604120019", "QFC9M3NX5T", "37000", "1")
	want := []struct {
		node   string
		screen string
		renew  Renewal
	}{
		{NodeMain, officerMenu, Renewal{}},
		{NodeRenewAsk, renewAsk, Renewal{}},
		{NodeRenewReceipt, quoteScreen, Renewal{CHFID: "604120019", Product: "FAM01", Due: 37000_00}},
		{NodeRenewAmount, amountScreen, Renewal{CHFID: "604120019", Product: "FAM01", Due: 37000_00, Receipt: "QFC9M3NX5T"}},
		{NodeRenewConfirm, confirmFull, Renewal{CHFID: "604120019", Product: "FAM01", Due: 37000_00, Receipt: "QFC9M3NX5T", Amount: 37000_00}},
	}
	for i, w := range want {
		if states[i].Node != w.node || screens[i].Text != w.screen || screens[i].End || states[i].Renew != w.renew {
			t.Errorf("step %d: %+v\n%s\nwant %s %+v\n%s", i, states[i], screens[i].Text, w.node, w.renew, w.screen)
		}
	}
	if got := last(screens); got != (Screen{Text: renewedFull, End: true}) {
		t.Errorf("answer %+v\nwant\n%s", got, renewedFull)
	}
	// Entering the receipt screen asked for the quote once, in the area of
	// the officer calling; the request is what policystore needs to write
	// it once.
	if !slices.Equal(renewals.quoteCalls, []string{"604120019/"}) || !slices.Equal(renewals.quoteOfficers, []string{"EO003"}) {
		t.Errorf("quotes %q for %q", renewals.quoteCalls, renewals.quoteOfficers)
	}
	if len(renewals.requests) != 1 {
		t.Fatalf("%d requests", len(renewals.requests))
	}
	req := renewals.requests[0]
	if req.Messages == nil {
		t.Error("no Messages: the confirmation SMS would be in English")
	}
	req.Messages = nil
	wantReq := openimis.RenewalRequest{CHFID: "604120019", ProductCode: "FAM01", Receipt: "QFC9M3NX5T",
		Amount: openimis.Money(37000_00), OfficerPhone: officer.Phone, Channel: openimis.ChannelUSSD, Today: testDay,
		RequestKey: "ussd:africastalking:ATUid_7c1f", SourceVersion: "0.4.0-test", AuditUserID: -1, SMSProvider: "africastalking"}
	if fmt.Sprintf("%+v", req) != fmt.Sprintf("%+v", wantReq) {
		t.Errorf("request\n%+v\nwant\n%+v", req, wantReq)
	}
	// The confirmation SMS: to the officer with the head's name, to the
	// head, each one plain SMS part.
	wantSMS := []sentSMS{
		{openimis.RecipientOfficer, "Tumaini Anyisile Mwakalinga\nRenewed 604120019, FAM01, 25 Jun 2026 to 24 Jun 2027: active. " +
			"Paid TZS 37,000, receipt QFC9M3NX5T."},
		{openimis.RecipientHead, "Your family's health insurance FAM01 is renewed: 25 Jun 2026 to 24 Jun 2027. " +
			"Paid TZS 37,000, receipt QFC9M3NX5T."},
	}
	if !slices.Equal(renewals.sent, wantSMS) {
		t.Errorf("SMS\n%q\nwant\n%q", renewals.sent, wantSMS)
	}
	// AuditUserID is passed as configured.
	e, _, renewals = newRenewEngine(Options{AuditUserID: 7, Version: "1.2.3"})
	walk(t, e, Caller{Phone: officer.Phone}, []string{"3", "604120019"}, "QFC9M3NX5T", "37000", "1")
	if r := renewals.requests[0]; r.AuditUserID != 7 || r.SourceVersion != "1.2.3" || r.RequestKey != "" || r.SMSProvider != "" {
		t.Errorf("request %+v: no session, no key (never a bare \"ussd:\")", r)
	}
}

// TestRenewOutcomes: paid in part (idle), in full but activated later
// (ready), more than due, an old product renewed as another, expired.
func TestRenewOutcomes(t *testing.T) {
	tests := []struct {
		name, chfid, amount string
		ready               bool
		maxOverpayment      openimis.Money
		quote, confirm, end string
	}{
		{"part paid: idle", "20461301", "20,000", false, 0,
			"Emmanuel Joseph Kimaro\nFAM01 expired 5 Jun 2026\nDue: TZS 32,000\nEnter the receipt number:\n0 Back 00 Menu",
			"Confirm the renewal:\nNo. 20461301, FAM01\nReceipt QFC9M3NX5T\nPaid TZS 20,000 of TZS 32,000\n" +
				"Less than due: idle until paid in full.\n1. Confirm\n0 Back 00 Menu",
			"Policy renewed: idle until paid in full\n15 Jun 2026 to 14 Jun 2027\nPaid TZS 20,000 of TZS 32,000\n" +
				"No. 20461301, FAM01\nEmmanuel Joseph Kimaro\nReceipt QFC9M3NX5T"},
		{"old product renewed as another", "310482215", "32000.00", false, 0,
			"Paulo Masanja Magesa\nCHF00 expired 10 Nov 2025\nDue for FAM01: TZS 32,000\nEnter the receipt number:\n0 Back 00 Menu",
			"Confirm the renewal:\nNo. 310482215, FAM01\nReceipt QFC9M3NX5T\nPaid TZS 32,000 of TZS 32,000\n1. Confirm\n0 Back 00 Menu",
			"Policy renewed: active\n15 Jun 2026 to 14 Jun 2027\nNo. 310482215, FAM01\nPaulo Masanja Magesa\nReceipt QFC9M3NX5T"},
		{"paid in full, activated later", "604120035", "37000", true, 0, quoteScreen,
			strings.Replace(confirmFull, "604120035", "604120019", 1),
			"Policy renewed: paid, awaiting activation\n25 Jun 2026 to 24 Jun 2027\nNo. 604120035, FAM01\n" +
				"Tumaini Anyisile Mwakalinga\nReceipt QFC9M3NX5T"},
		{"more than due, as much as the scheme accepts", "604120019", "50000", false, openimis.Money(13000_00), quoteScreen,
			strings.Replace(confirmFull, "Paid TZS 37,000", "Paid TZS 50,000", 1), renewedFull},
		{"cents over, accepted", "604120019", "37000.5", false, openimis.Money(1_00), quoteScreen,
			strings.Replace(confirmFull, "Paid TZS 37,000", "Paid TZS 37,000.50", 1), renewedFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _, renewals := newRenewEngine(Options{MaxOverpayment: tt.maxOverpayment})
			renewals.ready = tt.ready
			_, screens := walk(t, e, officer, []string{"3", tt.chfid}, "QFC9M3NX5T", tt.amount, "1")
			if screens[0].Text != tt.quote {
				t.Errorf("quote:\n%s\nwant\n%s", screens[0].Text, tt.quote)
			}
			if tt.name == "paid in full, activated later" {
				tt.confirm = strings.Replace(tt.confirm, "604120019", "604120035", 1)
			}
			if screens[2].Text != tt.confirm {
				t.Errorf("confirm:\n%s\nwant\n%s", screens[2].Text, tt.confirm)
			}
			if got := last(screens); got.Text != tt.end || !got.End {
				t.Errorf("answer:\n%s\nwant\n%s", got.Text, tt.end)
			}
		})
	}
}

// TestRenewRefusedNumbers: every refusal of the quote is said, above the
// question asked again, and nothing is written; the right number then
// goes on.
func TestRenewRefusedNumbers(t *testing.T) {
	tests := []struct{ chfid, notice string }{
		{"999", "No insuree has number 999."},
		{"907712214", "No policy to renew for number 907712214."},
		{"604120027", "This family's policy is already renewed."},
		{"503910017", "This family's product can no longer be renewed."},
		{"120507768", "Nobody in this family can be covered."},
		{"402771106", "The renewal could not be accepted. Please try again."},
		{"48214", "The family of 48214 is not in your area."},
		{"48213", "The renewal could not be accepted. Please try again."}, // a reason of a later release
		{"abc!", "An insurance number has 1 to 12 letters or digits."},
		{"", "An insurance number has 1 to 12 letters or digits."},
		{strings.Repeat("1", 13), "An insurance number has 1 to 12 letters or digits."},
	}
	for _, tt := range tests {
		e, _, renewals := newRenewEngine(Options{})
		states, screens := walk(t, e, officer, []string{"3", tt.chfid}, "604120019")
		if want := tt.notice + "\n" + renewAsk; screens[0].Text != want || states[0].Node != NodeRenewAsk || states[0].Renew != (Renewal{}) {
			t.Errorf("%q: %+v\n%s\nwant\n%s", tt.chfid, states[0], screens[0].Text, want)
		}
		if last(states).Node != NodeRenewReceipt || last(screens).Text != quoteScreen {
			t.Errorf("%q then a good number: %+v %q", tt.chfid, last(states), last(screens).Text)
		}
		if len(renewals.requests) != 0 {
			t.Errorf("%q: Renew called", tt.chfid)
		}
	}
}

// TestRenewRefusedAtTheWrite: Renew's own refusals end the session with
// the reason.
func TestRenewRefusedAtTheWrite(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"receipt used", openimis.ErrReceiptUsed, "Receipt QFC9M3NX5T is already used."},
		{"officer left meanwhile", fmtErr(openimis.ErrNotOfficer), notOfficer},
		{"renewed meanwhile", openimis.ErrRenewalExists, "This family's policy is already renewed."},
		{"product retired meanwhile", openimis.ErrProductNotRenewable, "This family's product can no longer be renewed."},
		{"product gone", openimis.ErrUnknownProduct, "No product has code FAM01."},
		{"number gone", openimis.ErrInsureeNotFound, "No insuree has number 604120019."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _, renewals := newRenewEngine(Options{})
			renewals.refuseNow = tt.err
			_, screens := walk(t, e, officer, []string{"3", "604120019"}, "QFC9M3NX5T", "37000", "1")
			if got := last(screens); got != (Screen{Text: tt.want, End: true}) || renewals.writes() != 0 {
				t.Errorf("%+v, %d written", got, renewals.writes())
			}
		})
	}
	// The directory no longer knows the officer: refused before Renew.
	e, officers, renewals := newRenewEngine(Options{})
	states, _ := walk(t, e, officer, []string{"3", "604120019"}, "QFC9M3NX5T", "37000")
	officers.set(officer.Phone, false)
	_, scr, err := e.Next(context.Background(), officer, last(states), "1")
	if err != nil || scr != (Screen{Text: notOfficer, End: true}) || len(renewals.requests) != 0 {
		t.Errorf("officer gone: %+v %v, %d requests", scr, err, len(renewals.requests))
	}
}

func fmtErr(err error) error { return errors.Join(errors.New("renew"), err) }

// TestRenewRepeated: another session with the same receipt for the same
// family is answered with the renewal written before, period and all.
func TestRenewRepeated(t *testing.T) {
	e, _, renewals := newRenewEngine(Options{})
	walk(t, e, officer, []string{"3", "604120019"}, "QFC9M3NX5T", "37000", "1")
	again := officer
	again.Session = "africastalking:ATUid_8d20"
	_, screens := walk(t, e, again, []string{"3", "604120035"}, "QFC9M3NX5T", "37000", "1")
	want := "Already renewed: active\n25 Jun 2026 to 24 Jun 2027\nNo. 604120019, FAM01\nTumaini Anyisile Mwakalinga\nReceipt QFC9M3NX5T"
	if got := last(screens); got.Text != want || renewals.writes() != 1 {
		t.Errorf("%q, %d written; want\n%s", got.Text, renewals.writes(), want)
	}
	// The same receipt for another family is refused.
	_, screens = walk(t, e, again, []string{"3", "20461301"}, "QFC9M3NX5T", "32000", "1")
	if got := last(screens).Text; got != "Receipt QFC9M3NX5T is already used." || renewals.writes() != 1 {
		t.Errorf("another family: %q", got)
	}
}

// TestRenewStranger: a phone that is no officer's gets nowhere with a
// crafted state, at any step, and the store is never asked.
func TestRenewStranger(t *testing.T) {
	full := Renewal{CHFID: "604120019", Product: "FAM01", Due: 37000_00, Receipt: "QFC9M3NX5T", Amount: 37000_00}
	for _, node := range []string{NodeRenewAsk, NodeRenewReceipt, NodeRenewAmount, NodeRenewConfirm} {
		for _, in := range []string{"1", "604120019", "QFC9M3NX5T", "37000", "x"} {
			e, _, renewals := newRenewEngine(Options{})
			from := State{Node: node, Back: []string{NodeMain, NodeRenewAsk}, Lang: "en", Renew: full}
			st, scr, err := e.Next(context.Background(), stranger, from, in)
			if err != nil || scr != (Screen{Text: notOfficer, End: true}) {
				t.Errorf("%s %q: %+v %+v %v", node, in, st, scr, err)
			}
			if len(renewals.quoteCalls)+len(renewals.requests) != 0 {
				t.Errorf("%s %q: store asked", node, in)
			}
		}
		// Back into a renewal screen: the refusal, and the way home.
		e, _, renewals := newRenewEngine(Options{})
		from := State{Node: NodeRenewConfirm, Back: []string{NodeMain, NodeRenewAsk, node}, Lang: "en", Renew: full}
		st, scr, err := e.Next(context.Background(), stranger, from, "0")
		if err != nil || st.Node != node || scr.Text != notOfficer+"\n0 Back 00 Menu" || len(renewals.quoteCalls) != 0 {
			t.Errorf("back to %s: %+v %q %v", node, st, scr.Text, err)
		}
	}
}

// TestRenewNavigation: "0" goes back one step keeping what was entered,
// "00" goes home and forgets it, at every step.
func TestRenewNavigation(t *testing.T) {
	e, _, renewals := newRenewEngine(Options{})
	states, screens := walk(t, e, officer, []string{"3", "604120019"}, "QFC9M3NX5T", "37000")
	confirm := last(states)
	back := []struct {
		node, screen string
	}{{NodeRenewAmount, amountScreen}, {NodeRenewReceipt, quoteScreen}, {NodeRenewAsk, renewAsk}, {NodeMain, officerMenu}}
	st := confirm
	for _, b := range back {
		var scr Screen
		var err error
		if st, scr, err = e.Next(context.Background(), officer, st, "0"); err != nil {
			t.Fatal(err)
		}
		if st.Node != b.node || scr.Text != b.screen {
			t.Errorf("0 to %s: %+v %q", b.node, st, scr.Text)
		}
		if wantKept := b.node != NodeMain; (st.Renew == confirm.Renew) != wantKept {
			t.Errorf("0 to %s: renewal %+v", b.node, st.Renew)
		}
	}
	_ = screens
	// Back to the quote asks the store again: it shows what would be
	// written now.
	if len(renewals.quoteCalls) != 2 {
		t.Errorf("quotes %q", renewals.quoteCalls)
	}
	for _, from := range states {
		for _, key := range []string{"00", " 00 "} {
			st, scr, err := e.Next(context.Background(), officer, from, key)
			if err != nil || st.Node != NodeMain || st.Renew != (Renewal{}) || st.Back != nil || scr.Text != officerMenu {
				t.Errorf("%s %q: %+v %q %v", from.Node, key, st, scr.Text, err)
			}
		}
	}
	// Correcting the amount: back from the confirm screen, a new amount.
	st, scr, _ := e.Next(context.Background(), officer, confirm, "0")
	st, scr, _ = e.Next(context.Background(), officer, st, "30000")
	if st.Renew.Amount != 30000_00 || !strings.Contains(scr.Text, "Paid TZS 30,000 of TZS 37,000\nLess than due") {
		t.Errorf("corrected: %+v %q", st, scr.Text)
	}
	// An invalid choice on the confirm screen stays.
	st, scr, _ = e.Next(context.Background(), officer, confirm, "2")
	if st.Node != NodeRenewConfirm || st.Renew != confirm.Renew || scr.Text != "Invalid choice.\n"+confirmFull || renewals.writes() != 0 {
		t.Errorf("2: %+v %q", st, scr.Text)
	}
}

func TestRenewReceipts(t *testing.T) {
	valid := []string{"QFC9M3NX5T", "DOD/0417", "R-2025/0042", "7", "rcpt", strings.Repeat("R", 50)}
	invalid := []string{"", "R 1", "R_1", "R.1", "R#1", "Rè1", "😀", "R\x001", "\xff", strings.Repeat("R", 51), "*1"}
	for _, in := range valid {
		if !validReceipt(in) {
			t.Errorf("%q refused", in)
		}
	}
	for _, in := range invalid {
		if validReceipt(in) {
			t.Errorf("%q accepted", in)
		}
	}
	e, _, _ := newRenewEngine(Options{})
	states, screens := walk(t, e, officer, []string{"3", "604120019"}, "R 1")
	// The head's name gives way (to no fewer than 12 characters) before
	// the navigation line does.
	want := "A receipt number has 1 to 50 letters, digits, - or /.\n" +
		strings.Replace(quoteScreen, "Tumaini Anyisile Mwakalinga", "Tumaini Anyisile ...", 1)
	if last(states).Node != NodeRenewReceipt || last(states).Renew.Receipt != "" || last(screens).Text != want {
		t.Errorf("%+v\n%s\nwant\n%s", last(states), last(screens).Text, want)
	}
	states, _ = walk(t, e, officer, []string{"3", "604120019"}, " DOD/0417 ")
	if r := last(states).Renew; last(states).Node != NodeRenewAmount || r.Receipt != "DOD/0417" {
		t.Errorf("padded receipt: %+v", last(states))
	}
}

func TestRenewAmounts(t *testing.T) {
	const (
		wrong    = "Wrong amount. Enter it in digits, like 37000 or 37,000.50."
		positive = "The amount must be more than 0."
		large    = "The amount is too large."
	)
	tests := []struct {
		in    string
		cents int64
		want  string
	}{
		{"37000", 37000_00, ""},
		{"37,000", 37000_00, ""},
		{"37 000", 37000_00, ""},
		{"1,250.50", 1250_50, ""},
		{"1250.5", 1250_50, ""},
		{"0.01", 1, ""},
		{"०३७०००", 37000_00, ""}, // Devanagari digits
		{"9999999999999999.99", int64(openimis.MaxMoney), ""},
		{"1,000,000", 1000000_00, ""},
		{"abc", 0, wrong},
		{"37000 TZS", 0, wrong},
		{"TZS37000", 0, wrong},
		{"37.505", 0, wrong}, // too many decimals, not a group: a point is a decimal mark in English
		{"37000.505", 0, wrong},
		{"1.2345", 0, wrong},
		{"37000.", 0, wrong},
		{".5", 0, wrong},
		{"37,5", 0, wrong},
		{"3,70,00", 0, wrong},
		{"37,00,0", 0, wrong},
		{"1,000.000", 0, wrong},
		{"1.000,50", 0, wrong},
		{"+37000", 0, wrong},
		{"3e4", 0, wrong},
		{"0", 0, ""}, // "0" is Back: not an amount at all
		{"000", 0, positive},
		{"0.00", 0, positive},
		{"-5000", 0, positive},
		{"-abc", 0, wrong},
		{"99999999999999999", 0, large},
		{"10000000000000000.00", 0, large},
		{strings.Repeat("9", 5000), 0, large},
	}
	for _, tt := range tests {
		// Any amount is accepted over the amount due: this is about reading
		// it (TestRenewAmountAboveDue is about the amount due).
		e, _, _ := newRenewEngine(Options{MaxOverpayment: openimis.MaxMoney})
		states, screens := walk(t, e, officer, []string{"3", "604120019", "QFC9M3NX5T"}, tt.in)
		st, scr := last(states), last(screens)
		switch {
		case tt.in == "0":
			if st.Node != NodeRenewReceipt {
				t.Errorf("%q: %+v", tt.in, st)
			}
		case tt.want == "":
			if st.Node != NodeRenewConfirm || st.Renew.Amount != tt.cents {
				t.Errorf("%q: %+v %q, want %d cents", tt.in, st, scr.Text, tt.cents)
			}
		default:
			if want := tt.want + "\n" + amountScreen; st.Node != NodeRenewAmount || scr.Text != want {
				t.Errorf("%q: %+v\n%s\nwant\n%s", tt.in, st, scr.Text, want)
			}
		}
	}
}

// TestRenewAmountAboveDue: an amount above the amount due (plus what the
// scheme accepts over it) is refused on the amount screen, naming the
// amount due, and the officer stays there to correct it; the store's own
// refusal at the confirmation ends the session with the same words.
func TestRenewAmountAboveDue(t *testing.T) {
	tests := []struct {
		over       openimis.Money
		in, notice string
	}{
		{0, "37000", ""},
		{0, "37000.01", "Amount TZS 37,000.01 is more than the TZS 37,000 due."},
		{0, "9999999999999999", "Amount TZS 9,999,999,999,999,999 is more than the TZS 37,000 due."},
		{openimis.Money(500_00), "37,500", ""},
		{openimis.Money(500_00), "37500.01", "Amount TZS 37,500.01 is more than the TZS 37,000 due."},
		{openimis.MaxMoney, "9999999999999999.99", ""},
	}
	for _, tt := range tests {
		e, _, renewals := newRenewEngine(Options{MaxOverpayment: tt.over})
		states, screens := walk(t, e, officer, []string{"3", "604120019", "QFC9M3NX5T"}, tt.in)
		st, scr := last(states), last(screens)
		if tt.notice != "" {
			if want := tt.notice + "\n" + amountScreen; st.Node != NodeRenewAmount || st.Renew.Amount != 0 || scr.Text != want {
				t.Errorf("%s over %s: %+v\n%s\nwant\n%s", tt.in, tt.over, st, scr.Text, want)
			}
			continue
		}
		if st.Node != NodeRenewConfirm {
			t.Errorf("%s over %s: %+v %q", tt.in, tt.over, st, scr.Text)
			continue
		}
		_, scr, err := e.Next(context.Background(), officer, st, "1")
		if err != nil || !scr.End || !strings.HasPrefix(scr.Text, "Policy renewed: active") || renewals.requests[0].MaxOverpayment != tt.over {
			t.Errorf("%s over %s: %+v %v, request %+v", tt.in, tt.over, scr, err, renewals.requests)
		}
	}
	// The amount due grew since the quote (a child came of age): the
	// store refuses at the confirmation, and says what is due now.
	e, _, renewals := newRenewEngine(Options{})
	renewals.refuseNow = &openimis.RefusalError{Reason: openimis.ReasonAmountTooHigh, Due: openimis.Money(30000_00)}
	_, screens := walk(t, e, officer, []string{"3", "604120019"}, "QFC9M3NX5T", "37000", "1")
	if got := last(screens); got != (Screen{Text: "Amount TZS 37,000 is more than the TZS 30,000 due.", End: true}) || renewals.writes() != 0 {
		t.Errorf("refused at the write: %+v, %d written", got, renewals.writes())
	}
}

// TestParseAmountPerLanguage: amounts are typed as the language writes
// them (format.number).
func TestParseAmountPerLanguage(t *testing.T) {
	cat := mustCatalog(t)
	tests := []struct {
		lang, in string
		cents    int64
		ok       bool
	}{
		{"en", "37,000.50", 37000_50, true},
		{"sw", "37,000.50", 37000_50, true},
		{"en", "37.000", 0, false},
		{"fr", "37000,50", 37000_50, true},
		{"fr", "37 000,50", 37000_50, true},
		{"fr", "37\u202f000,50", 37000_50, true},
		{"fr", "37.000", 37000_00, true}, // a point groups thousands in francophone Africa
		{"fr", "37.000,5", 37000_50, true},
		{"fr", "37000.50", 37000_50, true}, // a point before cents: a keypad without a comma
		{"fr", "37,000", 0, false},         // a comma is the decimal mark
		{"fr", "37,505", 0, false},
		{"ne", "1,00,000", 100000_00, true},
		{"ne", "१,००,०००.५०", 100000_50, true},
		{"ne", "10,00,00,000", 100000000_00, true},
		{"ne", "1,00,00", 0, false},
	}
	for _, tt := range tests {
		m, problem := parseAmount(tt.in, cat.formatsOf(tt.lang).number)
		if ok := problem == ""; ok != tt.ok || int64(m) != tt.cents {
			t.Errorf("%s %q: %d %q, want %d (ok %v)", tt.lang, tt.in, m, problem, tt.cents, tt.ok)
		}
	}
}

// TestRenewLostState: a renewal screen whose state lost what was entered
// (crafted, or from another release) sends the officer home.
func TestRenewLostState(t *testing.T) {
	e, _, renewals := newRenewEngine(Options{})
	for _, node := range []string{NodeRenewReceipt, NodeRenewAmount, NodeRenewConfirm} {
		from := State{Node: node, Back: []string{NodeMain, NodeRenewAsk}, Lang: "en", Renew: Renewal{CHFID: "604120019"}}
		if node == NodeRenewReceipt {
			from.Renew = Renewal{}
		}
		st, scr, err := e.Next(context.Background(), officer, from, "1")
		want := "The renewal was interrupted. Please start again.\n" + officerMenu
		if err != nil || st.Node != NodeMain || scr.Text != want {
			t.Errorf("%s: %+v %q %v", node, st, scr.Text, err)
		}
		c := e.newCall(context.Background(), officer, "en")
		if v, err := e.nodes[node].view(c, &from); err != nil || v.body != "The renewal was interrupted. Please start again." {
			t.Errorf("%s view: %+v %v", node, v, err)
		}
	}
	if len(renewals.requests)+len(renewals.quoteCalls) != 0 {
		t.Errorf("store asked")
	}
}

func TestRenewFailures(t *testing.T) {
	boom := errors.New("connection refused")
	ctx := context.Background()
	unavailable := Screen{Text: "Service temporarily unavailable, please try again.", End: true}
	t.Run("quote", func(t *testing.T) {
		e, _, renewals := newRenewEngine(Options{})
		renewals.err = boom
		from := State{Node: NodeRenewAsk, Back: []string{NodeMain}, Lang: "en"}
		st, scr, err := e.Next(ctx, officer, from, "604120019")
		if !errors.Is(err, boom) || scr != unavailable || st.Node != NodeRenewAsk {
			t.Errorf("%+v %+v %v", st, scr, err)
		}
		// Back to the quote screen.
		from = State{Node: NodeRenewAmount, Back: []string{NodeMain, NodeRenewAsk, NodeRenewReceipt}, Lang: "en",
			Renew: Renewal{CHFID: "604120019", Product: "FAM01", Receipt: "R1"}}
		if _, scr, err := e.Next(ctx, officer, from, "0"); !errors.Is(err, boom) || scr != unavailable {
			t.Errorf("back: %+v %v", scr, err)
		}
	})
	t.Run("renew", func(t *testing.T) {
		e, _, renewals := newRenewEngine(Options{})
		states, _ := walk(t, e, officer, []string{"3", "604120019"}, "QFC9M3NX5T", "37000")
		renewals.err = context.DeadlineExceeded
		st, scr, err := e.Next(ctx, officer, last(states), "1")
		if !errors.Is(err, context.DeadlineExceeded) || scr != unavailable || st.Node != NodeRenewConfirm {
			t.Errorf("%+v %+v %v", st, scr, err)
		}
		if strings.Contains(err.Error(), "604120019") || strings.Contains(err.Error(), "767890123") {
			t.Errorf("error names personal data: %v", err)
		}
	})
	t.Run("officer look-up", func(t *testing.T) {
		e, officers, _ := newRenewEngine(Options{})
		officers.err = boom
		for _, node := range []string{NodeRenewAsk, NodeRenewConfirm} {
			from := State{Node: node, Back: []string{NodeMain}, Lang: "en"}
			if _, scr, err := e.Next(ctx, officer, from, "1"); !errors.Is(err, boom) || scr != unavailable {
				t.Errorf("%s: %+v %v", node, scr, err)
			}
		}
	})
}

// TestRenewInEveryLanguage walks the renewal in each language: every
// screen in its language, within the default budget, and the confirmation
// SMS in the officer's language for the officer, in the default language
// for the head.
func TestRenewInEveryLanguage(t *testing.T) {
	for _, lang := range languages {
		e, _, renewals := newRenewEngine(Options{DefaultLang: "sw"})
		c := officer
		c.Lang = lang
		_, screens := walk(t, e, c, nil, "3", "999", "20461301", "x!", "QFC9M3NX5T", "x", "20000", "9", "1")
		for i, scr := range screens {
			if !withinBudget(scr.Text, DefaultBudget) {
				t.Errorf("%s screen %d over budget:\n%s", lang, i, scr.Text)
			}
		}
		if end := last(screens); !end.End || !strings.Contains(end.Text, "20,000") && !strings.Contains(end.Text, "20 000") {
			t.Errorf("%s: %+v", lang, end)
		}
		officerSMS, headSMS := renewals.sent[0].text, renewals.sent[1].text
		if want := map[string]string{"en": "\nRenewed 20461301,", "fr": "\nRenouvelé 20461301,", "sw": "\nUmehuisha 20461301,",
			"ne": "20461301 नवीकरण भयो,"}[lang]; !strings.Contains(officerSMS, gsm7.Substitute(want, true)) {
			t.Errorf("%s officer SMS not in %s: %q", lang, lang, officerSMS)
		}
		if !strings.HasPrefix(headSMS, "Kuhuisha bima ya afya ya familia yako (FAM01)") {
			t.Errorf("%s head SMS not in the default language: %q", lang, headSMS)
		}
	}
}

// TestConfirmationSMS: one part in the GSM-7 languages with realistic data
// (the head's name giving way first), at most two in Nepali; the receipt
// and amounts are never cut.
func TestConfirmationSMS(t *testing.T) {
	res := openimis.RenewalResult{CHFID: "202405170001", HeadName: "Ng'walu Makoye Budeba-Lutema wa Ihayabuyaga",
		ProductCode: "FAM01", Start: date(2026, 9, 30), Expiry: date(2027, 9, 29), Value: openimis.Money(99_999_999_00),
		Amount: openimis.Money(12_345_678_00), Receipt: "QFC9M3NX5T-2026/0042"}
	e, _, _ := newRenewEngine(Options{})
	for _, lang := range languages {
		render := e.confirmations(lang)
		for _, status := range []int{openimis.PolicyActive, openimis.PolicyReady, openimis.PolicyIdle} {
			for _, to := range []string{openimis.RecipientOfficer, openimis.RecipientHead} {
				res.Status = status
				text := render(res, to)
				enc, n, parts := gsm7.Parts(text)
				withReceipt := to == openimis.RecipientOfficer || status != openimis.PolicyIdle
				if lang != "ne" && (parts != 1 || enc != gsm7.GSM7) || parts > 2 || withReceipt && !strings.Contains(text, res.Receipt) {
					t.Errorf("%s %d %s: %v %d, %d parts:\n%s", lang, status, to, enc, n, parts, text)
				}
			}
		}
		// Rendered in any order, each in its own language.
		res.Status = openimis.PolicyActive
		if a, b := render(res, openimis.RecipientOfficer), e.confirmations(lang)(res, openimis.RecipientOfficer); a != b {
			t.Errorf("%s: the head's message changed the officer's language:\n%s\n%s", lang, a, b)
		}
		if got := render(res, "someone else"); got != "" {
			t.Errorf("unknown recipient: %q", got)
		}
	}
}

// TestRenewalScreens pins three renewal screens and their sizes, as shown
// on issue 3: the quote in English, the confirmation of a part payment in
// Kiswahili, the answer in French (transliterated to stay GSM-7).
func TestRenewalScreens(t *testing.T) {
	tests := []struct {
		lang   string
		inputs []string
		want   string
		enc    gsm7.Encoding
		n      int
	}{
		{"en", []string{"3", "604120019"}, quoteScreen, gsm7.GSM7, 110},
		// The title gives way.
		{"sw", []string{"3", "20461301", "QFC9M3NX5T", "20000"}, "Na. 20461301, FAM01\nRisiti QFC9M3NX5T\n" +
			"Imelipwa TZS 20,000 kati ya TZS 32,000\nPungufu: haitaanza hadi ilipwe yote.\n1. Thibitisha\n0 Rudi 00 Menyu", gsm7.GSM7, 143},
		// The receipt gives way, then the head's name would.
		{"fr", []string{"3", "20461301", "QFC9M3NX5T", "20000", "1"}, "Police renouvelée : inactive jusqu'au paiement complet\n" +
			"du 15 juin 2026 au 14 juin 2027\nPayé 20 000 TZS sur 32 000 TZS\nNo 20461301, FAM01\nEmmanuel Joseph Kimaro", gsm7.GSM7, 159},
	}
	for _, tt := range tests {
		e, _, _ := newRenewEngine(Options{})
		c := officer
		c.Lang = tt.lang
		_, screens := walk(t, e, c, nil, tt.inputs...)
		scr := last(screens)
		enc, n := gsm7.Measure(scr.Text)
		if scr.Text != tt.want || enc != tt.enc || n != tt.n {
			t.Errorf("%s (%v, %d):\n%s\nwant (%v, %d):\n%s", tt.lang, enc, n, scr.Text, tt.enc, tt.n, tt.want)
		}
		t.Logf("%s, %v, %d characters:\n%s", tt.lang, enc, n, scr.Text)
	}
}
