package openimis_test

import (
	"errors"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/openimis"
)

// today is the day of the worked examples.
var today = time.Date(2025, time.March, 10, 0, 0, 0, 0, time.UTC)

func d(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }

// born is a member born on a date (relationship NULL: a blood relative or
// the head).
func born(y int, m time.Month, day int) openimis.Member {
	return openimis.Member{DOB: d(y, m, day)}
}

func other(y int, m time.Month, day int) openimis.Member {
	return openimis.Member{DOB: d(y, m, day), Relationship: openimis.RelationOthers}
}

// The demo's products (policystore/demo/data.go).
var (
	fam01 = openimis.Pricing{ // lump sum for up to 4, then per member; renewal discount 10% a month ahead
		LumpSum: openimis.Money(30000_00), PremiumAdult: openimis.Money(5000_00), PremiumChild: openimis.Money(3000_00),
		GeneralAssemblyLumpSum: openimis.Money(2000_00), MemberCount: 6, Threshold: 4,
		RenewalDiscountPerc: 10, RenewalDiscountPeriod: 1,
	}
	ind01 = openimis.Pricing{ // per member
		PremiumAdult: openimis.Money(10000_00), PremiumChild: openimis.Money(5000_00), MemberCount: 10,
	}
)

// The worked examples of the value (docs/renewals.md, "The value", Django
// policy/values.py). Today is 10 March 2025: adults were born before
// 10 March 2007.
func TestRenewalValue(t *testing.T) {
	soon := d(2025, time.March, 19) // previous expiry in 9 days: too late for a renewal discount
	cases := []struct {
		name       string
		pricing    openimis.Pricing
		members    []openimis.Member
		enrol      time.Time
		prevExpiry time.Time
		want       openimis.Money
		counts     openimis.Counts
		discounted bool
	}{
		{
			// Family F of the demo: 3 adults (one of them 20), a child, and
			// a lodger related as "Others".
			name:    "lump sum: within the threshold, plus an Others adult, plus the assembly",
			pricing: fam01,
			members: []openimis.Member{born(1975, 5, 5), born(1979, 9, 9), born(2005, 1, 30), born(2013, 7, 21), other(1998, 3, 12)},
			enrol:   today, prevExpiry: d(2025, time.March, 19),
			// 30000 + 1 × 5000 (Others) + 2000 (assembly)
			want:   openimis.Money(37000_00),
			counts: openimis.Counts{Adults: 3, Children: 1, OtherAdults: 1},
		},
		{
			// Family A of the demo: 3 adults and 3 children, threshold 4.
			name:    "lump sum: two children above the threshold pay the child premium",
			pricing: fam01,
			members: []openimis.Member{born(1979, 3, 14), born(1984, 7, 2), born(2009, 11, 20), born(2014, 5, 8), born(2024, 6, 13), born(1946, 1, 1)},
			enrol:   today, prevExpiry: soon,
			// 30000 + 2 × 3000 + 2000
			want:   openimis.Money(38000_00),
			counts: openimis.Counts{Adults: 3, Children: 1, ExtraChildren: 2},
		},
		{
			name:    "lump sum: adults above the threshold pay the adult premium",
			pricing: fam01,
			members: []openimis.Member{born(1970, 1, 1), born(1971, 1, 1), born(1990, 1, 1), born(1992, 1, 1), born(1995, 1, 1), born(2010, 1, 1)},
			enrol:   today, prevExpiry: soon,
			// 30000 + 1 × 5000 + 1 × 3000 + 2000
			want:   openimis.Money(40000_00),
			counts: openimis.Counts{Adults: 4, ExtraAdults: 1, ExtraChildren: 1},
		},
		{
			// Family K of the demo without the member who died: 3 adults,
			// 2 children, an Others child.
			name:    "per member: adults, children and an Others child",
			pricing: ind01,
			members: []openimis.Member{born(1962, 6, 1), born(1968, 3, 8), born(1999, 9, 9), born(2008, 8, 8), born(2017, 1, 17), other(2012, 5, 5)},
			enrol:   today, prevExpiry: soon,
			// 3 × 10000 + 2 × 5000 + 1 × 5000
			want:   openimis.Money(45000_00),
			counts: openimis.Counts{Adults: 3, Children: 2, OtherChildren: 1},
		},
		{
			// Django charges nothing for members above a threshold when
			// there is no lump sum (the SQL uspPolicyValue charges them
			// twice: docs/openimis.md, "Two schemas: the openIMIS dump and Django migrations"). Django is followed.
			name:    "per member with a threshold: members above it are not charged (Django)",
			pricing: openimis.Pricing{PremiumAdult: openimis.Money(10000_00), PremiumChild: openimis.Money(5000_00), MemberCount: 10, Threshold: 2},
			members: []openimis.Member{born(1980, 1, 1), born(1981, 1, 1), born(1982, 1, 1), born(2015, 1, 1), born(2016, 1, 1)},
			enrol:   today, prevExpiry: soon,
			// 2 × 10000
			want:   openimis.Money(20000_00),
			counts: openimis.Counts{Adults: 2, ExtraAdults: 1, ExtraChildren: 2},
		},
		{
			// MemberCount 3 drops members in Django's order: adults first
			// kept, then children, then Others children, then Others adults.
			name:    "MemberCount trimming: one child and the Others adult dropped",
			pricing: openimis.Pricing{PremiumAdult: openimis.Money(10000_00), PremiumChild: openimis.Money(5000_00), MemberCount: 3},
			members: []openimis.Member{other(1990, 1, 1), born(2015, 1, 1), born(1980, 1, 1), born(2016, 1, 1), born(1981, 1, 1)},
			enrol:   today, prevExpiry: soon,
			// 2 × 10000 + 1 × 5000
			want:   openimis.Money(25000_00),
			counts: openimis.Counts{Adults: 2, Children: 1, Dropped: 2},
		},
		{
			name:    "MemberCount trimming: more adults than the maximum",
			pricing: openimis.Pricing{LumpSum: openimis.Money(30000_00), PremiumAdult: openimis.Money(5000_00), PremiumChild: openimis.Money(3000_00), MemberCount: 2, Threshold: 1},
			members: []openimis.Member{born(1980, 1, 1), born(1981, 1, 1), born(1982, 1, 1), born(2015, 1, 1), other(2016, 1, 1)},
			enrol:   today, prevExpiry: soon,
			// 2 adults kept; 1 in the lump sum, 1 extra: 30000 + 5000
			want:   openimis.Money(35000_00),
			counts: openimis.Counts{Adults: 1, ExtraAdults: 1, Dropped: 3},
		},
		{
			name:    "adult on the 18th birthday? no: born exactly 18 years ago is a child",
			pricing: ind01,
			members: []openimis.Member{born(2007, 3, 10)},
			enrol:   today, prevExpiry: soon,
			want:   openimis.Money(5000_00),
			counts: openimis.Counts{Children: 1},
		},
		{
			name:    "adult the day after the 18th birthday",
			pricing: ind01,
			members: []openimis.Member{born(2007, 3, 9)},
			enrol:   today, prevExpiry: soon,
			want:   openimis.Money(10000_00),
			counts: openimis.Counts{Adults: 1},
		},
		{
			name:    "unknown date of birth counts as an adult",
			pricing: ind01,
			members: []openimis.Member{{}},
			enrol:   today, prevExpiry: soon,
			want:   openimis.Money(10000_00),
			counts: openimis.Counts{Adults: 1},
		},
		{
			name: "general assembly fee per member (no lump sum for it)",
			pricing: openimis.Pricing{PremiumAdult: openimis.Money(10000_00), PremiumChild: openimis.Money(5000_00), MemberCount: 10,
				GeneralAssemblyFee: openimis.Money(500_00)},
			members: []openimis.Member{born(1980, 1, 1), born(1981, 1, 1), born(2015, 1, 1), other(2016, 1, 1)},
			enrol:   today, prevExpiry: soon,
			// 2 × 10000 + 2 × 5000 + 4 × 500
			want:   openimis.Money(32000_00),
			counts: openimis.Counts{Adults: 2, Children: 1, OtherChildren: 1},
		},
		{
			// Renewing on 15 February a policy that ends on 19 March: the
			// window closes on 20 March − 1 month = 20 February.
			name:    "renewal discount: a month or more ahead, 10% off",
			pricing: fam01,
			members: []openimis.Member{born(1975, 5, 5), born(1979, 9, 9), born(2005, 1, 30), born(2013, 7, 21), other(1998, 3, 12)},
			enrol:   d(2025, time.February, 15), prevExpiry: d(2025, time.March, 19),
			// 37000 − 10%
			want:       openimis.Money(33300_00),
			counts:     openimis.Counts{Adults: 3, Children: 1, OtherAdults: 1},
			discounted: true,
		},
		{
			name:    "renewal discount: on the last day of the window",
			pricing: fam01,
			members: []openimis.Member{born(1975, 5, 5)},
			enrol:   d(2025, time.February, 20), prevExpiry: d(2025, time.March, 19),
			want:       openimis.Money(28800_00), // (30000 + 2000) − 10%
			counts:     openimis.Counts{Adults: 1},
			discounted: true,
		},
		{
			name:    "renewal discount: a day too late",
			pricing: fam01,
			members: []openimis.Member{born(1975, 5, 5)},
			enrol:   d(2025, time.February, 21), prevExpiry: d(2025, time.March, 19),
			want:   openimis.Money(32000_00),
			counts: openimis.Counts{Adults: 1},
		},
		{
			// 31 March + 1 day − 1 month = 1 March: month arithmetic clamps.
			name:    "renewal discount window over a month end",
			pricing: fam01,
			members: []openimis.Member{born(1975, 5, 5)},
			enrol:   d(2025, time.March, 1), prevExpiry: d(2025, time.March, 31),
			want:       openimis.Money(28800_00),
			counts:     openimis.Counts{Adults: 1},
			discounted: true,
		},
		{
			name:    "renewal discount needs a period: a percentage alone gives none (Django has_renewal_discount)",
			pricing: openimis.Pricing{LumpSum: openimis.Money(30000_00), MemberCount: 6, RenewalDiscountPerc: 10},
			members: []openimis.Member{born(1975, 5, 5)},
			enrol:   d(2024, time.January, 1), prevExpiry: d(2025, time.March, 19),
			want:   openimis.Money(30000_00),
			counts: openimis.Counts{Adults: 1},
		},
		{
			// 100.10 − 15% = 85.085 → 85.09
			// (half away from zero, as PostgreSQL rounds numeric(18,2)).
			name:    "rounding to cents after the discount",
			pricing: openimis.Pricing{LumpSum: 10010, MemberCount: 6, RenewalDiscountPerc: 15, RenewalDiscountPeriod: 1},
			members: []openimis.Member{born(1975, 5, 5)},
			enrol:   d(2025, time.January, 1), prevExpiry: d(2025, time.March, 19),
			want:       8509,
			counts:     openimis.Counts{Adults: 1},
			discounted: true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := openimis.RenewalValue(openimis.ValueInput{
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
	if openimis.IsAdult(leapling, d(2026, time.February, 28), 18) {
		t.Error("born 29 Feb 2008: not yet adult on 28 Feb 2026 (Django: relativedelta clamps 29 Feb to 28 Feb)")
	}
	if !openimis.IsAdult(leapling, d(2026, time.March, 1), 18) {
		t.Error("born 29 Feb 2008: adult on 1 Mar 2026")
	}
	if openimis.IsAdult(d(2005, time.March, 9), today, 21) || !openimis.IsAdult(d(2004, time.March, 9), today, 21) {
		t.Error("age of majority 21")
	}
}

func TestRenewalValueOverflow(t *testing.T) {
	_, err := openimis.RenewalValue(openimis.ValueInput{
		Pricing: openimis.Pricing{PremiumAdult: openimis.MaxMoney, MemberCount: 10},
		Members: []openimis.Member{{}, {}}, Today: today, EnrollDate: today,
	})
	if !errors.Is(err, openimis.ErrMoneyRange) {
		t.Fatalf("err = %v, want ErrMoneyRange", err)
	}
}
