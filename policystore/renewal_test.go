package policystore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openimis/imis-gateway/migrations"
	"github.com/openimis/imis-gateway/openimis"
	"github.com/openimis/imis-gateway/policystore"
)

var flavors = []migrations.Flavor{migrations.FlavorDjango, migrations.FlavorDump}

// Demo officers' phones (policystore/demo/data.go), as the aggregator sends
// the caller's number: E.164.
const (
	eo001 = "+255712345678" // stored "0712 345 678"
	eo002 = "+255754321098" // stored "0754321098"
	eo003 = "+255767890123" // stored "+255 767 890 123"
	eo004 = "+255784220330" // stored "0784 220 330"
	eo009 = "+255715246135" // left six months before the seeding day
)

// areaOfficers are, by the start of the demo families' numbers, current
// officers whose area holds the family: EO001 works in Dodoma Mjini and in
// two villages of Chamwino, EO002 in Mwanza, EO003 in Kolo.
var areaOfficers = []struct{ prefix, phone string }{
	{"310482", eo002}, {"705338", eo002}, {"907712", eo002}, {"110034", eo002}, {"120507", eo002},
	{"402771", eo003}, {"4821", eo003},
}

// officerOf is an officer whose area holds the family of chfid (EO001 for
// the numbers of no family).
func officerOf(chfid string) string {
	for _, a := range areaOfficers {
		if strings.HasPrefix(chfid, a.prefix) {
			return a.phone
		}
	}
	return eo001
}

func request(chfid, receipt string, amount int64, key string) openimis.RenewalRequest {
	return openimis.RenewalRequest{
		CHFID: chfid, Receipt: receipt, Amount: openimis.Money(amount * 100), OfficerPhone: officerOf(chfid),
		Channel: openimis.ChannelUSSD, Today: today, RequestKey: key, SourceVersion: "0.3.0-test",
		Messages: confirmations, SMSProvider: "africastalking",
	}
}

// confirmations words the confirmation SMS of these tests, plainly: the
// gateway's are worded by the menus, in the recipient's language.
func confirmations(res openimis.RenewalResult, to string) string {
	period := res.Start.Format("2 Jan 2006") + " to " + res.Expiry.Format("2 Jan 2006")
	paid := "Paid " + res.Amount.Format()
	status := map[int]string{openimis.PolicyActive: "ACTIVE", openimis.PolicyReady: "READY",
		openimis.PolicyIdle: "IDLE until paid in full"}[res.Status]
	switch {
	case to == openimis.RecipientHead && res.Status == openimis.PolicyIdle:
		return fmt.Sprintf("Your family's %s renewal is recorded: %s. %s of %s; cover %s starts when paid in full.",
			res.ProductCode, res.HeadName, paid, res.Value.Format(), period)
	case to == openimis.RecipientHead:
		return fmt.Sprintf("Your family's %s cover is renewed: %s, %s. %s, receipt %s.", res.ProductCode, res.HeadName, period, paid, res.Receipt)
	case res.Status == openimis.PolicyIdle:
		return fmt.Sprintf("Renewed %s %s, %s, %s: %s. %s of %s, receipt %s.", res.CHFID, res.HeadName, res.ProductCode, period, status,
			paid, res.Value.Format(), res.Receipt)
	}
	return fmt.Sprintf("Renewed %s %s, %s, %s: %s. %s, receipt %s.", res.CHFID, res.HeadName, res.ProductCode, period, status, paid, res.Receipt)
}

// officer is the current officer calling from phone.
func officer(t testing.TB, s *policystore.Store, phone string) openimis.Officer {
	t.Helper()
	o, ok, err := s.OfficerByPhone(context.Background(), phone, today)
	if err != nil || !ok {
		t.Fatalf("officer %s: %v %v", phone, ok, err)
	}
	return o
}

// quote is the quote of chfid's renewal for an officer of its area.
func quote(t testing.TB, s *policystore.Store, chfid, product string, day time.Time) (openimis.RenewalQuote, error) {
	t.Helper()
	return s.RenewalQuote(context.Background(), officer(t, s, officerOf(chfid)), chfid, product, day)
}

// tally counts the rows a renewal may touch.
type tally struct {
	Policies, InsureePolicies, Premiums, OpenReminders, ClosedReminders int
	Log, Outbox, Families, Insurees, Officers                           int
}

