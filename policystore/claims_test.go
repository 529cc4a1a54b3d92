package policystore_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/menus"
	"github.com/openimis/imis-gateway/migrations"
	"github.com/openimis/imis-gateway/openimis"
	"github.com/openimis/imis-gateway/policystore"
)

// The store is what the menus need for claim status and languages.
var (
	_ menus.ClaimsSource  = (*policystore.Store)(nil)
	_ menus.LanguageStore = (*policystore.Store)(nil)
)

func TestClaims(t *testing.T) {
	for _, flavor := range []migrations.Flavor{migrations.FlavorDjango, migrations.FlavorDump} {
		t.Run(string(flavor), func(t *testing.T) { testClaims(t, seededStore(t, flavor)) })
	}
}

// claimsOf returns "code status date" per claim, for compact comparisons.
func claimsOf(t *testing.T, s *policystore.Store, chfid string, limit int) []string {
	t.Helper()
	claims, err := claimsIn(s.Claims(context.Background(), chfid, limit))
	if err != nil {
		t.Fatalf("Claims(%q): %v", chfid, err)
	}
	var out []string
	for _, c := range claims {
		out = append(out, c.Code+" "+c.DateClaimed.Format(time.DateOnly))
	}
	return out
}

// claimsIn is Claims' list without its holder.
func claimsIn(list openimis.ClaimList, err error) ([]openimis.Claim, error) {
	return list.Claims, err
}

func testClaims(t *testing.T, s *policystore.Store) {
	ctx := context.Background()
	day := func(n int) string { return today.AddDate(0, 0, n).Format(time.DateOnly) }

	t.Run("unknown numbers", func(t *testing.T) {
		for _, chfid := range []string{"999999999", "", "  ", "10120340", "101203401\x00", "\xff\xfe", strings.Repeat("1", 60), "101203401' OR '1'='1"} {
			if _, err := s.Claims(ctx, chfid, 10); !errors.Is(err, openimis.ErrInsureeNotFound) {
				t.Errorf("Claims(%q): err = %v, want ErrInsureeNotFound", chfid, err)
			}
		}
	})

	t.Run("every status, newest first", func(t *testing.T) {
		claims, err := claimsIn(s.Claims(ctx, " 101203401 ", 10))
		if err != nil {
			t.Fatal(err)
		}
		want := []openimis.Claim{
			{Code: "MKH00342", FacilityCode: "MKL001", FacilityName: "Makole Health Centre", Status: openimis.ClaimEntered,
				Claimed: cents(15000_00)},
			{Code: "MKH00318", FacilityCode: "MKL001", FacilityName: "Makole Health Centre", Status: openimis.ClaimChecked,
				Claimed: cents(28500_00), Approved: cents(28500_00)},
			{Code: "MKH00290", FacilityCode: "MKL001", FacilityName: "Makole Health Centre", Status: openimis.ClaimRejected,
				Claimed: cents(15000_00), Approved: cents(0)},
			{Code: "DRH01022", FacilityCode: "DDMRRH", FacilityName: "Dodoma Regional Referral Hospital", Status: openimis.ClaimProcessed,
				Claimed: cents(45000_00), Approved: cents(42000_00)},
			{Code: "DRH00871", FacilityCode: "DDMRRH", FacilityName: "Dodoma Regional Referral Hospital", Status: openimis.ClaimValuated,
				Claimed: cents(185000_00), Approved: cents(172500_00), Valuated: cents(172500_00)},
		}
		dates := []string{day(-4), day(-18), day(-38), day(-59), day(-115)}
		if len(claims) != len(want) {
			t.Fatalf("%d claims: %+v", len(claims), claims)
		}
		for i, c := range claims {
			if got := c.DateClaimed.Format(time.DateOnly); got != dates[i] {
				t.Errorf("claim %d claimed on %s, want %s", i, got, dates[i])
			}
			c.DateClaimed = time.Time{}
			if c != want[i] {
				t.Errorf("claim %d:\n got %+v\nwant %+v", i, c, want[i])
			}
		}
	})

	t.Run("the longest facility name", func(t *testing.T) {
		claims, err := claimsIn(s.Claims(ctx, "310482231", 10))
		if err != nil || len(claims) != 1 {
			t.Fatalf("%+v, %v", claims, err)
		}
		if c := claims[0]; c.Code != "BUF00412" || len([]rune(c.FacilityName)) != 100 || c.Status != openimis.ClaimRejected {
			t.Fatalf("%+v", c)
		}
	})

	t.Run("other insurees", func(t *testing.T) {
		if got := claimsOf(t, s, "120507734", 10); strings.Join(got, ",") != "BSW00127 "+day(-11)+",BUF00398 "+day(-85) {
			t.Errorf("120507734: %q", got)
		}
		if got := claimsOf(t, s, "120507726", 10); strings.Join(got, ",") != "BSW00131 "+day(-3) {
			t.Errorf("120507726: %q", got)
		}
	})

	t.Run("insuree without claims", func(t *testing.T) {
		claims, err := claimsIn(s.Claims(ctx, "101203402", 10))
		if err != nil || len(claims) != 0 {
			t.Fatalf("%+v, %v", claims, err)
		}
	})

	t.Run("limit", func(t *testing.T) {
		if got := claimsOf(t, s, "101203401", 2); strings.Join(got, ",") != "MKH00342 "+day(-4)+",MKH00318 "+day(-18) {
			t.Errorf("limit 2: %q", got)
		}
		for _, limit := range []int{0, -5, 1} {
			if got := claimsOf(t, s, "101203401", limit); len(got) != 1 || !strings.HasPrefix(got[0], "MKH00342") {
				t.Errorf("limit %d: %q", limit, got)
			}
		}
	})
}

