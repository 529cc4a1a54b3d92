package menus_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/menus"
	"github.com/openimis/imis-gateway/openimis"
	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/policystore/demo"
	"github.com/openimis/imis-gateway/policystore/pgtest"
)

// Against the demo on a real PostgreSQL (scripts/services.sh): the
// renewal as an officer does it, written once whatever is repeated.

var (
	eat     = time.FixedZone("EAT", 3*60*60)
	seedDay = time.Date(2025, time.March, 10, 0, 0, 0, 0, time.UTC)
)

// demoEngine seeds the demo and serves it the way the gateway does: the
// store is the coverage source, the claims, the officer directory and the
// renewal service.
func demoEngine(t *testing.T) (*menus.Engine, *policystore.Store) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL (scripts/services.sh)")
	}
	ctx := context.Background()
	store, err := policystore.Open(ctx, pgtest.NewDatabase(t), policystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	if _, err := demo.Seed(ctx, store.Pool(), seedDay, false); err != nil {
		t.Fatal(err)
	}
	return demoMenus(store, menus.Options{}), store
}

// demoMenus is an engine over the demo's store with opt's renewal settings.
func demoMenus(store *policystore.Store, opt menus.Options) *menus.Engine {
	opt.Now = func() time.Time { return time.Date(2025, time.March, 10, 9, 30, 0, 0, eat) }
	opt.Location = eat
	opt.CHFIDMaxLen = store.Columns().CHFIDMaxLen
	opt.Claims, opt.Officers, opt.Renewals = store, store, store
	opt.Version = "0.4.0-test"
	opt.SMSProvider = "africastalking" // these SMS come through none
	return menus.New(store, opt)
}

// rows counts what a renewal writes.
type rows struct{ policies, premiums, renewals, outbox, insureePolicies int }