func count(t testing.TB, s *policystore.Store) tally {
	t.Helper()
	var c tally
	err := s.Pool().QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM "tblPolicy"),
		(SELECT count(*) FROM "tblInsureePolicy"),
		(SELECT count(*) FROM "tblPremium"),
		(SELECT count(*) FROM "tblPolicyRenewals" WHERE "ValidityTo" IS NULL),
		(SELECT count(*) FROM "tblPolicyRenewals" WHERE "ValidityTo" IS NOT NULL),
		(SELECT count(*) FROM imis_gateway.renewal),
		(SELECT count(*) FROM imis_gateway.outbox),
		(SELECT count(*) FROM "tblFamilies"),
		(SELECT count(*) FROM "tblInsuree"),
		(SELECT count(*) FROM "tblOfficer")`).Scan(&c.Policies, &c.InsureePolicies, &c.Premiums, &c.OpenReminders,
		&c.ClosedReminders, &c.Log, &c.Outbox, &c.Families, &c.Insurees, &c.Officers)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func refusedWith(t *testing.T, what string, err error, want *openimis.RefusalError) {
	t.Helper()
	var r *openimis.RefusalError
	if !errors.Is(err, want) || !errors.As(err, &r) {
		t.Errorf("%s: err = %v, want refusal %s", what, err, want.Reason)
	}
}

func TestRenewalQuote(t *testing.T) {
	for _, flavor := range flavors {
		t.Run(string(flavor), func(t *testing.T) {
			s := seededStore(t, flavor)
			k := map[migrations.Flavor]struct {
				value   int64
				members int
			}{
				// The member who died 60 days ago is neither priced nor covered
				// where openIMIS records deaths ("tblInsuree"."status").
				migrations.FlavorDjango: {45000, 6},
				migrations.FlavorDump:   {55000, 7},
			}[flavor]
			cases := []struct {
				name, chfid, product string
				want                 openimis.RenewalQuote
			}{
				{"expires in 9 days: continues the day after, no discount this late", "604120035", "", openimis.RenewalQuote{
					HeadCHFID: "604120019", HeadName: "Tumaini Anyisile Mwakalinga", HeadPhone: "0754 100 200",
					ProductCode: "FAM01", ProductName: "CHF Family Basic", PreviousProductCode: "FAM01",
					PreviousExpiry: d(2025, time.March, 19), Start: d(2025, time.March, 20), Expiry: d(2026, time.March, 19),
					Value: openimis.Money(37000_00), Members: 5}},
				{"expired 10 days ago (status still Active): starts today", "20461302", "fam01", openimis.RenewalQuote{
					HeadCHFID: "20461301", HeadName: "Emmanuel Joseph Kimaro", HeadPhone: "+255 713 111 333",
					ProductCode: "FAM01", ProductName: "CHF Family Basic", PreviousProductCode: "FAM01",
					PreviousExpiry: d(2025, time.February, 28), Start: today, Expiry: d(2026, time.March, 9),
					Value: openimis.Money(32000_00), Members: 4}},
				{"old product no longer sold: converts to FAM01", "310482231", "", openimis.RenewalQuote{
					HeadCHFID: "310482215", HeadName: "Paulo Masanja Magesa", HeadPhone: "255714111444",
					ProductCode: "FAM01", ProductName: "CHF Family Basic", PreviousProductCode: "CHF00", Converted: true,
					PreviousExpiry: d(2024, time.November, 10), Start: today, Expiry: d(2026, time.March, 9),
					Value: openimis.Money(32000_00), Members: 3}},
				{"asked by the old product's code", "310482215", "CHF00", openimis.RenewalQuote{
					HeadCHFID: "310482215", HeadName: "Paulo Masanja Magesa", HeadPhone: "255714111444",
					ProductCode: "FAM01", ProductName: "CHF Family Basic", PreviousProductCode: "CHF00", Converted: true,
					PreviousExpiry: d(2024, time.November, 10), Start: today, Expiry: d(2026, time.March, 9),
					Value: openimis.Money(32000_00), Members: 3}},
				{"cycles, early: the next cycle is still covered, so the day after expiry", "110034525", "", openimis.RenewalQuote{
					HeadCHFID: "110034517", HeadName: "Naserian Lomayani Laizer", HeadPhone: "0757 246 810",
					ProductCode: "IND01", ProductName: "CHF Individual Plus", PreviousProductCode: "IND01",
					PreviousExpiry: d(2025, time.December, 31), Start: d(2026, time.January, 1), Expiry: d(2026, time.December, 31),
					Value: openimis.Money(15000_00), Members: 2}},
				{"cycles: the next cycle, per member, with an Others child", "120507718", "", openimis.RenewalQuote{
					HeadCHFID: "120507718", HeadName: "Makoye Kija Budeba", HeadPhone: "0688-123-456",
					ProductCode: "IND01", ProductName: "CHF Individual Plus", PreviousProductCode: "IND01",
					PreviousExpiry: d(2025, time.June, 30), Start: d(2025, time.July, 1), Expiry: d(2026, time.June, 30),
					Value: openimis.Money(k.value * 100), Members: k.members}},
				{"two products: the latest policy's, 10 months early with the discount", "705338838", "", openimis.RenewalQuote{
					HeadCHFID: "705338812", HeadName: "Charles Masunga Ngusa", HeadPhone: "+255754300400",
					ProductCode: "FAM01", ProductName: "CHF Family Basic", PreviousProductCode: "FAM01",
					PreviousExpiry: d(2026, time.January, 9), Start: d(2026, time.January, 10), Expiry: d(2027, time.January, 9),
					Value: openimis.Money(28800_00), Discounted: true, Members: 4, OtherProducts: []string{"IND01"}}},
				{"two products: the other one by code", "705338812", "IND01", openimis.RenewalQuote{
					HeadCHFID: "705338812", HeadName: "Charles Masunga Ngusa", HeadPhone: "+255754300400",
					ProductCode: "IND01", ProductName: "CHF Individual Plus", PreviousProductCode: "IND01",
					PreviousExpiry: d(2024, time.June, 30), Start: d(2025, time.July, 1), Expiry: d(2026, time.June, 30),
					Value: openimis.Money(30000_00), Members: 4, OtherProducts: []string{"FAM01"}}},
				{"a renewal renewed again, early", "48213", "", openimis.RenewalQuote{
					HeadCHFID: "48213", HeadName: "Halima Abdallah Salum",
					ProductCode: "FAM01", ProductName: "CHF Family Basic", PreviousProductCode: "FAM01",
					PreviousExpiry: d(2025, time.December, 10), Start: d(2025, time.December, 11), Expiry: d(2026, time.December, 10),
					Value: openimis.Money(28800_00), Discounted: true, Members: 3}},
			}
			for _, c := range cases {
				q, err := quote(t, s, c.chfid, c.product, today)
				if err != nil {
					t.Errorf("%s: %v", c.name, err)
					continue
				}
				c.want.CHFID, c.want.FamilyID, c.want.ProductID, c.want.PreviousPolicyID = c.chfid, q.FamilyID, q.ProductID, q.PreviousPolicyID
				if q.FamilyID == 0 || q.ProductID == 0 || q.PreviousPolicyID == 0 || !quoteEqual(q, c.want) {
					t.Errorf("%s:\n got %+v\nwant %+v", c.name, q, c.want)
				}
			}

			refusals := []struct {
				chfid, product string
				want           *openimis.RefusalError
			}{
				{"999999999", "", openimis.ErrUnknownNumber},
				{"", "", openimis.ErrUnknownNumber},
				{"101203401\x00", "", openimis.ErrUnknownNumber},
				{strings.Repeat("9", 60), "", openimis.ErrUnknownNumber},
				{"907712214", "", openimis.ErrNoPreviousPolicy},    // never insured
				{"402771106", "", openimis.ErrNoPreviousPolicy},    // only a new, idle policy
				{"503910017", "", openimis.ErrNoPreviousPolicy},    // only a suspended policy
				{"202405170001", "", openimis.ErrNoPreviousPolicy}, // only a Ready policy
				{"101203401", "IND01", openimis.ErrNoPreviousPolicy},
				{"101203401", "XYZ99", openimis.ErrUnknownProduct},
			}
			for _, r := range refusals {
				_, err := quote(t, s, r.chfid, r.product, today)
				refusedWith(t, fmt.Sprintf("quote %q %q", r.chfid, r.product), err, r.want)
			}
			if _, err := quote(t, s, "999999999", "", today); !errors.Is(err, openimis.ErrInsureeNotFound) {
				t.Errorf("an unknown number is also ErrInsureeNotFound: %v", err)
			}
		})
	}
}

func quoteEqual(a, b openimis.RenewalQuote) bool {
	return slices.Equal(a.OtherProducts, b.OtherProducts) && a.Start.Equal(b.Start) && a.Expiry.Equal(b.Expiry) &&
		a.PreviousExpiry.Equal(b.PreviousExpiry) && fmt.Sprint(strip(a)) == fmt.Sprint(strip(b))
}

func strip(q openimis.RenewalQuote) openimis.RenewalQuote {
	q.OtherProducts, q.Start, q.Expiry, q.PreviousExpiry = nil, time.Time{}, time.Time{}, time.Time{}
	return q
}

func TestRenewalQuoteProductNotRenewable(t *testing.T) {
	s := seededStore(t, migrations.FlavorDjango)
	ctx := context.Background()
	// FAM01 no longer sold either: CHF00 converts to nothing sold.
	if _, err := s.Pool().Exec(ctx, `UPDATE "tblProduct" SET "DateTo" = '2024-12-31' WHERE "ProductCode" = 'FAM01'`); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]string{{"310482215", ""}, {"310482215", "CHF00"}, {"604120019", ""}, {"604120019", "FAM01"}} {
		_, err := quote(t, s, c[0], c[1], today)
		refusedWith(t, "quote "+c[0]+" "+c[1], err, openimis.ErrProductNotRenewable)
	}
	// A product that is not yet sold is not renewable either.
	if _, err := s.Pool().Exec(ctx, `UPDATE "tblProduct" SET "DateTo" = '2030-12-31', "DateFrom" = '2025-03-11' WHERE "ProductCode" = 'FAM01'`); err != nil {
		t.Fatal(err)
	}
	_, err := quote(t, s, "604120019", "", today)
	refusedWith(t, "not yet sold", err, openimis.ErrProductNotRenewable)
	if _, err := quote(t, s, "604120019", "", today.AddDate(0, 0, 1)); err != nil {
		t.Errorf("sold from tomorrow, renewed tomorrow: %v", err)
	}
	// A broken start cycle refuses instead of failing.
	if _, err := s.Pool().Exec(ctx, `UPDATE "tblProduct" SET "StartCycle2" = '31-06' WHERE "ProductCode" = 'IND01'`); err != nil {
		t.Fatal(err)
	}
	_, err = quote(t, s, "110034517", "", today)
	refusedWith(t, "bad cycle", err, openimis.ErrProductNotRenewable)
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestRenewWritesEveryRow renews family F (expires in 9 days, a renewal
// reminder pending) by USSD, paid in full, and checks every row written.
func TestRenewWritesEveryRow(t *testing.T) {
	for _, flavor := range flavors {
		t.Run(string(flavor), func(t *testing.T) {
			s := seededStore(t, flavor)
			ctx := context.Background()
			before := count(t, s)
			started := time.Now()

			res, err := s.Renew(ctx, request("604120035", "QFC9M3NX5T", 37000, "ussd:ATUid_0d8f2c"))
			if err != nil {
				t.Fatal(err)
			}
			want := openimis.RenewalResult{
				PolicyID: res.PolicyID, PolicyUUID: res.PolicyUUID, CHFID: "604120035", FamilyID: res.FamilyID,
				HeadName: "Tumaini Anyisile Mwakalinga", ProductCode: "FAM01", ProductName: "CHF Family Basic",
				Start: d(2025, time.March, 20), Expiry: d(2026, time.March, 19),
				Value: openimis.Money(37000_00), Amount: openimis.Money(37000_00), Receipt: "QFC9M3NX5T",
				Status: openimis.PolicyActive, Active: true,
			}
			if fmt.Sprint(res) != fmt.Sprint(want) || !uuidV4.MatchString(res.PolicyUUID) {
				t.Fatalf("result\n got %+v\nwant %+v", res, want)
			}
			after := count(t, s)
			wantCount := before
			wantCount.Policies++
			wantCount.InsureePolicies += 5
			wantCount.Premiums++
			wantCount.OpenReminders--
			wantCount.ClosedReminders++
			wantCount.Log++
			wantCount.Outbox += 2
			if after != wantCount {
				t.Fatalf("rows\n got %+v\nwant %+v", after, wantCount)
			}
			checkRows(t, s, res, flavor, started)
		})
	}
}

// ids of the demo, by code.
func idOf(t testing.TB, s *policystore.Store, sql string, args ...any) int {
	t.Helper()
	var id int
	if err := s.Pool().QueryRow(context.Background(), sql, args...).Scan(&id); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return id
}

// dump logs a table's rows as JSON (go test -v shows them).
func dump(t *testing.T, s *policystore.Store, title, sql string, args ...any) []map[string]any {
	t.Helper()
	rows, err := s.Pool().Query(context.Background(), `SELECT row_to_json(r)::text FROM (`+sql+`) r`, args...)
	if err != nil {
		t.Fatal(err)
	}
	texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, text := range texts {
		t.Logf("%s: %s", title, text)
		var m map[string]any
		if err := json.Unmarshal([]byte(text), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// like checks a row's columns; a want of "*" only requires a non-NULL value.
func like(t *testing.T, what string, row map[string]any, want map[string]any) {
	t.Helper()
	for k, w := range want {
		got, ok := row[k]
		switch {
		case !ok:
			t.Errorf("%s: no column %s", what, k)
		case w == "*" && got == nil:
			t.Errorf("%s.%s is NULL", what, k)
		case w != "*" && fmt.Sprint(got) != fmt.Sprint(w):
			t.Errorf("%s.%s = %v, want %v", what, k, got, w)
		}
	}
}

func checkRows(t *testing.T, s *policystore.Store, res openimis.RenewalResult, flavor migrations.Flavor, started time.Time) {
	ctx := context.Background()
	eo := idOf(t, s, `SELECT "OfficerID" FROM "tblOfficer" WHERE "Code" = 'EO001'`)
	fam01 := idOf(t, s, `SELECT "ProdID" FROM "tblProduct" WHERE "ProductCode" = 'FAM01'`)
	prev := idOf(t, s, `SELECT p."PolicyID" FROM "tblPolicy" p JOIN "tblInsuree" i ON i."FamilyID" = p."FamilyID"
		WHERE i."CHFID" = '604120019' AND p."PolicyID" <> $1`, res.PolicyID)

	policies := dump(t, s, `"tblPolicy"`, `SELECT * FROM "tblPolicy" WHERE "PolicyID" = $1`, res.PolicyID)
	if len(policies) != 1 {
		t.Fatalf("%d policy rows", len(policies))
	}
	p := policies[0]
	like(t, "policy", p, map[string]any{
		"PolicyUUID": res.PolicyUUID, "FamilyID": res.FamilyID, "ProdID": fam01, "OfficerID": eo,
		"PolicyStage": "R", "PolicyStatus": 2, "PolicyValue": 37000, "EnrollDate": "2025-03-10",
		"StartDate": "2025-03-20", "EffectiveDate": "2025-03-20", "ExpiryDate": "2026-03-19", "isOffline": false,
		"ValidityFrom": "*", "ValidityTo": nil, "LegacyID": nil, "AuditUserID": -1, "Source": "USSD", "SourceVersion": "0.3.0-test",
	})
	_, hasCreation := p["creationDate"]
	if want := flavor == migrations.FlavorDjango; hasCreation != want {
		t.Errorf("creationDate column present %v, want %v", hasCreation, want)
	} else if hasCreation && p["creationDate"] != "2025-03-10" {
		t.Errorf("creationDate = %v", p["creationDate"])
	}
	var validityFrom time.Time
	if err := s.Pool().QueryRow(ctx, `SELECT "ValidityFrom" FROM "tblPolicy" WHERE "PolicyID" = $1`, res.PolicyID).Scan(&validityFrom); err != nil ||
		validityFrom.Before(started.Add(-time.Minute)) || validityFrom.After(time.Now().Add(time.Minute)) {
		t.Errorf("ValidityFrom %s (%v), want now", validityFrom, err)
	}

	members := dump(t, s, `"tblInsureePolicy"`, `SELECT ip.*, i."CHFID" FROM "tblInsureePolicy" ip
		JOIN "tblInsuree" i ON i."InsureeID" = ip."InsureeID" WHERE ip."PolicyId" = $1 ORDER BY ip."InsureeID"`, res.PolicyID)
	var chfids []string
	for _, m := range members {
		chfids = append(chfids, fmt.Sprint(m["CHFID"]))
		like(t, "insuree policy "+fmt.Sprint(m["CHFID"]), m, map[string]any{
			"PolicyId": res.PolicyID, "EnrollmentDate": "2025-03-10", "StartDate": "2025-03-20", "EffectiveDate": "2025-03-20",
			"ExpiryDate": "2026-03-19", "isOffline": false, "ValidityFrom": "*", "ValidityTo": nil, "LegacyID": nil, "AuditUserID": -1,
		})
	}
	if want := []string{"604120019", "604120027", "604120035", "604120043", "604120051"}; !slices.Equal(chfids, want) {
		t.Errorf("members covered %v, want %v", chfids, want)
	}

	premiums := dump(t, s, `"tblPremium"`, `SELECT * FROM "tblPremium" WHERE "PolicyID" = $1`, res.PolicyID)
	if len(premiums) != 1 {
		t.Fatalf("%d premiums", len(premiums))
	}
	like(t, "premium", premiums[0], map[string]any{
		"PayerID": nil, "Amount": 37000, "Receipt": "QFC9M3NX5T", "PayDate": "2025-03-10", "PayType": "C", "isPhotoFee": false,
		"isOffline": false, "ReportingId": nil, "ValidityFrom": "*", "ValidityTo": nil, "LegacyID": nil, "AuditUserID": -1,
		"CreatedDate": "2025-03-10", "Source": "USSD", "SourceVersion": "0.3.0-test",
	})
	if u := fmt.Sprint(premiums[0]["PremiumUUID"]); !uuidV4.MatchString(u) || u == res.PolicyUUID {
		t.Errorf("premium UUID %q", u)
	}

	reminders := dump(t, s, `"tblPolicyRenewals"`, `SELECT * FROM "tblPolicyRenewals" WHERE "PolicyID" = $1`, prev)
	if len(reminders) != 1 {
		t.Fatalf("%d reminders of the previous policy", len(reminders))
	}
	like(t, "reminder", reminders[0], map[string]any{"ResponseStatus": 1, "ResponseDate": "*", "ValidityTo": "*", "SMSStatus": 0})
	var otherOpen int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM "tblPolicyRenewals" WHERE "PolicyID" <> $1 AND "ValidityTo" IS NULL AND "ResponseStatus" = 0`, prev).Scan(&otherOpen); err != nil || otherOpen != 1 {
		t.Errorf("family B's reminder must stay open: %d, %v", otherOpen, err)
	}
	previous := dump(t, s, `previous "tblPolicy"`, `SELECT "PolicyID", "PolicyStatus", "ExpiryDate", "ValidityTo" FROM "tblPolicy" WHERE "PolicyID" = $1`, prev)
	like(t, "previous policy", previous[0], map[string]any{"PolicyStatus": 2, "ExpiryDate": "2025-03-19", "ValidityTo": nil})

	logs := dump(t, s, "imis_gateway.renewal", `SELECT * FROM imis_gateway.renewal WHERE policy_id = $1`, res.PolicyID)
	if len(logs) != 1 {
		t.Fatalf("%d log rows", len(logs))
	}
	like(t, "log", logs[0], map[string]any{
		"policy_uuid": res.PolicyUUID, "previous_policy_id": prev, "family_id": res.FamilyID, "product_id": fam01, "officer_id": eo,
		"chfid": "604120035", "receipt": "QFC9M3NX5T", "amount": 37000, "value": 37000, "start_date": "2025-03-20",
		"expiry_date": "2026-03-19", "status": 2, "channel": "USSD", "request_key": "ussd:ATUid_0d8f2c", "created_at": "*",
	})

	outbox := dump(t, s, "imis_gateway.outbox", `SELECT * FROM imis_gateway.outbox ORDER BY id`)
	if len(outbox) != 2 {
		t.Fatalf("%d outbox rows", len(outbox))
	}
	like(t, "officer SMS", outbox[0], map[string]any{
		"provider": "africastalking", "recipient": "+255712345678", "purpose": "renewal.officer",
		"dedup_key": "renewal:" + res.PolicyUUID + ":officer", "status": "queued", "attempts": 0, "sent_at": nil,
		"body": "Renewed 604120035 Tumaini Anyisile Mwakalinga, FAM01, 20 Mar 2025 to 19 Mar 2026: ACTIVE. Paid 37,000, receipt QFC9M3NX5T.",
	})
	like(t, "head SMS", outbox[1], map[string]any{
		"provider": "africastalking", "recipient": "+255754100200", "purpose": "renewal.head",
		"dedup_key": "renewal:" + res.PolicyUUID + ":head", "status": "queued",
		"body": "Your family's FAM01 cover is renewed: Tumaini Anyisile Mwakalinga, 20 Mar 2025 to 19 Mar 2026. Paid 37,000, receipt QFC9M3NX5T.",
	})
}

