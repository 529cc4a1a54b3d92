package demo_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openimis/imis-gateway/migrations"
	"github.com/openimis/imis-gateway/openimis"
	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/policystore/demo"
	"github.com/openimis/imis-gateway/policystore/pgtest"
)

// A fixed seeding day keeps failures reproducible; TestCatalogueHoldsAllYear
// moves it around the calendar.
var today = time.Date(2025, time.March, 10, 0, 0, 0, 0, time.UTC)

var flavors = []migrations.Flavor{migrations.FlavorDjango, migrations.FlavorDump}

func openStore(t testing.TB, url string) *policystore.Store {
	t.Helper()
	s, err := policystore.Open(context.Background(), url, policystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func seeded(t testing.TB, flavor migrations.Flavor, day time.Time) *policystore.Store {
	t.Helper()
	s := openStore(t, pgtest.NewDatabase(t, pgtest.WithFlavor(flavor)))
	sum, err := demo.Seed(context.Background(), s.Pool(), day, false)
	if err != nil {
		t.Fatal(err)
	}
	if sum.AlreadySeeded || sum.Insurees == 0 {
		t.Fatalf("first seed: %+v", sum)
	}
	return s
}

// checkCatalogue asserts that every Catalogue case answers as it says.
func checkCatalogue(t *testing.T, s *policystore.Store, day time.Time) {
	t.Helper()
	for _, c := range demo.Catalogue {
		cov, err := s.Coverage(context.Background(), c.CHFID, day)
		if err != nil {
			t.Errorf("%s (%s): %v", c.CHFID, day.Format(time.DateOnly), err)
			continue
		}
		if got := cov.OtherNames + " " + cov.LastName; got != c.Name {
			t.Errorf("%s: name %q, want %q", c.CHFID, got, c.Name)
		}
		if cov.Phone != c.Phone {
			t.Errorf("%s: phone %q, want %q", c.CHFID, cov.Phone, c.Phone)
		}
		if (len(cov.Policies) > 0) != c.HasPolicy {
			t.Errorf("%s (%s): %d policy lines, want HasPolicy=%v", c.CHFID, day.Format(time.DateOnly), len(cov.Policies), c.HasPolicy)
			continue
		}
		if !c.HasPolicy {
			continue
		}
		first := cov.Policies[0]
		if first.Status != c.Want || first.ProductCode != c.Product {
			t.Errorf("%s (%s, %s): first line %s status %d (policy status %d, %s..%s), want %s status %d",
				c.CHFID, c.Shows, day.Format(time.DateOnly), first.ProductCode, first.Status, first.PolicyStatus,
				first.EffectiveDate.Format(time.DateOnly), first.ExpiryDate.Format(time.DateOnly), c.Product, c.Want)
		}
	}
}

func TestCatalogueAnswersAsItSays(t *testing.T) {
	for _, flavor := range flavors {
		t.Run(string(flavor), func(t *testing.T) {
			checkCatalogue(t, seeded(t, flavor, today), today)
		})
	}
}

// The data is relative to the seeding day; the half-year cycles, month ends
// and leap days must not change what a case shows.
func TestCatalogueHoldsAllYear(t *testing.T) {
	s := seeded(t, migrations.FlavorDjango, today)
	days := []time.Time{
		time.Date(2024, time.February, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2025, time.June, 30, 0, 0, 0, 0, time.UTC),
		time.Date(2025, time.July, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2025, time.August, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2025, time.December, 31, 0, 0, 0, 0, time.UTC),
		// A local midnight east of UTC: only the calendar date counts.
		time.Date(2026, time.May, 1, 0, 0, 0, 0, time.FixedZone("EAT", 3*3600)),
	}
	for _, day := range days {
		if _, err := demo.Seed(context.Background(), s.Pool(), day, true); err != nil {
			t.Fatalf("%s: %v", day, err)
		}
		checkCatalogue(t, s, day)
	}
}

func TestSeedTwiceIsANoOp(t *testing.T) {
	s := seeded(t, migrations.FlavorDjango, today)
	before := checksum(t, s.Pool())
	sum, err := demo.Seed(context.Background(), s.Pool(), today.AddDate(0, 0, 3), false)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.AlreadySeeded || sum.Insurees != 0 || !strings.Contains(sum.String(), "already") {
		t.Fatalf("second seed: %+v (%s)", sum, sum)
	}
	if after := checksum(t, s.Pool()); after != before {
		t.Fatal("a second seed changed the data")
	}
}

func TestResetReproducesIdenticalData(t *testing.T) {
	ctx := context.Background()
	s := seeded(t, migrations.FlavorDjango, today)
	first := checksum(t, s.Pool())

	sum, err := demo.Seed(ctx, s.Pool(), today, true)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Reset || sum.AlreadySeeded {
		t.Fatalf("reset: %+v", sum)
	}
	if again := checksum(t, s.Pool()); again != first {
		t.Fatal("reset and seed produced different data")
	}
	// A second database, seeded on its own, holds the same rows too.
	if other := checksum(t, seeded(t, migrations.FlavorDjango, today).Pool()); other != first {
		t.Fatal("two databases seeded for the same day differ")
	}
	// A different day moves the dates.
	if _, err := demo.Seed(ctx, s.Pool(), today.AddDate(0, 1, 0), true); err != nil {
		t.Fatal(err)
	}
	if checksum(t, s.Pool()) == first {
		t.Fatal("seeding a month later gave the same dates")
	}
}

func TestResetRefusedOnANonDevDatabase(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t, pgtest.Empty()))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE TABLE "tblInsuree" ("InsureeID" serial PRIMARY KEY, "CHFID" varchar(12));
		INSERT INTO "tblInsuree" ("CHFID") VALUES ('070707070')`); err != nil {
		t.Fatal(err)
	}
	_, err = demo.Seed(ctx, pool, today, true)
	if !errors.Is(err, demo.ErrNotDevDatabase) {
		t.Fatalf("reset of a foreign database: err = %v, want ErrNotDevDatabase", err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM "tblInsuree"`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the foreign insuree is gone: n=%d err=%v", n, err)
	}
}

