package policystore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/policystore/pgtest"
)

// born is a member born on a date (relationship NULL: a blood relative or
// the head).
func born(y int, m time.Month, day int) policystore.Member {
	return policystore.Member{DOB: d(y, m, day)}
}

func other(y int, m time.Month, day int) policystore.Member {
	return policystore.Member{DOB: d(y, m, day), Relationship: policystore.RelationOthers}
}

// The demo's products (policystore/demo/data.go).
var (
	fam01 = policystore.Pricing{ // lump sum for up to 4, then per member; renewal discount 10% a month ahead
		LumpSum: policystore.Units(30000), PremiumAdult: policystore.Units(5000), PremiumChild: policystore.Units(3000),
		GeneralAssemblyLumpSum: policystore.Units(2000), MemberCount: 6, Threshold: 4,
		RenewalDiscountPerc: 10, RenewalDiscountPeriod: 1,
	}
	ind01 = policystore.Pricing{ // per member
		PremiumAdult: policystore.Units(10000), PremiumChild: policystore.Units(5000), MemberCount: 10,
	}
)

// The worked examples of the value (openimis.md §3.6, Django
// policy/values.py). Today is 10 March 2025: adults were born before
// 10 March 2007.
func TestRenewalValue(t *testing.T) {
	soon := d(2025, time.March, 19) // previous expiry in 9 days: too late for a renewal discount
	cases := []struct {
		name       string
		pricing    policystore.Pricing
		members    []policystore.Member
		enrol      time.Time
		prevExpiry time.Time
		want       policystore.Money
		counts     policystore.Counts
		discounted bool
	}{
		{
			// Family F of the demo: 3 adults (one of them 20), a child, and
			// a lodger related as "Others".
			name:    "lump sum: within the threshold, plus an Others adult, plus the assembly",
			pricing: fam01,
			members: []policystore.Member{born(1975, 5, 5), born(1979, 9, 9), born(2005, 1, 30), born(2013, 7, 21), other(1998, 3, 12)},
			enrol:   today, prevExpiry: d(2025, time.March, 19),
			// 30000 + 1 × 5000 (Others) + 2000 (assembly)
			want:   policystore.Units(37000),
			counts: policystore.Counts{Adults: 3, Children: 1, OtherAdults: 1},
		},
		{
			// Family A of the demo: 3 adults and 3 children, threshold 4.
			name:    "lump sum: two children above the threshold pay the child premium",
			pricing: fam01,
			members: []policystore.Member{born(1979, 3, 14), born(1984, 7, 2), born(2009, 11, 20), born(2014, 5, 8), born(2024, 6, 13), born(1946, 1, 1)},
			enrol:   today, prevExpiry: soon,
			// 30000 + 2 × 3000 + 2000
			want:   policystore.Units(38000),
			counts: policystore.Counts{Adults: 3, Children: 1, ExtraChildren: 2},
		},
		{
			name:    "lump sum: adults above the threshold pay the adult premium",
			pricing: fam01,
			members: []policystore.Member{born(1970, 1, 1), born(1971, 1, 1), born(1990, 1, 1), born(1992, 1, 1), born(1995, 1, 1), born(2010, 1, 1)},
			enrol:   today, prevExpiry: soon,
			// 30000 + 1 × 5000 + 1 × 3000 + 2000
			want:   policystore.Units(40000),
			counts: policystore.Counts{Adults: 4, ExtraAdults: 1, ExtraChildren: 1},
		},
		{
			// Family K of the demo without the member who died: 3 adults,
			// 2 children, an Others child.
			name:    "per member: adults, children and an Others child",
			pricing: ind01,
			members: []policystore.Member{born(1962, 6, 1), born(1968, 3, 8), born(1999, 9, 9), born(2008, 8, 8), born(2017, 1, 17), other(2012, 5, 5)},
			enrol:   today, prevExpiry: soon,
			// 3 × 10000 + 2 × 5000 + 1 × 5000
			want:   policystore.Units(45000),
			counts: policystore.Counts{Adults: 3, Children: 2, OtherChildren: 1},
		},
		{
			// Django charges nothing for members above a threshold when
			// there is no lump sum (the SQL uspPolicyValue charges them
			// twice: openimis.md §6.4). Django is followed.
			name:    "per member with a threshold: members above it are not charged (Django)",
			pricing: policystore.Pricing{PremiumAdult: policystore.Units(10000), PremiumChild: policystore.Units(5000), MemberCount: 10, Threshold: 2},
			members: []policystore.Member{born(1980, 1, 1), born(1981, 1, 1), born(1982, 1, 1), born(2015, 1, 1), born(2016, 1, 1)},
			enrol:   today, prevExpiry: soon,
			// 2 × 10000
			want:   policystore.Units(20000),
			counts: policystore.Counts{Adults: 2, ExtraAdults: 1, ExtraChildren: 2},
		},
		{
			// MemberCount 3 drops members in Django's order: adults first
			// kept, then children, then Others children, then Others adults.
			name:    "MemberCount trimming: one child and the Others adult dropped",
			pricing: policystore.Pricing{PremiumAdult: policystore.Units(10000), PremiumChild: policystore.Units(5000), MemberCount: 3},
			members: []policystore.Member{other(1990, 1, 1), born(2015, 1, 1), born(1980, 1, 1), born(2016, 1, 1), born(1981, 1, 1)},
			enrol:   today, prevExpiry: soon,
			// 2 × 10000 + 1 × 5000
			want:   policystore.Units(25000),
			counts: policystore.Counts{Adults: 2, Children: 1, Dropped: 2},
		},
		{
			name:    "MemberCount trimming: more adults than the maximum",
			pricing: policystore.Pricing{LumpSum: policystore.Units(30000), PremiumAdult: policystore.Units(5000), PremiumChild: policystore.Units(3000), MemberCount: 2, Threshold: 1},
			members: []policystore.Member{born(1980, 1, 1), born(1981, 1, 1), born(1982, 1, 1), born(2015, 1, 1), other(2016, 1, 1)},
			enrol:   today, prevExpiry: soon,
			// 2 adults kept; 1 in the lump sum, 1 extra: 30000 + 5000
			want:   policystore.Units(35000),
			counts: policystore.Counts{Adults: 1, ExtraAdults: 1, Dropped: 3},
		},
		{
			name:    "adult on the 18th birthday? no: born exactly 18 years ago is a child",
			pricing: ind01,
			members: []policystore.Member{born(2007, 3, 10)},
			enrol:   today, prevExpiry: soon,
			want:   policystore.Units(5000),
			counts: policystore.Counts{Children: 1},
		},
		{
			name:    "adult the day after the 18th birthday",
			pricing: ind01,
			members: []policystore.Member{born(2007, 3, 9)},
			enrol:   today, prevExpiry: soon,
			want:   policystore.Units(10000),
			counts: policystore.Counts{Adults: 1},
		},
		{
			name:    "unknown date of birth counts as an adult",
			pricing: ind01,
			members: []policystore.Member{{}},
			enrol:   today, prevExpiry: soon,
			want:   policystore.Units(10000),
			counts: policystore.Counts{Adults: 1},
		},
		{
			name: "general assembly fee per member (no lump sum for it)",
			pricing: policystore.Pricing{PremiumAdult: policystore.Units(10000), PremiumChild: policystore.Units(5000), MemberCount: 10,
				GeneralAssemblyFee: policystore.Units(500)},
			members: []policystore.Member{born(1980, 1, 1), born(1981, 1, 1), born(2015, 1, 1), other(2016, 1, 1)},
			enrol:   today, prevExpiry: soon,
			// 2 × 10000 + 2 × 5000 + 4 × 500
			want:   policystore.Units(32000),
			counts: policystore.Counts{Adults: 2, Children: 1, OtherChildren: 1},
		},
		{
			// Renewing on 15 February a policy that ends on 19 March: the
			// window closes on 20 March − 1 month = 20 February.
			name:    "renewal discount: a month or more ahead, 10% off",
			pricing: fam01,
			members: []policystore.Member{born(1975, 5, 5), born(1979, 9, 9), born(2005, 1, 30), born(2013, 7, 21), other(1998, 3, 12)},
			enrol:   d(2025, time.February, 15), prevExpiry: d(2025, time.March, 19),
			// 37000 − 10%
			want:       policystore.Units(33300),
			counts:     policystore.Counts{Adults: 3, Children: 1, OtherAdults: 1},
			discounted: true,
		},
		{
			name:    "renewal discount: on the last day of the window",
			pricing: fam01,
			members: []policystore.Member{born(1975, 5, 5)},
			enrol:   d(2025, time.February, 20), prevExpiry: d(2025, time.March, 19),
			want:       policystore.Units(28800), // (30000 + 2000) − 10%
			counts:     policystore.Counts{Adults: 1},
			discounted: true,
		},
		{
			name:    "renewal discount: a day too late",
			pricing: fam01,
			members: []policystore.Member{born(1975, 5, 5)},
			enrol:   d(2025, time.February, 21), prevExpiry: d(2025, time.March, 19),
			want:   policystore.Units(32000),
			counts: policystore.Counts{Adults: 1},
		},
		{
			// 31 March + 1 day − 1 month = 1 March: month arithmetic clamps.
			name:    "renewal discount window over a month end",
			pricing: fam01,
			members: []policystore.Member{born(1975, 5, 5)},
			enrol:   d(2025, time.March, 1), prevExpiry: d(2025, time.March, 31),
			want:       policystore.Units(28800),
			counts:     policystore.Counts{Adults: 1},
			discounted: true,
		},
		{
			name:    "renewal discount needs a period: a percentage alone gives none (Django has_renewal_discount)",
			pricing: policystore.Pricing{LumpSum: policystore.Units(30000), MemberCount: 6, RenewalDiscountPerc: 10},
			members: []policystore.Member{born(1975, 5, 5)},
			enrol:   d(2024, time.January, 1), prevExpiry: d(2025, time.March, 19),
			want:   policystore.Units(30000),
			counts: policystore.Counts{Adults: 1},
		},
		{
			// 100.10 − 15% = 85.085 → 85.09
			// (half away from zero, as PostgreSQL rounds numeric(18,2)).
			name:    "rounding to cents after the discount",
			pricing: policystore.Pricing{LumpSum: 10010, MemberCount: 6, RenewalDiscountPerc: 15, RenewalDiscountPeriod: 1},
			members: []policystore.Member{born(1975, 5, 5)},
			enrol:   d(2025, time.January, 1), prevExpiry: d(2025, time.March, 19),
			want:       8509,
			counts:     policystore.Counts{Adults: 1},
			discounted: true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := policystore.RenewalValue(policystore.ValueInput{
				Pricing: c.pricing, Members: c.members, Today: today, EnrollDate: c.enrol, PreviousExpiry: c.prevExpiry,
			})
			if err != nil {
				t.Fatal(err)
			}
			if v.Value != c.want || v.Counts != c.counts || v.Discounted != c.discounted {
				t.Errorf("value %s, counts %+v, discounted %v; want %s, %+v, %v", v.Value, v.Counts, v.Discounted, c.want, c.counts, c.discounted)
			}
		})
	}
}