func TestRenewIdleActiveReady(t *testing.T) {
	s := seededStore(t, migrations.FlavorDjango)
	ctx := context.Background()

	// Family B, value 32000: 20000 paid is Idle, without an effective date.
	idle, err := s.Renew(ctx, request("20461301", "B-PART-1", 20000, "sms:ATXid_b1"))
	if err != nil || idle.Status != openimis.PolicyIdle || idle.Active || idle.Value != openimis.Money(32000_00) {
		t.Fatalf("idle: %+v, %v", idle, err)
	}
	rows := dump(t, s, "idle policy", `SELECT "PolicyStatus", "EffectiveDate", "StartDate" FROM "tblPolicy" WHERE "PolicyID" = $1`, idle.PolicyID)
	like(t, "idle policy", rows[0], map[string]any{"PolicyStatus": 1, "EffectiveDate": nil, "StartDate": "2025-03-10"})
	for _, m := range dump(t, s, "idle members", `SELECT "EffectiveDate" FROM "tblInsureePolicy" WHERE "PolicyId" = $1`, idle.PolicyID) {
		like(t, "idle member", m, map[string]any{"EffectiveDate": nil})
	}
	sms := dump(t, s, "idle SMS", `SELECT recipient, body FROM imis_gateway.outbox ORDER BY id`)
	if len(sms) != 2 || sms[1]["recipient"] != "+255713111333" ||
		!strings.Contains(fmt.Sprint(sms[0]["body"]), "IDLE until paid in full. Paid 20,000 of 32,000") {
		t.Errorf("idle SMS %v", sms)
	}
	// The idle renewal is a renewal that exists.
	_, err = quote(t, s, "20461301", "", today)
	refusedWith(t, "quote after an idle renewal", err, openimis.ErrRenewalExists)

	// Family C by SMS, exactly the value: Active from today.
	req := request("310482215", "C-FULL-1", 32000, "sms:ATXid_c1")
	req.Channel, req.ProductCode, req.OfficerPhone = "sms", "chf00", "0754 321 098" // EO002, typed locally
	active, err := s.Renew(ctx, req)
	if err != nil || active.Status != openimis.PolicyActive || active.ProductCode != "FAM01" {
		t.Fatalf("active: %+v, %v", active, err)
	}
	rows = dump(t, s, "active policy", `SELECT "PolicyStatus", "EffectiveDate", "Source", "OfficerID" FROM "tblPolicy" WHERE "PolicyID" = $1`, active.PolicyID)
	like(t, "active policy", rows[0], map[string]any{"PolicyStatus": 2, "EffectiveDate": "2025-03-10", "Source": "SMS",
		"OfficerID": idOf(t, s, `SELECT "OfficerID" FROM "tblOfficer" WHERE "Code" = 'EO002'`)})

	// "ActivationOption" 3: paid in full is Ready, with its effective date.
	if _, err := s.Pool().Exec(ctx, `UPDATE "tblIMISDefaults" SET "ActivationOption" = 3`); err != nil {
		t.Fatal(err)
	}
	ready, err := s.Renew(ctx, request("101203401", "A-FULL-1", 34200, "ussd:a1"))
	if err != nil || ready.Status != openimis.PolicyReady || ready.Active {
		t.Fatalf("ready: %+v, %v", ready, err)
	}
	rows = dump(t, s, "ready policy", `SELECT "PolicyStatus", "EffectiveDate", "PolicyValue" FROM "tblPolicy" WHERE "PolicyID" = $1`, ready.PolicyID)
	like(t, "ready policy", rows[0], map[string]any{"PolicyStatus": 16, "EffectiveDate": "2025-10-10", "PolicyValue": 34200})

	// Family M: the head has no phone, so the officer alone is told.
	if _, err := s.Pool().Exec(ctx, `UPDATE "tblIMISDefaults" SET "ActivationOption" = 2`); err != nil {
		t.Fatal(err)
	}
	n := count(t, s).Outbox
	m := request("48214", "M-1", 28800, "ussd:m1")
	m.OfficerPhone = eo003
	if _, err := s.Renew(ctx, m); err != nil {
		t.Fatal(err)
	}
	if got := count(t, s).Outbox - n; got != 1 {
		t.Errorf("%d SMS for a head without a phone, want 1 (the officer's)", got)
	}
}