func TestSeedRefusesToMixWithOtherRows(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, pgtest.NewDatabase(t))
	// A real insuree holding one of the demo's numbers.
	_, err := s.Pool().Exec(ctx, `
		INSERT INTO "tblFamilies" ("FamilyUUID", "InsureeID", "ValidityFrom", "AuditUserID") VALUES ('f', 1, now(), -1);
		INSERT INTO "tblInsuree" ("InsureeUUID", "FamilyID", "CHFID", "LastName", "OtherNames", "DOB", "IsHead", "CardIssued", "ValidityFrom", "AuditUserID")
		VALUES ('i', 1, '101203401', 'X', 'Y', '1980-01-01', true, false, now(), -1)`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = demo.Seed(ctx, s.Pool(), today, false)
	if err == nil || !strings.Contains(err.Error(), "1 insurance numbers") {
		t.Fatalf("err = %v, want a clash on one insurance number", err)
	}
	// Reset is the way out on a development database.
	if _, err := demo.Seed(ctx, s.Pool(), today, true); err != nil {
		t.Fatal(err)
	}
	checkCatalogue(t, s, today)
}

// TestDataIsRealistic checks what the brief asks of the content, on the rows
// as written.
func TestDataIsRealistic(t *testing.T) {
	ctx := context.Background()
	s := seeded(t, migrations.FlavorDump, today)
	db := s.Pool()

	lengths := map[int]bool{}
	digits := regexp.MustCompile(`^[0-9]+$`)
	for _, c := range demo.Catalogue {
		if !digits.MatchString(c.CHFID) || len(c.CHFID) > 12 {
			t.Errorf("CHFID %q: digits only, at most 12 (the 1.4.2 column)", c.CHFID)
		}
		lengths[len(c.CHFID)] = true
	}
	for _, n := range []int{5, 8, 9, 12} {
		if !lengths[n] {
			t.Errorf("no %d-digit insurance number in the Catalogue", n)
		}
	}

	queries := []struct {
		what string
		sql  string
		want string
	}{
		{"location levels", `SELECT string_agg(DISTINCT "LocationType", '' ORDER BY "LocationType") FROM "tblLocations"`, "DRVW"},
		{"regions", `SELECT count(*)::text FROM "tblLocations" WHERE "LocationType" = 'R'`, "2"},
		{"villages without a ward", `SELECT count(*)::text FROM "tblLocations" v LEFT JOIN "tblLocations" w ON w."LocationId" = v."ParentLocationId" AND w."LocationType" = 'W' WHERE v."LocationType" = 'V' AND w."LocationId" IS NULL`, "0"},
		{"longest facility name", `SELECT max(length("HFName"))::text FROM "tblHF"`, "100"},
		{"families", `SELECT (count(*) >= 12)::text FROM "tblFamilies"`, "true"},
		{"heads", `SELECT count(*)::text FROM "tblFamilies" f JOIN "tblInsuree" i ON i."InsureeID" = f."InsureeID" AND i."IsHead" AND i."FamilyID" = f."FamilyID"`, "13"},
		{"policy statuses", `SELECT string_agg(DISTINCT "PolicyStatus"::text, ',' ORDER BY "PolicyStatus"::text) FROM "tblPolicy" WHERE "ValidityTo" IS NULL`, "1,16,2,4,8"},
		{"claim statuses", `SELECT string_agg(DISTINCT "ClaimStatus"::text, ',' ORDER BY "ClaimStatus"::text) FROM "tblClaim"`, "1,16,2,4,8"},
		{"claims with amounts out of step", `SELECT count(*)::text FROM "tblClaim" WHERE ("ClaimStatus" = 2 AND "Approved" IS NOT NULL) OR ("ClaimStatus" IN (4, 8, 16) AND "Approved" IS NULL) OR (("ClaimStatus" = 16) <> ("Valuated" IS NOT NULL)) OR "Approved" > "Claimed"`, "0"},
		{"premiums with a NULL photo fee", `SELECT count(*)::text FROM "tblPremium" WHERE "isPhotoFee" IS NOT FALSE`, "0"},
		{"upper-case UUIDs", `SELECT count(*)::text FROM (SELECT "InsureeUUID" u FROM "tblInsuree" UNION ALL SELECT "PolicyUUID" FROM "tblPolicy" UNION ALL SELECT "PremiumUUID" FROM "tblPremium" UNION ALL SELECT "ClaimUUID" FROM "tblClaim" UNION ALL SELECT "FamilyUUID" FROM "tblFamilies") x WHERE u <> lower(u)`, "0"},
		{"Others", `SELECT (count(*) >= 2)::text FROM "tblInsuree" WHERE "Relationship" = 7`, "true"},
		{"infants", `SELECT (count(*) >= 2)::text FROM "tblInsuree" WHERE "DOB" > $1::date - 365`, "true"},
		{"elderly", `SELECT (count(*) >= 2)::text FROM "tblInsuree" WHERE "DOB" < $1::date - 70 * 365`, "true"},
		{"head phone formats", `SELECT string_agg(coalesce(i."Phone", 'NULL'), '|' ORDER BY i."InsureeID") FROM "tblFamilies" f JOIN "tblInsuree" i ON i."InsureeID" = f."InsureeID" WHERE i."CHFID" IN ('101203401', '20461301', '310482215', '402771106', '48213')`, "0712 111 222|+255 713 111 333|255714111444||NULL"},
		{"current officers", `SELECT string_agg("Code", ',' ORDER BY "Code") FROM "tblOfficer" WHERE "WorksTo" IS NULL OR "WorksTo" >= $1`, "EO001,EO002,EO003,EO004"},
		{"expiring within 14 days", `SELECT count(*)::text FROM "tblPolicy" WHERE "ValidityTo" IS NULL AND "PolicyStatus" = 2 AND "ExpiryDate" BETWEEN $1 AND $1::date + 14`, "1"},
		{"history rows", `SELECT (SELECT count(*) FROM "tblInsuree" WHERE "ValidityTo" IS NOT NULL AND "LegacyID" IS NOT NULL)::text || (SELECT count(*) FROM "tblInsureePolicy" WHERE "ValidityTo" IS NOT NULL)::text`, "12"},
		{"member without a policy row", `SELECT count(*)::text FROM "tblInsuree" i WHERE "ValidityTo" IS NULL AND NOT EXISTS (SELECT 1 FROM "tblInsureePolicy" ip WHERE ip."InsureeID" = i."InsureeID") AND EXISTS (SELECT 1 FROM "tblPolicy" p WHERE p."FamilyID" = i."FamilyID")`, "1"},
		{"policies whose premiums do not cover the value (idle)", `SELECT string_agg(p."PolicyStatus"::text, ',') FROM "tblPolicy" p WHERE p."ValidityTo" IS NULL AND p."PolicyValue" > (SELECT coalesce(sum("Amount"), 0) FROM "tblPremium" pr WHERE pr."PolicyID" = p."PolicyID" AND NOT pr."isPhotoFee")`, "1"},
		{"renewal discount", `SELECT "PolicyValue"::text FROM "tblPolicy" WHERE "PolicyStage" = 'R'`, "28800.00"},
	}
	for _, q := range queries {
		var got *string
		args := []any{}
		if strings.Contains(q.sql, "$1") {
			args = append(args, today)
		}
		if err := db.QueryRow(ctx, q.sql, args...).Scan(&got); err != nil {
			t.Errorf("%s: %v", q.what, err)
			continue
		}
		if got == nil || *got != q.want {
			t.Errorf("%s: got %v, want %q", q.what, deref(got), q.want)
		}
	}

	if n := len(demo.Officers); n != 5 {
		t.Errorf("%d officers", n)
	}
	// Both kinds of area: villages, and a district for an officer without any.
	for code, want := range map[string]string{"EO003": "village Kolo", "EO004": "all of Chamwino district (no villages)"} {
		for _, o := range demo.Officers {
			if o.Code == code && o.Area != want {
				t.Errorf("%s's area %q, want %q", code, o.Area, want)
			}
		}
	}
	var villages string
	if err := db.QueryRow(ctx, `SELECT string_agg(o."Code" || ':' || (SELECT count(*) FROM "tblOfficerVillages" ov
		WHERE ov."OfficerId" = o."OfficerID" AND ov."ValidityTo" IS NULL), ',' ORDER BY o."Code") FROM "tblOfficer" o`).Scan(&villages); err != nil ||
		villages != "EO001:5,EO002:5,EO003:1,EO004:0,EO009:0" {
		t.Errorf("officers' villages %q, %v", villages, err)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<NULL>"
	}
	return *s
}