func cents(n int64) openimis.Amount { return openimis.Amount{Cents: n, Valid: true} }

// History rows of a claim (an edit copies the old values into a new row with
// "ValidityTo" set) never show; a deleted claim neither; two claims of one
// day come newest entry first; cents survive.
func TestClaimsHistoryAndOrder(t *testing.T) {
	ctx := context.Background()
	s := seededStore(t, migrations.FlavorDump)
	copyClaim := func(code, newCode string, validityTo *time.Time, claimed string) {
		t.Helper()
		_, err := s.Pool().Exec(ctx, `
			INSERT INTO "tblClaim" ("ClaimUUID", "ClaimCode", "InsureeID", "HFID", "ICDID", "DateFrom", "DateClaimed",
			  "ClaimStatus", "Claimed", "Approved", "Feedback", "ValidityFrom", "ValidityTo", "LegacyID", "AuditUserID")
			SELECT gen_random_uuid()::text, $2, "InsureeID", "HFID", "ICDID", "DateFrom", "DateClaimed",
			  "ClaimStatus", $4::numeric, "Approved", "Feedback", "ValidityFrom", $3::timestamptz,
			  CASE WHEN $3::timestamptz IS NULL THEN NULL ELSE "ClaimID" END, -1
			FROM "tblClaim" WHERE "ClaimCode" = $1`, code, newCode, validityTo, claimed)
		if err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	copyClaim("MKH00342", "OLD00342", &now, "15000")
	copyClaim("MKH00342", "MKH00343", nil, "1234.56")
	if _, err := s.Pool().Exec(ctx, `UPDATE "tblClaim" SET "ValidityTo" = now() WHERE "ClaimCode" = 'DRH00871'`); err != nil {
		t.Fatal(err)
	}
	claims, err := claimsIn(s.Claims(ctx, "101203401", 10))
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, c := range claims {
		codes = append(codes, c.Code)
	}
	if got := strings.Join(codes, " "); got != "MKH00343 MKH00342 MKH00318 MKH00290 DRH01022" {
		t.Fatalf("codes %s", got)
	}
	if claims[0].Claimed != cents(123456) {
		t.Fatalf("claimed %+v", claims[0].Claimed)
	}
}

func TestClaimsDatabaseDown(t *testing.T) {
	s := seededStore(t, migrations.FlavorDjango)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Claims(ctx, "101203401", 10)
	if err == nil || errors.Is(err, openimis.ErrInsureeNotFound) || strings.Contains(err.Error(), "101203401") {
		t.Fatalf("err = %v; want a query error that names no insurance number", err)
	}
}

// TestHolder checks what Coverage and Claims say of whom a number belongs to:
// the menus decide on it who may see claims and whose look-ups count.
func TestHolder(t *testing.T) {
	s := seededStore(t, migrations.FlavorDump)
	ctx := context.Background()
	village := func(code string) int {
		var id int
		if err := s.Pool().QueryRow(ctx, `SELECT "LocationId" FROM "tblLocations" WHERE "LocationCode" = $1`, code).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	tests := []struct {
		chfid string
		want  openimis.Holder
	}{
		{"101203401", openimis.Holder{Phone: "0712 111 222", HeadPhone: "0712 111 222",
			FamilyPhones: []string{"0712 111 222", "0765 432 109"}, Location: village("DOD01011")}},
		{"101203404", openimis.Holder{HeadPhone: "0712 111 222", // a child without a phone
			FamilyPhones: []string{"0712 111 222", "0765 432 109"}, Location: village("DOD01011")}},
		{"48214", openimis.Holder{Phone: "0744321987", // the head has no phone
			FamilyPhones: []string{"0744321987"}, Location: village("DOD02011")}},
	}
	for _, tt := range tests {
		cov, err := s.Coverage(ctx, tt.chfid, today)
		if err != nil {
			t.Fatal(err)
		}
		list, err := s.Claims(ctx, tt.chfid, 10)
		if err != nil {
			t.Fatal(err)
		}
		for what, got := range map[string]openimis.Holder{"coverage": cov.Holder, "claims": list.Holder} {
			slices.Sort(got.FamilyPhones)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s of %s: holder %+v, want %+v", what, tt.chfid, got, tt.want)
			}
		}
	}
}