func TestRenewRefusals(t *testing.T) {
	for _, flavor := range flavors {
		t.Run(string(flavor), func(t *testing.T) {
			s := seededStore(t, flavor)
			ctx := context.Background()
			if _, err := s.Renew(ctx, request("604120019", "F-1", 37000, "ussd:f1")); err != nil {
				t.Fatal(err)
			}
			before := count(t, s)
			with := func(f func(*openimis.RenewalRequest)) openimis.RenewalRequest {
				r := request("20461301", "B-1", 32000, "")
				f(&r)
				return r
			}
			cases := []struct {
				name string
				req  openimis.RenewalRequest
				want *openimis.RefusalError
			}{
				{"unknown number", with(func(r *openimis.RenewalRequest) { r.CHFID = "999999999" }), openimis.ErrUnknownNumber},
				{"no previous policy", with(func(r *openimis.RenewalRequest) { r.CHFID = "202405170001" }), openimis.ErrNoPreviousPolicy},
				{"renewal already exists", with(func(r *openimis.RenewalRequest) { r.CHFID = "604120027" }), openimis.ErrRenewalExists},
				{"unknown product", with(func(r *openimis.RenewalRequest) { r.ProductCode = "NOPE" }), openimis.ErrUnknownProduct},
				// Family A's premium of FAM01 has this receipt.
				{"receipt on another family's premium of the product", with(func(r *openimis.RenewalRequest) { r.Receipt = "DOD/0417" }), openimis.ErrReceiptUsed},
				// ... and so has the renewal of family F just written.
				{"receipt of another family's renewal", with(func(r *openimis.RenewalRequest) { r.Receipt = "F-1" }), openimis.ErrReceiptUsed},
				{"not an officer's phone", with(func(r *openimis.RenewalRequest) { r.OfficerPhone = "+255700000000" }), openimis.ErrNotOfficer},
				{"an insuree's phone", with(func(r *openimis.RenewalRequest) { r.OfficerPhone = "+255712111222" }), openimis.ErrNotOfficer},
				{"an officer who left", with(func(r *openimis.RenewalRequest) { r.OfficerPhone = eo009 }), openimis.ErrNotOfficer},
				{"no phone", with(func(r *openimis.RenewalRequest) { r.OfficerPhone = "" }), openimis.ErrNotOfficer},
				{"outside the officer's area", with(func(r *openimis.RenewalRequest) { r.OfficerPhone = eo003 }), openimis.ErrOutsideArea},
				{"a cent more than due", with(func(r *openimis.RenewalRequest) { r.Amount++ }), openimis.ErrAmountTooHigh},
				{"negative overpayment accepted", with(func(r *openimis.RenewalRequest) { r.MaxOverpayment = -1 }), openimis.ErrInvalidRequest},
				{"amount 0", with(func(r *openimis.RenewalRequest) { r.Amount = 0 }), openimis.ErrInvalidRequest},
				{"negative amount", with(func(r *openimis.RenewalRequest) { r.Amount = -100 }), openimis.ErrInvalidRequest},
				{"no receipt", with(func(r *openimis.RenewalRequest) { r.Receipt = "  " }), openimis.ErrInvalidRequest},
				{"receipt too long", with(func(r *openimis.RenewalRequest) { r.Receipt = strings.Repeat("R", 51) }), openimis.ErrInvalidRequest},
				{"receipt with a NUL", with(func(r *openimis.RenewalRequest) { r.Receipt = "B\x001" }), openimis.ErrInvalidRequest},
				{"receipt not UTF-8", with(func(r *openimis.RenewalRequest) { r.Receipt = "\xff" }), openimis.ErrInvalidRequest},
				{"unknown channel", with(func(r *openimis.RenewalRequest) { r.Channel = "WEB" }), openimis.ErrInvalidRequest},
				{"no date", with(func(r *openimis.RenewalRequest) { r.Today = time.Time{} }), openimis.ErrInvalidRequest},
			}
			for _, c := range cases {
				_, err := s.Renew(ctx, c.req)
				refusedWith(t, c.name, err, c.want)
			}
			if after := count(t, s); after != before {
				t.Errorf("refusals wrote rows:\n got %+v\nwant %+v", after, before)
			}
			// The same receipt on another product is fine (K's premium of IND01).
			r := with(func(r *openimis.RenewalRequest) { r.Receipt = "MGU/0377" })
			if _, err := s.Renew(ctx, r); err != nil {
				t.Errorf("receipt of another product: %v", err)
			}
			// A product no longer renewable.
			if _, err := s.Pool().Exec(ctx, `UPDATE "tblProduct" SET "DateTo" = '2024-12-31' WHERE "ProductCode" = 'FAM01'`); err != nil {
				t.Fatal(err)
			}
			_, err := s.Renew(ctx, request("310482215", "C-1", 32000, ""))
			refusedWith(t, "product not renewable", err, openimis.ErrProductNotRenewable)
		})
	}
}