// checksum hashes every row of the seeded tables except "ValidityFrom" of
// current rows, which is the moment of seeding; all the rest, UUIDs and
// keys included, must be identical for the same seeding day.
func checksum(t *testing.T, db *pgxpool.Pool) string {
	t.Helper()
	tables := map[string]string{
		"tblLocations": "LocationId", "tblHF": "HfID", "tblProduct": "ProdID", "tblOfficer": "OfficerID",
		"tblOfficerVillages": "OfficerVillageId", "tblFamilies": "FamilyID", "tblInsuree": "InsureeID",
		"tblPolicy": "PolicyID", "tblInsureePolicy": "InsureePolicyID", "tblPremium": "PremiumId",
		"tblPolicyRenewals": "RenewalID", "tblClaim": "ClaimID", "tblClaimDedRem": "ExpenditureID",
	}
	h := sha256.New()
	for _, table := range []string{"tblLocations", "tblHF", "tblProduct", "tblOfficer", "tblOfficerVillages",
		"tblFamilies", "tblInsuree", "tblPolicy", "tblInsureePolicy", "tblPremium", "tblPolicyRenewals",
		"tblClaim", "tblClaimDedRem"} {
		sql := fmt.Sprintf(`SELECT coalesce(string_agg(
				(CASE WHEN t."ValidityTo" IS NULL THEN to_jsonb(t) - 'ValidityFrom' ELSE to_jsonb(t) END)::text, E'\n' ORDER BY t.%q), '')
			FROM %q t`, tables[table], table)
		var rows string
		if err := db.QueryRow(context.Background(), sql).Scan(&rows); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		fmt.Fprintf(h, "%s\n%s\n", table, rows)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestGrow adds synthetic families twice and checks their shape: members,
// numbers, phones, policies, claims, villages and officers, and that the
// gateway's store answers for them.
func TestGrow(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.NewDatabase(t)
	store, err := policystore.Open(ctx, dbURL, policystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	today := time.Date(2026, time.December, 4, 0, 0, 0, 0, time.UTC)
	if _, err := demo.Seed(ctx, store.Pool(), today, false); err != nil {
		t.Fatal(err)
	}
	var progress strings.Builder
	if err := demo.Grow(ctx, store.Pool(), demo.GrowOptions{Families: 30, Today: today, Chunk: 8, Progress: &progress}); err != nil {
		t.Fatal(err)
	}
	if err := demo.Grow(ctx, store.Pool(), demo.GrowOptions{Families: 5, Today: today}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "families 30/30 (100%)") {
		t.Errorf("progress:\n%s", progress.String())
	}
	count := func(sql string) int {
		t.Helper()
		var n int
		if err := store.Pool().QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// 35 families of 1..7 members: five weeks of 28, no more.
	if n := count(`SELECT count(*) FROM "tblFamilies" WHERE "FamilyAddress" LIKE 'Scale %'`); n != 35 {
		t.Errorf("%d families", n)
	}
	if n := count(`SELECT count(*) FROM "tblInsuree" WHERE "CHFID" >= '1000000000' AND length("CHFID") = 10`); n != demo.ScaleHead(35) {
		t.Errorf("%d insurees, want %d", n, demo.ScaleHead(35))
	}
	if n := count(`SELECT count(*) FROM "tblInsureePolicy" ip JOIN "tblInsuree" i USING ("InsureeID") WHERE length(i."CHFID") = 10 AND i."CHFID" >= '1000000000'`); n != demo.ScaleHead(35) {
		t.Errorf("%d insuree policies", n)
	}
	// Family 25's head, found by number and phone, is covered (25 % 10 < 7).
	cov, err := store.Coverage(ctx, demo.ScaleNumber(demo.ScaleHead(25)), today)
	if err != nil || len(cov.Policies) != 1 || cov.Policies[0].Status != openimis.Covered || cov.HeadPhone != demo.ScalePhone(25) {
		t.Errorf("family 25: %+v, %v", cov, err)
	}
	// The officer of its village covers it.
	officer, ok, err := store.OfficerByPhone(ctx, "0600000002", today) // villages 20 to 29
	if err != nil || !ok || !officer.Covers(cov.Location) {
		t.Errorf("officer S00002: %+v %v %v (family in %d)", officer, ok, err, cov.Location)
	}
	// One insuree in four has a claim.
	if n := count(`SELECT count(*) FROM "tblClaim" WHERE "ClaimCode" LIKE 'S%'`); n != (demo.ScaleHead(35)+3)/4 {
		t.Errorf("%d claims", n)
	}
	// The sequences follow: the next family written the usual way gets a free id.
	if n := count(`SELECT nextval(pg_get_serial_sequence('"tblFamilies"', 'FamilyID'))::int - max("FamilyID") FROM "tblFamilies"`); n != 1 {
		t.Errorf("family sequence %d behind", n)
	}
}