func count(t *testing.T, s *policystore.Store) rows {
	t.Helper()
	var r rows
	err := s.Pool().QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM "tblPolicy"), (SELECT count(*) FROM "tblPremium"),
		(SELECT count(*) FROM imis_gateway.renewal), (SELECT count(*) FROM imis_gateway.outbox),
		(SELECT count(*) FROM "tblInsureePolicy")`).
		Scan(&r.policies, &r.premiums, &r.renewals, &r.outbox, &r.insureePolicies)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type step struct {
	in, want string // want: the screen starts with it
	end      bool
}

func play(t *testing.T, e *menus.Engine, c menus.Caller, steps []step) menus.State {
	t.Helper()
	ctx := context.Background()
	st, scr, err := e.Begin(ctx, c, nil)
	for i, s := range steps {
		if i > 0 {
			st, scr, err = e.Next(ctx, c, st, s.in)
		}
		if err != nil || !strings.HasPrefix(scr.Text, s.want) || scr.End != s.end {
			t.Fatalf("%q: %+v %v\n%s\nwant (end %v)\n%s", s.in, st, err, scr.Text, s.end, s.want)
		}
	}
	return st
}

func TestRenewByUSSDAgainstPostgreSQL(t *testing.T) {
	e, store := demoEngine(t)
	ctx := context.Background()
	before := count(t, store)

	// EO001 Amina Mwakyusa, stored as "0712 345 678"; the aggregator sends E.164.
	eo001 := menus.Caller{Phone: "+255712345678", Session: "africastalking:ATUid_pg1", Provider: "africastalking"}
	confirm := play(t, e, eo001, []step{
		{"", "Health insurance\n1. Check membership\n2. Claim status\n3. Renew policy", false},
		{"3", "Renew policy\nEnter the insurance number of any family member:\n0 Back 00 Menu", false},
		{"202405170001", "No policy to renew for number 202405170001.\n", false},
		{"604120019", "Tumaini Anyisile Mwakalinga\nFAM01 expires 19 Mar 2025\nDue: TZS 37,000\nEnter the receipt number:\n0 Back 00 Menu", false},
		{"QFC9M3NX5T", "Receipt QFC9M3NX5T\nDue: TZS 37,000\nEnter the amount paid:\n", false},
		{"37,000", "Confirm the renewal:\nNo. 604120019, FAM01\nReceipt QFC9M3NX5T\nPaid TZS 37,000 of TZS 37,000\n1. Confirm\n", false},
	})
	if got := count(t, store); got != before {
		t.Fatalf("written before confirming: %+v, was %+v", got, before)
	}
	const renewed = "Policy renewed: active\n20 Mar 2025 to 19 Mar 2026\nNo. 604120019, FAM01\nTumaini Anyisile Mwakalinga\nReceipt QFC9M3NX5T"
	st, scr, err := e.Next(ctx, eo001, confirm, "1")
	if err != nil || scr != (menus.Screen{Text: renewed, End: true}) {
		t.Fatalf("confirm: %+v %+v %v", st, scr, err)
	}
	after := count(t, store)
	if want := (rows{before.policies + 1, before.premiums + 1, before.renewals + 1, before.outbox + 2, before.insureePolicies + 5}); after != want {
		t.Errorf("rows %+v, want %+v", after, want)
	}
	var (
		status, audit             int
		source, version, key      string
		officerBody, headBody, to string
	)
	err = store.Pool().QueryRow(ctx, `SELECT p."PolicyStatus", p."AuditUserID", p."Source", p."SourceVersion", r.request_key
		FROM imis_gateway.renewal r JOIN "tblPolicy" p ON p."PolicyID" = r.policy_id`).Scan(&status, &audit, &source, &version, &key)
	if err != nil || status != openimis.PolicyActive || audit != -1 || source != "USSD" || version != "0.4.0-test" ||
		key != "ussd:africastalking:ATUid_pg1" {
		t.Errorf("policy: %d %d %q %q %q %v", status, audit, source, version, key, err)
	}
	err = store.Pool().QueryRow(ctx, `SELECT
		(SELECT body FROM imis_gateway.outbox WHERE purpose = 'renewal.officer'),
		(SELECT body FROM imis_gateway.outbox WHERE purpose = 'renewal.head'),
		(SELECT recipient FROM imis_gateway.outbox WHERE purpose = 'renewal.head')`).Scan(&officerBody, &headBody, &to)
	if err != nil || officerBody != "Tumaini Anyisile Mwakalinga\nRenewed 604120019, FAM01, 20 Mar 2025 to 19 Mar 2026: active. "+
		"Paid TZS 37,000, receipt QFC9M3NX5T." || to != "+255754100200" ||
		headBody != "Your family's health insurance FAM01 is renewed: 20 Mar 2025 to 19 Mar 2026. Paid TZS 37,000, receipt QFC9M3NX5T." {
		t.Errorf("SMS to %s:\n%q\n%q\n%v", to, officerBody, headBody, err)
	}

	// The confirming hop again (the gateway replays it from Redis; were it
	// run again, the session key answers): nothing more is written.
	if _, scr, err := e.Next(ctx, eo001, confirm, "1"); err != nil ||
		scr.Text != strings.Replace(renewed, "Policy renewed:", "Already renewed:", 1) {
		t.Errorf("confirm again: %q %v", scr.Text, err)
	}
	// A new session for the family: renewed already.
	eo001.Session = "africastalking:ATUid_pg2"
	play(t, e, eo001, []step{{"", "Health insurance\n", false}, {"3", "Renew policy\n", false},
		{"604120035", "This family's policy is already renewed.\n", false}})
	if got := count(t, store); got != after {
		t.Errorf("rows %+v after repeats, want %+v", got, after)
	}

	// Not an officer: no item, and a crafted state is refused. EO009 left.
	for _, phone := range []string{"+255712111222", "+255715246135"} {
		c := menus.Caller{Phone: phone, Session: "africastalking:ATUid_x"}
		if _, scr, err := e.Begin(ctx, c, nil); err != nil || scr.Text != "Health insurance\n1. Check membership\n2. Claim status" {
			t.Errorf("%s menu: %q %v", phone, scr.Text, err)
		}
		if _, scr, err := e.Next(ctx, c, confirm, "1"); err != nil || scr != (menus.Screen{Text: "Only enrolment officers can renew policies.", End: true}) {
			t.Errorf("%s: %+v %v", phone, scr, err)
		}
	}
	if got := count(t, store); got != after {
		t.Errorf("rows %+v after strangers, want %+v", got, after)
	}
}

func TestRenewBySMSAgainstPostgreSQL(t *testing.T) {
	e, store := demoEngine(t)
	ctx := context.Background()
	before := count(t, store)

	// EO001 Amina Mwakyusa, stored "0712 345 678"; part paid: idle.
	m := menus.SMSRequest{From: "+255712345678", Text: "renew 20461301 20,000 B-PART-1", Key: "africastalking:ATXid_pg1",
		Provider: "africastalking"}
	const idle = "Policy renewed: idle until paid in full\n10 Mar 2025 to 9 Mar 2026\nPaid TZS 20,000 of TZS 32,000\n" +
		"No. 20461301, FAM01\nEmmanuel Joseph Kimaro\nReceipt B-PART-1"
	first, err := e.SMS(ctx, m)
	if err != nil || first.Text != idle || first.Command != "RENEW" || first.Parts != 1 {
		t.Fatalf("first: %+v %v", first, err)
	}
	after := count(t, store)
	// One SMS, to the head: the reply itself confirms to the officer.
	if want := (rows{before.policies + 1, before.premiums + 1, before.renewals + 1, before.outbox + 1, before.insureePolicies + 4}); after != want {
		t.Errorf("rows %+v, want %+v", after, want)
	}
	// Africa's Talking delivers it again: the same key, nothing written.
	again, err := e.SMS(ctx, m)
	if err != nil || again.Text != strings.Replace(idle, "Policy renewed:", "Already renewed:", 1) {
		t.Errorf("again: %+v %v", again, err)
	}
	if got := count(t, store); got != after {
		t.Errorf("rows %+v after the same SMS again, want %+v", got, after)
	}
	var status int
	var source, key string
	if err := store.Pool().QueryRow(ctx, `SELECT p."PolicyStatus", p."Source", r.request_key
		FROM imis_gateway.renewal r JOIN "tblPolicy" p ON p."PolicyID" = r.policy_id`).Scan(&status, &source, &key); err != nil ||
		status != openimis.PolicyIdle || source != "SMS" || key != "sms:africastalking:ATXid_pg1" {
		t.Errorf("policy %d %q %q %v", status, source, key, err)
	}

	// Refusals write nothing: a stranger, another family's receipt (EO002
	// in his own area), an old product's code for a family that has none.
	for _, tt := range []struct{ from, text, want string }{
		{"+255712111222", "RENEW 310482215 32000 C-1", "Only enrolment officers can renew policies."},
		{"+255754321098", "RENEW 310482215 32000 B-PART-1", "Receipt B-PART-1 is already used."},
		{"+255712345678", "RENEW 604120019 37000 F-1 IND01", "No policy to renew for number 604120019."},
		{"+255754321098", "RENEW 907712214 37000 F-1", "No policy to renew for number 907712214."},
		{"+255754321098", "RENEW 310482215 32000", "Send: RENEW <insurance no> <amount> <receipt no> (<product code>)"},
	} {
		r, err := e.SMS(ctx, menus.SMSRequest{From: tt.from, Text: tt.text, Key: "africastalking:" + tt.text})
		if err != nil || r.Text != tt.want {
			t.Errorf("%q: %+v %v", tt.text, r, err)
		}
	}
	if got := count(t, store); got != after {
		t.Errorf("rows %+v after refusals, want %+v", got, after)
	}
	// The old product's family, by its old code, in full.
	r, err := e.SMS(ctx, menus.SMSRequest{From: "+255754321098", Text: "RENEW 310482231 32000 C-1 CHF00", Key: "africastalking:ATXid_pg2"})
	if err != nil || !strings.HasPrefix(r.Text, "Policy renewed: active\n10 Mar 2025 to 9 Mar 2026\nNo. 310482231, FAM01\n") {
		t.Errorf("old product: %+v %v", r, err)
	}
}

// screens plays inputs from a new session (the first input "" opens it) and
// returns the state and every screen shown.
func screens(t *testing.T, e *menus.Engine, c menus.Caller, inputs ...string) (menus.State, []menus.Screen) {
	t.Helper()
	ctx := context.Background()
	st, scr, err := e.Begin(ctx, c, nil)
	shown := []menus.Screen{scr}
	for _, in := range inputs {
		if err != nil {
			break
		}
		st, scr, err = e.Next(ctx, c, st, in)
		shown = append(shown, scr)
	}
	if err != nil {
		t.Fatal(err)
	}
	return st, shown
}

// confirmState is the confirmation screen of a renewal as an officer may
// craft it, whatever the screens before it refused.
func confirmState(chfid, receipt string, amount openimis.Money) menus.State {
	return menus.State{Node: menus.NodeRenewConfirm, Lang: "en",
		Back:  []string{menus.NodeMain, menus.NodeRenewAsk, menus.NodeRenewReceipt, menus.NodeRenewAmount},
		Renew: menus.Renewal{CHFID: chfid, Product: "FAM01", Due: int64(openimis.Money(37000_00)), Receipt: receipt, Amount: int64(amount)}}
}

// TestRenewOnlyInTheOfficersAreaAgainstPostgreSQL: EO003 works in the
// village of Kolo only. Family F lives in Buigiri (EO001's village): by
// USSD she is refused on the number screen and never sees the head's
// name, a crafted confirmation is refused by the store, and so is RENEW
// by SMS; nothing is written. She renews family M in Kolo. EO004 has no
// village: he renews in his district (Chamwino, family F) and nowhere else.
func TestRenewOnlyInTheOfficersAreaAgainstPostgreSQL(t *testing.T) {
	e, store := demoEngine(t)
	ctx := context.Background()
	const (
		eo003   = "+255767890123" // Rose Upendo Komba, stored "+255 767 890 123"
		eo004   = "+255784220330" // Daudi Elia Mollel, stored "0784 220 330"
		refused = "The family of 604120019 is not in your area."
	)
	before := count(t, store)

	c := menus.Caller{Phone: eo003, Session: "africastalking:ATUid_area1", Provider: "africastalking"}
	st, shown := screens(t, e, c, "3", "604120019", "604120035")
	for i, want := range []string{"Health insurance\n1. Check membership\n2. Claim status\n3. Renew policy",
		"Renew policy\n", refused + "\nRenew policy\nEnter the insurance number of any family member:",
		"The family of 604120035 is not in your area.\n"} {
		if !strings.HasPrefix(shown[i].Text, want) || shown[i].End {
			t.Errorf("screen %d: %+v, want %q", i, shown[i], want)
		}
	}
	if st.Node != menus.NodeRenewAsk || st.Renew != (menus.Renewal{}) {
		t.Errorf("state %+v, want the number asked again", st)
	}
	for _, scr := range shown {
		if strings.Contains(scr.Text, "Mwakalinga") || strings.Contains(scr.Text, "37,000") {
			t.Errorf("the family shown to another area's officer:\n%s", scr.Text)
		}
	}
	_, scr, err := e.Next(ctx, c, confirmState("604120019", "RC-AREA-1", openimis.Money(37000_00)), "1")
	if err != nil || scr != (menus.Screen{Text: refused, End: true}) {
		t.Errorf("crafted confirmation: %+v %v", scr, err)
	}
	r, err := e.SMS(ctx, menus.SMSRequest{From: eo003, Text: "RENEW 604120019 37000 RC-AREA-2", Key: "africastalking:ATXid_area1"})
	if err != nil || r.Text != refused {
		t.Errorf("SMS: %+v %v", r, err)
	}
	if got := count(t, store); got != before {
		t.Fatalf("rows %+v after refusals, want %+v", got, before)
	}

	// In her own village.
	_, shown = screens(t, e, c, "3", "48213", "KND-0200", "28800", "1")
	if want := "Halima Abdallah Salum\nFAM01 expires 10 Dec 2025\nDue: TZS 28,800\n"; !strings.HasPrefix(shown[2].Text, want) {
		t.Errorf("quote in Kolo:\n%s\nwant\n%s", shown[2].Text, want)
	}
	if end := shown[len(shown)-1]; !end.End || !strings.HasPrefix(end.Text, "Policy renewed: active\n11 Dec 2025 to 10 Dec 2026\n") {
		t.Errorf("renewal in Kolo: %+v", end)
	}

	// EO004: the whole of his district, nothing outside it.
	if _, shown := screens(t, e, menus.Caller{Phone: eo004}); !strings.Contains(shown[0].Text, "3. Renew policy") {
		t.Errorf("EO004's menu: %q", shown[0].Text)
	}
	r, err = e.SMS(ctx, menus.SMSRequest{From: eo004, Text: "RENEW 604120019 37000 RC-EO4-1", Key: "africastalking:ATXid_area2"})
	if err != nil || !strings.HasPrefix(r.Text, "Policy renewed: active\n20 Mar 2025 to 19 Mar 2026\nNo. 604120019, FAM01\n") {
		t.Errorf("EO004 in Chamwino: %+v %v", r, err)
	}
	r, err = e.SMS(ctx, menus.SMSRequest{From: eo004, Text: "RENEW 20461301 32000 RC-EO4-2", Key: "africastalking:ATXid_area3"})
	if err != nil || r.Text != "The family of 20461301 is not in your area." {
		t.Errorf("EO004 in Dodoma Mjini: %+v %v", r, err)
	}
	// Family M: three members, no phone for the head (the officer's SMS
	// only); family F: five, the head's SMS (the officer's is the reply).
	if got, want := count(t, store), (rows{before.policies + 2, before.premiums + 2, before.renewals + 2, before.outbox + 2,
		before.insureePolicies + 8}); got != want {
		t.Errorf("rows %+v, want %+v", got, want)
	}
}

// TestRenewAmountAboveDueAgainstPostgreSQL: the SMS of issue 10 (RENEW
// with 9,999,999,999,999,999 against 37,000 due) is refused, naming the
// amount due, and writes nothing, no SMS to the head either; by USSD the
// amount screen refuses it, and a crafted confirmation is refused by the
// store. With RENEWAL_MAX_OVERPAYMENT 500, 37,500 is accepted and a cent
// more is not.
func TestRenewAmountAboveDueAgainstPostgreSQL(t *testing.T) {
	e, store := demoEngine(t)
	ctx := context.Background()
	const eo001 = "+255712345678"
	before := count(t, store)

	r, err := e.SMS(ctx, menus.SMSRequest{From: eo001, Text: "RENEW 604120019 9999999999999999 RC-A2b", Key: "africastalking:ATXid_big"})
	if err != nil || r.Text != "Amount TZS 9,999,999,999,999,999 is more than the TZS 37,000 due." || r.Parts != 1 {
		t.Errorf("SMS: %+v %v", r, err)
	}
	c := menus.Caller{Phone: eo001, Session: "africastalking:ATUid_big", Provider: "africastalking"}
	st, shown := screens(t, e, c, "3", "604120019", "RC-A2c", "50000")
	if want := "Amount TZS 50,000 is more than the TZS 37,000 due.\nReceipt RC-A2c\nDue: TZS 37,000\nEnter the amount paid:\n0 Back 00 Menu"; shown[4].Text != want ||
		st.Node != menus.NodeRenewAmount || st.Renew.Amount != 0 {
		t.Errorf("USSD amount: %+v\n%s\nwant\n%s", st, shown[4].Text, want)
	}
	_, scr, err := e.Next(ctx, c, confirmState("604120019", "RC-A2d", openimis.Money(50000_00)), "1")
	if err != nil || scr != (menus.Screen{Text: "Amount TZS 50,000 is more than the TZS 37,000 due.", End: true}) {
		t.Errorf("crafted confirmation: %+v %v", scr, err)
	}
	if got := count(t, store); got != before {
		t.Fatalf("rows %+v after refusals, want %+v", got, before)
	}

	tolerant := demoMenus(store, menus.Options{MaxOverpayment: openimis.Money(500_00)})
	r, err = tolerant.SMS(ctx, menus.SMSRequest{From: eo001, Text: "RENEW 604120019 37500.01 RC-T1", Key: "africastalking:ATXid_t1"})
	if err != nil || r.Text != "Amount TZS 37,500.01 is more than the TZS 37,000 due." {
		t.Errorf("above the tolerance: %+v %v", r, err)
	}
	if got := count(t, store); got != before {
		t.Fatalf("rows %+v after refusals, want %+v", got, before)
	}
	c.Session = "africastalking:ATUid_tolerant"
	_, shown = screens(t, tolerant, c, "3", "604120019", "RC-T2", "37,501", "37,500", "1")
	if !strings.HasPrefix(shown[4].Text, "Amount TZS 37,501 is more than the TZS 37,000 due.\n") ||
		!strings.Contains(shown[5].Text, "Paid TZS 37,500 of TZS 37,000\n") ||
		!strings.HasPrefix(shown[6].Text, "Policy renewed: active\n") || !shown[6].End {
		t.Errorf("within the tolerance:\n%s\n\n%s\n\n%s", shown[4].Text, shown[5].Text, shown[6].Text)
	}
	var paid, value string
	if err := store.Pool().QueryRow(ctx, `SELECT pr."Amount"::text, p."PolicyValue"::text FROM "tblPremium" pr
		JOIN "tblPolicy" p ON p."PolicyID" = pr."PolicyID" WHERE pr."Receipt" = 'RC-T2'`).Scan(&paid, &value); err != nil ||
		paid != "37500.00" || value != "37000.00" {
		t.Errorf("premium %s of %s, %v", paid, value, err)
	}
}