// TestRenewalOnlyInTheOfficersArea: EO003 works in Kolo only, EO004 has no
// village and works in the whole of his district, Chamwino. A quote or a
// renewal outside the officer's area is refused before anything about the
// family is decided: the quote carries no name, and nothing is written.
func TestRenewalOnlyInTheOfficersArea(t *testing.T) {
	s := seededStore(t, migrations.FlavorDjango)
	ctx := context.Background()
	before := count(t, s)
	cases := []struct {
		officer, chfid string
		in             bool
	}{
		{eo003, "48213", true},        // Kolo
		{eo003, "402771106", true},    // Kolo (an idle policy: refused for that, after the area)
		{eo003, "604120019", false},   // Buigiri, EO001's village
		{eo003, "907712214", false},   // Mwanza, not even the region
		{eo004, "604120019", true},    // Buigiri, in Chamwino
		{eo004, "202405170001", true}, // Chinangali, in Chamwino
		{eo004, "20461301", false},    // Dodoma Mjini
		{eo004, "48213", false},       // Kondoa
		{eo001, "604120019", true},    // EO001's village in Chamwino
		{eo001, "48213", false},
	}
	for _, c := range cases {
		o := officer(t, s, c.officer)
		q, err := s.RenewalQuote(ctx, o, c.chfid, "", today)
		if outside := errors.Is(err, openimis.ErrOutsideArea); outside == c.in {
			t.Errorf("%s quotes %s: %+v, %v", o.Code, c.chfid, q, err)
		}
		if !c.in && (q.HeadName != "" || q.FamilyID != 0 || q.Value != 0) {
			t.Errorf("%s quotes %s: the family shown: %+v", o.Code, c.chfid, q)
		}
		req := request(c.chfid, "AREA-"+o.Code+"-"+c.chfid, 20000, "")
		req.OfficerPhone = c.officer
		_, err = s.Renew(ctx, req)
		if outside := errors.Is(err, openimis.ErrOutsideArea); outside == c.in {
			t.Errorf("%s renews %s: %v", o.Code, c.chfid, err)
		}
	}
	// No officer at all (the zero Officer) has no area.
	_, err := s.RenewalQuote(ctx, openimis.Officer{}, "604120019", "", today)
	refusedWith(t, "no officer", err, openimis.ErrOutsideArea)

	// Written: EO003's renewal of family M, EO004's and EO001's of family
	// F (the second one refused as existing), nothing else.
	got := count(t, s)
	if got.Policies != before.Policies+2 || got.Premiums != before.Premiums+2 || got.Log != before.Log+2 ||
		got.InsureePolicies != before.InsureePolicies+3+5 {
		t.Errorf("rows\n got %+v\nfrom %+v", got, before)
	}
}