func TestIsAdultAroundLeapDays(t *testing.T) {
	leapling := d(2008, time.February, 29)
	if policystore.IsAdult(leapling, d(2026, time.February, 28), 18) {
		t.Error("born 29 Feb 2008: not yet adult on 28 Feb 2026 (Django: relativedelta clamps 29 Feb to 28 Feb)")
	}
	if !policystore.IsAdult(leapling, d(2026, time.March, 1), 18) {
		t.Error("born 29 Feb 2008: adult on 1 Mar 2026")
	}
	if policystore.IsAdult(d(2005, time.March, 9), today, 21) || !policystore.IsAdult(d(2004, time.March, 9), today, 21) {
		t.Error("age of majority 21")
	}
}

func TestRenewalValueOverflow(t *testing.T) {
	_, err := policystore.RenewalValue(policystore.ValueInput{
		Pricing: policystore.Pricing{PremiumAdult: policystore.MaxMoney, MemberCount: 10},
		Members: []policystore.Member{{}, {}}, Today: today, EnrollDate: today,
	})
	if !errors.Is(err, policystore.ErrMoneyRange) {
		t.Fatalf("err = %v, want ErrMoneyRange", err)
	}
}

func TestParseMoney(t *testing.T) {
	good := map[string]policystore.Money{
		"37000": 3700000, "37000.5": 3700050, "37000.50": 3700050, "0.01": 1, " 12 ": 1200, "007": 700,
		"9999999999999999.99": policystore.MaxMoney,
	}
	for s, want := range good {
		if got, err := policystore.ParseMoney(s); err != nil || got != want {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", ".5", "5.", "5.123", "-5", "+5", "1,000", "1 000", "1e3", "abc", "10000000000000000", "٣٧"} {
		if _, err := policystore.ParseMoney(s); err == nil {
			t.Errorf("ParseMoney(%q) accepted", s)
		}
	}
	if s := policystore.Money(3700050).String(); s != "37000.50" {
		t.Errorf("String() = %q", s)
	}
	if s := policystore.Money(-5).String(); s != "-0.05" {
		t.Errorf("String() = %q", s)
	}
	for m, want := range map[policystore.Money]string{3700000: "37,000", 125050: "1,250.50", 99: "0.99", 100000000: "1,000,000"} {
		if got := m.Format(); got != want {
			t.Errorf("Format(%d) = %q, want %q", m, got, want)
		}
	}
}

// TestMoneyNumericRoundTrip reads and writes numeric through pgx exactly.
func TestMoneyNumericRoundTrip(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.NewDatabase(t, pgtest.Empty()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, m := range []policystore.Money{0, 1, 3700000, 3700050, -125, policystore.MaxMoney} {
		var back policystore.Money
		var text string
		if err := conn.QueryRow(ctx, `SELECT $1::numeric(18,2), $1::numeric(18,2)::text`, m).Scan(&back, &text); err != nil {
			t.Fatal(err)
		}
		if back != m || text != m.String() {
			t.Errorf("%d: back %d, text %q", m, back, text)
		}
	}
	var m policystore.Money
	for lit, want := range map[string]policystore.Money{"30000": 3000000, "1e3": 100000, "12.3": 1230, "NULL::numeric": 0} {
		if err := conn.QueryRow(ctx, `SELECT `+lit+`::numeric`).Scan(&m); err != nil || m != want {
			t.Errorf("%s: %d, %v; want %d", lit, m, err, want)
		}
	}
	for _, lit := range []string{"12.345", "'NaN'", "'Infinity'", "1e17"} {
		if err := conn.QueryRow(ctx, `SELECT `+lit+`::numeric`).Scan(&m); !errors.Is(err, policystore.ErrMoneyRange) {
			t.Errorf("%s: err = %v, want ErrMoneyRange", lit, err)
		}
	}
}
