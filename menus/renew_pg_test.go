package menus_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/menus"
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
	e := menus.New(store, menus.Options{
		Now:         func() time.Time { return time.Date(2025, time.March, 10, 9, 30, 0, 0, eat) },
		Location:    eat,
		CHFIDMaxLen: store.Columns().CHFIDMaxLen,
		Claims:      store, Officers: store, Renewals: store,
		Version: "0.4.0-test",
	})
	return e, store
}

// rows counts what a renewal writes.
type rows struct{ policies, premiums, renewals, outbox int }

func count(t *testing.T, s *policystore.Store) rows {
	t.Helper()
	var r rows
	err := s.Pool().QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM "tblPolicy"), (SELECT count(*) FROM "tblPremium"),
		(SELECT count(*) FROM imis_gateway.renewal), (SELECT count(*) FROM imis_gateway.outbox)`).
		Scan(&r.policies, &r.premiums, &r.renewals, &r.outbox)
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
		{"907712214", "No policy to renew for number 907712214.\n", false},
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
	if want := (rows{before.policies + 1, before.premiums + 1, before.renewals + 1, before.outbox + 2}); after != want {
		t.Errorf("rows %+v, want %+v", after, want)
	}
	var (
		status, audit             int
		source, version, key      string
		officerBody, headBody, to string
	)
	err = store.Pool().QueryRow(ctx, `SELECT p."PolicyStatus", p."AuditUserID", p."Source", p."SourceVersion", r.request_key
		FROM imis_gateway.renewal r JOIN "tblPolicy" p ON p."PolicyID" = r.policy_id`).Scan(&status, &audit, &source, &version, &key)
	if err != nil || status != policystore.PolicyActive || audit != -1 || source != "USSD" || version != "0.4.0-test" ||
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

	// EO002 Baraka Joseph Massawe, stored "0754321098"; part paid: idle.
	m := menus.SMSRequest{From: "+255754321098", Text: "renew 20461301 20,000 B-PART-1", Key: "africastalking:ATXid_pg1",
		Provider: "africastalking"}
	const idle = "Policy renewed: idle until paid in full\n10 Mar 2025 to 9 Mar 2026\nPaid TZS 20,000 of TZS 32,000\n" +
		"No. 20461301, FAM01\nEmmanuel Joseph Kimaro\nReceipt B-PART-1"
	first, err := e.SMS(ctx, m)
	if err != nil || first.Text != idle || first.Command != "RENEW" || first.Parts != 1 {
		t.Fatalf("first: %+v %v", first, err)
	}
	after := count(t, store)
	// One SMS, to the head: the reply itself confirms to the officer.
	if want := (rows{before.policies + 1, before.premiums + 1, before.renewals + 1, before.outbox + 1}); after != want {
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
		status != policystore.PolicyIdle || source != "SMS" || key != "sms:africastalking:ATXid_pg1" {
		t.Errorf("policy %d %q %q %v", status, source, key, err)
	}

	// Refusals write nothing: a stranger, another family's receipt, an
	// old product's code for a family that has none.
	for _, tt := range []struct{ from, text, want string }{
		{"+255712111222", "RENEW 310482215 32000 C-1", "Only enrolment officers can renew policies."},
		{"+255754321098", "RENEW 310482215 32000 B-PART-1", "Receipt B-PART-1 is already used."},
		{"+255754321098", "RENEW 604120019 37000 F-1 IND01", "No policy to renew for number 604120019."},
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