// TestRenewAreaAsTheDatabaseSaysNow: the officer index may be a minute old;
// Renew decides the area on the rows as they are in its transaction. A
// village withdrawn from EO001 after the index was loaded is refused (and
// nothing written); a village given to EO003 since is accepted; EO004,
// given a village, no longer has his whole district.
func TestRenewAreaAsTheDatabaseSaysNow(t *testing.T) {
	s := seededStore(t, migrations.FlavorDjango)
	ctx := context.Background()
	eo1, eo3, eo4 := officer(t, s, eo001), officer(t, s, eo003), officer(t, s, eo004) // the index is loaded
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := s.Pool().Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	village := func(code string) int {
		return idOf(t, s, `SELECT "LocationId" FROM "tblLocations" WHERE "LocationCode" = $1 AND "ValidityTo" IS NULL`, code)
	}
	exec(`UPDATE "tblOfficerVillages" SET "ValidityTo" = now() WHERE "OfficerId" = $1 AND "LocationId" = $2`, eo1.ID, village("DOD03011"))
	before := count(t, s)
	if _, err := s.RenewalQuote(ctx, eo1, "604120019", "", today); err != nil {
		t.Fatalf("the index still has Buigiri: %v", err)
	}
	_, err := s.Renew(ctx, request("604120019", "F-1", 37000, "ussd:withdrawn"))
	refusedWith(t, "village withdrawn since the index was loaded", err, openimis.ErrOutsideArea)
	if got := count(t, s); got != before {
		t.Fatalf("a refusal wrote rows:\n got %+v\nwant %+v", got, before)
	}

	exec(`INSERT INTO "tblOfficerVillages" ("OfficerId", "LocationId", "ValidityFrom", "AuditUserID") VALUES ($1, $2, now(), -1)`,
		eo3.ID, village("DOD03011"))
	_, err = s.RenewalQuote(ctx, eo3, "604120019", "", today)
	refusedWith(t, "the index does not have EO003's new village yet", err, openimis.ErrOutsideArea)
	req := request("604120019", "F-2", 37000, "ussd:given")
	req.OfficerPhone = eo003
	if _, err := s.Renew(ctx, req); err != nil {
		t.Errorf("a village given since the index was loaded: %v", err)
	}

	exec(`INSERT INTO "tblOfficerVillages" ("OfficerId", "LocationId", "ValidityFrom", "AuditUserID") VALUES ($1, $2, now(), -1)`,
		eo4.ID, village("DOD01011"))
	req = request("202405170001", "L-1", 20000, "")
	req.OfficerPhone = eo004
	_, err = s.Renew(ctx, req)
	refusedWith(t, "EO004 with a village of his own", err, openimis.ErrOutsideArea)
}

// TestRenewAmountAboveDue: the RENEW of issue 10, 9,999,999,999,999,999
// against 37,000 due, is refused with the amount due and writes nothing;
// with 500 accepted over the amount due, 37,500 is written and a cent
// more is not.
func TestRenewAmountAboveDue(t *testing.T) {
	s := seededStore(t, migrations.FlavorDjango)
	ctx := context.Background()
	before := count(t, s)
	req := request("604120019", "RC-A2b", 0, "sms:ATXid_absurd")
	req.Channel, req.Amount = openimis.ChannelSMS, 9_999_999_999_999_999_00
	_, err := s.Renew(ctx, req)
	var r *openimis.RefusalError
	if !errors.Is(err, openimis.ErrAmountTooHigh) || !errors.As(err, &r) || r.Due != openimis.Money(37000_00) {
		t.Fatalf("err = %v, want ErrAmountTooHigh with 37000 due", err)
	}
	req.Amount, req.MaxOverpayment, req.RequestKey = openimis.Money(37500_00)+1, openimis.Money(500_00), "sms:ATXid_over"
	_, err = s.Renew(ctx, req)
	refusedWith(t, "a cent above the tolerance", err, openimis.ErrAmountTooHigh)
	if got := count(t, s); got != before {
		t.Fatalf("refusals wrote rows:\n got %+v\nwant %+v", got, before)
	}
	req.Amount, req.RequestKey = openimis.Money(37500_00), "sms:ATXid_within"
	res, err := s.Renew(ctx, req)
	if err != nil || res.Status != openimis.PolicyActive || res.Amount != openimis.Money(37500_00) || res.Value != openimis.Money(37000_00) {
		t.Fatalf("within the tolerance: %+v, %v", res, err)
	}
}

// TestRenewOfficerRetiredMeanwhile: the index still knows the officer, the
// transaction reads the row and refuses.
func TestRenewOfficerRetiredMeanwhile(t *testing.T) {
	s := seededStore(t, migrations.FlavorDjango)
	ctx := context.Background()
	if _, ok, err := s.OfficerByPhone(ctx, eo003, today); !ok || err != nil {
		t.Fatalf("EO003: %v, %v", ok, err)
	}
	if _, err := s.Pool().Exec(ctx, `UPDATE "tblOfficer" SET "WorksTo" = '2025-03-01' WHERE "Code" = 'EO003'`); err != nil {
		t.Fatal(err)
	}
	req := request("48213", "M-1", 28800, "")
	_, err := s.Renew(ctx, req)
	refusedWith(t, "retired since the index was loaded", err, openimis.ErrNotOfficer)
	if _, err := s.Pool().Exec(ctx, `UPDATE "tblOfficer" SET "WorksTo" = NULL, "Phone" = '0700 111 222' WHERE "Code" = 'EO003'`); err != nil {
		t.Fatal(err)
	}
	_, err = s.Renew(ctx, req)
	refusedWith(t, "phone changed since the index was loaded", err, openimis.ErrNotOfficer)
}

func TestRenewIsIdempotent(t *testing.T) {
	for _, flavor := range flavors {
		t.Run(string(flavor), func(t *testing.T) {
			s := seededStore(t, flavor)
			ctx := context.Background()
			first, err := s.Renew(ctx, request("604120019", "QFC9M3NX5T", 37000, "ussd:sess-1"))
			if err != nil || first.Repeated {
				t.Fatalf("%+v, %v", first, err)
			}
			after := count(t, s)
			again := []struct {
				name string
				req  openimis.RenewalRequest
			}{
				{"the same request replayed", request("604120019", "QFC9M3NX5T", 37000, "ussd:sess-1")},
				{"the same key, whatever else", request("604120019", "OTHER", 1, "ussd:sess-1")},
				{"the same receipt by SMS, another member's number", func() openimis.RenewalRequest {
					r := request("604120043", "QFC9M3NX5T", 37000, "sms:ATXid_77")
					r.Channel, r.ProductCode, r.OfficerPhone = openimis.ChannelSMS, "FAM01", eo004 // the district's officer
					return r
				}()},
				{"the same receipt, no key", request("604120051", "QFC9M3NX5T", 40000, "")},
			}
			for _, a := range again {
				res, err := s.Renew(ctx, a.req)
				if err != nil || !res.Repeated || res.PolicyID != first.PolicyID || res.PolicyUUID != first.PolicyUUID ||
					res.Amount != first.Amount || res.Status != first.Status || !res.Start.Equal(first.Start) ||
					res.HeadName != first.HeadName || res.ProductCode != "FAM01" || res.Receipt != first.Receipt {
					t.Errorf("%s: %+v, %v; want the first result %+v repeated", a.name, res, err, first)
				}
			}
			if got := count(t, s); got != after {
				t.Errorf("repeats wrote rows:\n got %+v\nwant %+v", got, after)
			}
			// Another receipt is another renewal, which exists already.
			_, err = s.Renew(ctx, request("604120019", "QFC0000000", 37000, "ussd:sess-2"))
			refusedWith(t, "a second renewal", err, openimis.ErrRenewalExists)
		})
	}
}

// TestRenewConcurrently fires 20 renewals of one family at once, by USSD and
// SMS, with shared and distinct request keys and receipts: exactly one
// policy is written; every other request gets the earlier result or a
// refusal, never an error.
func TestRenewConcurrently(t *testing.T) {
	s := seededStore(t, migrations.FlavorDjango)
	ctx := context.Background()
	before := count(t, s)
	members := []string{"604120019", "604120027", "604120035", "604120043", "604120051"}
	var (
		wg                        sync.WaitGroup
		written, repeated, exists atomic.Int32
		mu                        sync.Mutex
		ids                       = map[int]bool{}
		failures                  []error
	)
	start := make(chan struct{})
	for i := range 20 {
		wg.Go(func() {
			req := request(members[i%len(members)], fmt.Sprintf("RC-%d", i%3), 37000, fmt.Sprintf("ussd:s%d", i%4))
			if i%2 == 1 {
				req.Channel, req.RequestKey = openimis.ChannelSMS, fmt.Sprintf("sms:m%d", i%5)
			}
			<-start
			res, err := s.Renew(ctx, req)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && !res.Repeated:
				written.Add(1)
				ids[res.PolicyID] = true
			case err == nil:
				repeated.Add(1)
				ids[res.PolicyID] = true
			case errors.Is(err, openimis.ErrRenewalExists):
				exists.Add(1)
			default:
				failures = append(failures, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(failures) > 0 || written.Load() != 1 || len(ids) != 1 {
		t.Fatalf("written %d, repeated %d, refused %d, policies %v, failures %v", written.Load(), repeated.Load(), exists.Load(), ids, failures)
	}
	t.Logf("written %d, repeated %d, refused as existing %d", written.Load(), repeated.Load(), exists.Load())
	got := count(t, s)
	if got.Policies != before.Policies+1 || got.Premiums != before.Premiums+1 || got.Log != before.Log+1 ||
		got.InsureePolicies != before.InsureePolicies+5 || got.Outbox < before.Outbox+1 || got.Outbox > before.Outbox+2 {
		// Two SMS (officer and head) when the winner came by USSD, one (the
		// head) by SMS, whose reply is the officer's confirmation.
		t.Fatalf("rows\n got %+v\nfrom %+v", got, before)
	}
}

// TestRenewConcurrentlyAcrossFamilies: the family lock does not serialise
// different families, yet a receipt goes to one of them only, and a request
// key to one renewal only.
func TestRenewConcurrentlyAcrossFamilies(t *testing.T) {
	s := seededStore(t, migrations.FlavorDjango)
	ctx := context.Background()
	families := []string{"101203401", "20461301", "310482215", "604120019", "705338812", "806245517", "48213"}
	run := func(mk func(i int, chfid string) openimis.RenewalRequest) (ok, repeated int, errs []error) {
		var (
			wg sync.WaitGroup
			mu sync.Mutex
		)
		start := make(chan struct{})
		for i, chfid := range families {
			wg.Go(func() {
				<-start
				res, err := s.Renew(ctx, mk(i, chfid))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					errs = append(errs, err)
				case res.Repeated:
					repeated++
				default:
					ok++
				}
			})
		}
		close(start)
		wg.Wait()
		return ok, repeated, errs
	}

	before := count(t, s)
	ok, _, errs := run(func(i int, chfid string) openimis.RenewalRequest {
		return request(chfid, "SHARED-RECEIPT", 20000, fmt.Sprintf("ussd:r%d", i))
	})
	if ok != 1 || len(errs) != len(families)-1 {
		t.Fatalf("one receipt, %d families: %d written, errors %v", len(families), ok, errs)
	}
	for _, err := range errs {
		refusedWith(t, "shared receipt", err, openimis.ErrReceiptUsed)
	}
	if got := count(t, s); got.Policies != before.Policies+1 {
		t.Fatalf("%d policies written", got.Policies-before.Policies)
	}

	ok, repeated, errs := run(func(i int, chfid string) openimis.RenewalRequest {
		return request(chfid, fmt.Sprintf("OWN-%d", i), 20000, "ussd:one-session")
	})
	// The family renewed above refuses (renewal exists) unless the key's
	// renewal is found first; everyone else gets the one renewal.
	if ok != 1 || ok+repeated+len(errs) != len(families) {
		t.Fatalf("one key: %d written, %d repeated, errors %v", ok, repeated, errs)
	}
	for _, err := range errs {
		refusedWith(t, "shared key", err, openimis.ErrRenewalExists)
	}
	if got := count(t, s); got.Policies != before.Policies+2 || got.Log != before.Log+2 {
		t.Fatalf("%d policies, %d log rows written", got.Policies-before.Policies, got.Log-before.Log)
	}
}

// TestRenewRaceOnTheRequestKey slows every write down so that concurrent
// renewals of different families with one request key all pass the look-up
// before any commits: the UNIQUE constraint then decides, and the losers
// get the winner's result, not an error.
func TestRenewRaceOnTheRequestKey(t *testing.T) {
	s := seededStore(t, migrations.FlavorDjango)
	ctx := context.Background()
	_, err := s.Pool().Exec(ctx, `
		CREATE FUNCTION test_slow() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END $$;
		CREATE TRIGGER test_slow BEFORE INSERT ON "tblPremium" FOR EACH ROW EXECUTE FUNCTION test_slow();`)
	if err != nil {
		t.Fatal(err)
	}
	before := count(t, s)
	families := []string{"101203401", "20461301", "310482215", "604120019", "705338812"}
	results := make([]openimis.RenewalResult, len(families))
	errs := make([]error, len(families))
	var wg sync.WaitGroup
	for i, chfid := range families {
		wg.Go(func() {
			results[i], errs[i] = s.Renew(ctx, request(chfid, fmt.Sprintf("KEY-RACE-%d", i), 20000, "sms:ATXid_same"))
		})
	}
	wg.Wait()
	written := 0
	for i := range families {
		if errs[i] != nil {
			t.Fatalf("%s: %v", families[i], errs[i])
		}
		if !results[i].Repeated {
			written++
		}
		if results[i].PolicyID != results[0].PolicyID {
			t.Errorf("%s: policy %d, want the one renewal %d", families[i], results[i].PolicyID, results[0].PolicyID)
		}
	}
	got := count(t, s)
	if written != 1 || got.Policies != before.Policies+1 || got.Log != before.Log+1 || got.Premiums != before.Premiums+1 {
		t.Fatalf("%d written; rows\n got %+v\nfrom %+v", written, got, before)
	}
}

// TestRenewFailingHalfwayLeavesNothing makes the premium insert fail, after
// the policy and its members are written, and then makes it hang past the
// caller's deadline: neither leaves a row.
func TestRenewFailingHalfwayLeavesNothing(t *testing.T) {
	for _, flavor := range flavors {
		t.Run(string(flavor), func(t *testing.T) {
			s := seededStore(t, flavor)
			ctx := context.Background()
			before := count(t, s)
			_, err := s.Pool().Exec(ctx, `
				CREATE FUNCTION test_fail() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN RAISE EXCEPTION 'injected failure'; END $$;
				CREATE TRIGGER test_fail BEFORE INSERT ON "tblPremium" FOR EACH ROW EXECUTE FUNCTION test_fail();`)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Renew(ctx, request("604120019", "F-1", 37000, "ussd:f"))
			var refusal *openimis.RefusalError
			if err == nil || errors.As(err, &refusal) || !strings.Contains(err.Error(), "injected failure") {
				t.Fatalf("err = %v, want the injected failure", err)
			}
			if got := count(t, s); got != before {
				t.Fatalf("a failed renewal left rows:\n got %+v\nwant %+v", got, before)
			}

			_, err = s.Pool().Exec(ctx, `
				CREATE OR REPLACE FUNCTION test_fail() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN PERFORM pg_sleep(3); RETURN NEW; END $$;`)
			if err != nil {
				t.Fatal(err)
			}
			short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			began := time.Now()
			_, err = s.Renew(short, request("604120019", "F-1", 37000, "ussd:f"))
			if err == nil || time.Since(began) > 5*time.Second {
				t.Fatalf("err = %v after %s, want the deadline", err, time.Since(began))
			}
			if got := count(t, s); got != before {
				t.Fatalf("a cancelled renewal left rows:\n got %+v\nwant %+v", got, before)
			}

			// The trigger goes once the abandoned transaction has ended.
			if _, err := s.Pool().Exec(ctx, `DROP TRIGGER test_fail ON "tblPremium"`); err != nil {
				t.Fatal(err)
			}
			if got := count(t, s); got != before {
				t.Fatalf("the abandoned transaction committed rows:\n got %+v\nwant %+v", got, before)
			}
			if res, err := s.Renew(ctx, request("604120019", "F-1", 37000, "ussd:f")); err != nil || res.Repeated {
				t.Fatalf("after the failures: %+v, %v", res, err)
			}
		})
	}
}

// TestRenewCoversMemberCount: with MemberCount 4, family A's six members are
// cut to the four the value counts: the three adults, then the first child.
func TestRenewCoversMemberCount(t *testing.T) {
	s := seededStore(t, migrations.FlavorDjango)
	ctx := context.Background()
	if _, err := s.Pool().Exec(ctx, `UPDATE "tblProduct" SET "MemberCount" = 4 WHERE "ProductCode" = 'FAM01'`); err != nil {
		t.Fatal(err)
	}
	q, err := quote(t, s, "101203401", "", today)
	// 30000 + 2000, 10% off (renewed seven months early)
	if err != nil || q.Members != 4 || q.Value != openimis.Money(28800_00) {
		t.Fatalf("%+v, %v", q, err)
	}
	res, err := s.Renew(ctx, request("101203401", "A-1", 28800, ""))
	if err != nil {
		t.Fatal(err)
	}
	var chfids []string
	for _, m := range dump(t, s, "covered", `SELECT i."CHFID" FROM "tblInsureePolicy" ip JOIN "tblInsuree" i ON i."InsureeID" = ip."InsureeID"
		WHERE ip."PolicyId" = $1 ORDER BY i."InsureeID"`, res.PolicyID) {
		chfids = append(chfids, fmt.Sprint(m["CHFID"]))
	}
	if want := []string{"101203401", "101203402", "101203403", "101203406"}; !slices.Equal(chfids, want) {
		t.Errorf("covered %v, want %v", chfids, want)
	}
}

func TestRenewMessages(t *testing.T) {
	s := seededStore(t, migrations.FlavorDjango)
	ctx := context.Background()
	req := request("604120019", "F-1", 37000, "")
	req.Messages = func(res openimis.RenewalResult, to string) string {
		if to == openimis.RecipientOfficer {
			return "Sasisho limefanikiwa: " + res.CHFID
		}
		return confirmations(res, to)
	}
	if _, err := s.Renew(ctx, req); err != nil {
		t.Fatal(err)
	}
	rows := dump(t, s, "outbox", `SELECT body FROM imis_gateway.outbox ORDER BY id`)
	if len(rows) != 2 || rows[0]["body"] != "Sasisho limefanikiwa: 604120019" ||
		!strings.HasPrefix(fmt.Sprint(rows[1]["body"]), "Your family's FAM01 cover is renewed") {
		t.Errorf("bodies %v", rows)
	}
}

// TestRenewNeedsItsMessages: the store words no SMS. A request without
// Messages, or whose Messages give a recipient no text, writes nothing;
// the same request with its texts then renews.
func TestRenewNeedsItsMessages(t *testing.T) {
	s := seededStore(t, migrations.FlavorDjango)
	ctx := context.Background()
	before := count(t, s)
	req := request("604120019", "F-1", 37000, "ussd:texts")
	req.Messages = nil
	if res, err := s.Renew(ctx, req); err == nil || errors.Is(err, openimis.ErrInvalidRequest) {
		t.Errorf("without Messages: %+v, %v; want an error that is no refusal", res, err)
	}
	req.Messages = func(res openimis.RenewalResult, to string) string {
		if to == openimis.RecipientHead {
			return ""
		}
		return confirmations(res, to)
	}
	if res, err := s.Renew(ctx, req); err == nil {
		t.Errorf("without the head's text: %+v", res)
	}
	if after := count(t, s); after != before {
		t.Errorf("rows written:\n got %+v\nwant %+v", after, before)
	}
	req.Messages = confirmations
	if res, err := s.Renew(ctx, req); err != nil || res.Repeated {
		t.Errorf("with its texts: %+v, %v", res, err)
	}
}

// BenchmarkRenewalQuote measures the quote an officer waits for, on the demo.
func BenchmarkRenewalQuote(b *testing.B) {
	s := seededStore(b, migrations.FlavorDjango)
	ctx := context.Background()
	numbers := []string{"604120019", "20461302", "310482215", "110034517", "120507718", "705338812", "48213", "101203401"}
	officers := make([]openimis.Officer, len(numbers))
	for i, n := range numbers {
		officers[i] = officer(b, s, officerOf(n))
	}
	quote := func(i int) {
		if _, err := s.RenewalQuote(ctx, officers[i%len(numbers)], numbers[i%len(numbers)], "", today); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		i := 0
		for b.Loop() {
			quote(i)
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				quote(int(next.Add(1)))
			}
		})
	})
	b.Run("officer", func(b *testing.B) {
		for b.Loop() {
			if _, ok, err := s.OfficerByPhone(ctx, eo001, today); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
}
