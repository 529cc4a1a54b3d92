package openimis

import (
	"fmt"
	"math/big"
	"slices"
	"time"
)

// DefaultAgeOfMajority is openIMIS core's age_of_majority (core/apps.py).
const DefaultAgeOfMajority = 18

// RelationOthers is "tblRelations" 7, "Others": such members pay their own
// premium, outside the lump sum (docs/openimis.md, "The tables"; docs/renewals.md, "The value").
const RelationOthers = 7

// Pricing is what a product says about its price; the "tblProduct" columns
// of the same names. NULL amounts and counts are 0.
type Pricing struct {
	LumpSum, PremiumAdult, PremiumChild        Money
	GeneralAssemblyLumpSum, GeneralAssemblyFee Money
	MemberCount                                int // maximum members; 0 = no maximum
	Threshold                                  int // members included in the lump sum; 0 = none
	RenewalDiscountPerc                        int // percent
	RenewalDiscountPeriod                      int // months
}

// Member is a family member as the value sees one.
type Member struct {
	DOB          time.Time // zero when unknown: counted as an adult
	Relationship int       // "Relationship"; 0 for NULL (the head)
}

// Counts are the members as the formula counts them (Django family_counts).
type Counts struct {
	Adults, Children           int // within the lump sum (or priced per member)
	ExtraAdults, ExtraChildren int // above the threshold
	OtherAdults, OtherChildren int // related as "Others"
	Dropped                    int // above MemberCount, not counted at all
}

// Total is every member counted, for the per-member general assembly fee.
func (c Counts) Total() int {
	return c.Adults + c.ExtraAdults + c.Children + c.ExtraChildren + c.OtherAdults + c.OtherChildren
}

// ValueInput is everything the value of a renewal depends on.
type ValueInput struct {
	Pricing        Pricing
	Members        []Member
	Today          time.Time // adults are counted on this day
	EnrollDate     time.Time // for the renewal discount; the renewal's "EnrollDate"
	PreviousExpiry time.Time // "ExpiryDate" of the policy renewed
	AgeOfMajority  int       // 0 = DefaultAgeOfMajority
}

// Valuation is the contribution due, with how it was reached.
type Valuation struct {
	Value           Money // "PolicyValue", rounded to cents
	Contribution    Money // before general assembly and discount
	GeneralAssembly Money
	Discounted      bool // the renewal discount applied
	Counts          Counts
}

// RenewalValue computes the contribution due for a renewal by the Django
// formula (openimis-be-policy_py policy/values.py, set_value with stage 'R';
// docs/renewals.md, "The value"):
//
//   - adult ⇔ DOB < Today − AgeOfMajority years (exact age, month arithmetic
//     clamped: a child born 29 Feb becomes an adult on 1 March in common
//     years); "Others" ⇔ Relationship 7;
//   - above MemberCount, members are dropped in Django's order: adults
//     beyond the maximum first, then children, then other children, then
//     other adults;
//   - Threshold T: ExtraAdults = max(0, adults − T), ExtraChildren =
//     max(0, children + adults − ExtraAdults − T);
//   - lump sum (LumpSum > 0): LumpSum + ExtraAdults×PremiumAdult +
//     ExtraChildren×PremiumChild; per member: the members within the
//     threshold at their premiums (Django charges nothing for those above
//     a threshold without lump sum; the SQL uspPolicyValue charges them
//     twice, docs/openimis.md, "Two schemas: the openIMIS dump and Django migrations": Django is followed);
//   - plus every "Others" member at their premium;
//   - general assembly: GeneralAssemblyLumpSum, else members × fee;
//   - no registration fee: renewals never pay it;
//   - renewal discount when both RenewalDiscountPerc and
//     RenewalDiscountPeriod are set and EnrollDate ≤ PreviousExpiry + 1 day
//     − RenewalDiscountPeriod months: − RenewalDiscountPerc %.
//
// The arithmetic is exact; only the discounted value is rounded to cents,
// half away from zero, which is what PostgreSQL does when Django (4.2 and
// later, which hands the Decimal to the driver unrounded) stores it in
// numeric(18,2). Django 3.2 quantized in Python first, half to even; the two
// differ only on an exact half cent.
func RenewalValue(in ValueInput) (Valuation, error) {
	p := in.Pricing
	counts := CountMembers(p, in.Members, in.Today, in.AgeOfMajority)

	total := new(big.Int)
	addTimes := func(n int, m Money) {
		total.Add(total, new(big.Int).Mul(big.NewInt(int64(n)), big.NewInt(int64(m))))
	}
	if p.LumpSum > 0 {
		total.SetInt64(int64(p.LumpSum))
		addTimes(counts.ExtraAdults, p.PremiumAdult)
		addTimes(counts.ExtraChildren, p.PremiumChild)
	} else {
		addTimes(counts.Adults, p.PremiumAdult)
		addTimes(counts.Children, p.PremiumChild)
	}
	addTimes(counts.OtherAdults, p.PremiumAdult)
	addTimes(counts.OtherChildren, p.PremiumChild)
	contribution := new(big.Int).Set(total)

	assembly := new(big.Int)
	if p.GeneralAssemblyLumpSum != 0 {
		assembly.SetInt64(int64(p.GeneralAssemblyLumpSum))
	} else {
		assembly.Mul(big.NewInt(int64(counts.Total())), big.NewInt(int64(p.GeneralAssemblyFee)))
	}
	total.Add(total, assembly)

	v := Valuation{Counts: counts}
	value := new(big.Rat).SetInt(total)
	if p.RenewalDiscountPerc != 0 && p.RenewalDiscountPeriod != 0 && !in.PreviousExpiry.IsZero() {
		limit := AddMonths(DateOf(in.PreviousExpiry).AddDate(0, 0, 1), -p.RenewalDiscountPeriod)
		if !DateOf(in.EnrollDate).After(limit) {
			// value − value × perc / 100, as Django does it
			value.Mul(value, big.NewRat(int64(100-p.RenewalDiscountPerc), 100))
			v.Discounted = true
		}
	}
	var ok bool
	if v.Value, ok = roundCents(value); !ok {
		return Valuation{}, fmt.Errorf("policy value: %w", ErrMoneyRange)
	}
	if v.Contribution, ok = roundCents(new(big.Rat).SetInt(contribution)); !ok {
		return Valuation{}, fmt.Errorf("policy value: %w", ErrMoneyRange)
	}
	if v.GeneralAssembly, ok = roundCents(new(big.Rat).SetInt(assembly)); !ok {
		return Valuation{}, fmt.Errorf("policy value: %w", ErrMoneyRange)
	}
	return v, nil
}

// roundCents rounds a number of cents to a whole cent, half away from zero
// (PostgreSQL's numeric rounding).
func roundCents(r *big.Rat) (Money, bool) {
	num, den := new(big.Int).Set(r.Num()), r.Denom()
	neg := num.Sign() < 0
	num.Abs(num)
	q, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	if rem.Lsh(rem, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if neg {
		q.Neg(q)
	}
	if !q.IsInt64() || q.Int64() > int64(MaxMoney) || q.Int64() < -int64(MaxMoney) {
		return 0, false
	}
	return Money(q.Int64()), true
}

// IsAdult reports whether someone born on dob is an adult on today: born
// strictly before today − age years (Django count_member: dob <
// date.today() − relativedelta(years=age_of_majority)). An unknown date of
// birth counts as an adult (openIMIS cannot count such a member at all; an
// adult premium is the safe side for the scheme).
func IsAdult(dob, today time.Time, ageOfMajority int) bool {
	if dob.IsZero() {
		return true
	}
	if ageOfMajority <= 0 {
		ageOfMajority = DefaultAgeOfMajority
	}
	return DateOf(dob).Before(AddMonths(DateOf(today), -12*ageOfMajority))
}

// CountMembers counts members the way Django's family_counts does, with the
// MemberCount trimming and the threshold split (see RenewalValue).
func CountMembers(p Pricing, members []Member, today time.Time, ageOfMajority int) Counts {
	var adults, children, otherAdults, otherChildren int
	for _, m := range members {
		adult := IsAdult(m.DOB, today, ageOfMajority)
		switch {
		case m.Relationship == RelationOthers && adult:
			otherAdults++
		case m.Relationship == RelationOthers:
			otherChildren++
		case adult:
			adults++
		default:
			children++
		}
	}
	var c Counts
	if n := p.MemberCount; n > 0 {
		overAdults := max(0, adults-n)
		overChildren := max(0, adults+children-overAdults-n)
		overOtherChildren := max(0, adults+children+otherChildren-overAdults-overChildren-n)
		overOtherAdults := max(0, adults+otherAdults+children+otherChildren-overAdults-overOtherChildren-overChildren-n)
		adults -= overAdults
		children -= overChildren
		otherChildren -= overOtherChildren
		otherAdults -= overOtherAdults
		c.Dropped = overAdults + overChildren + overOtherChildren + overOtherAdults
	}
	if t := p.Threshold; t > 0 {
		c.ExtraAdults = max(0, adults-t)
		c.ExtraChildren = max(0, children+adults-c.ExtraAdults-t)
	}
	c.Adults = adults - c.ExtraAdults
	c.Children = children - c.ExtraChildren
	c.OtherAdults, c.OtherChildren = otherAdults, otherChildren
	return c
}

// coveredMember is a current family member, for choosing whom a renewal
// covers.
type coveredMember struct {
	InsureeID    int
	IsHead       bool
	DOB          time.Time
	Relationship int
	ValidityFrom time.Time
}

// chooseCovered picks the members a renewal covers when the family has more
// than MemberCount: the same ones the value counts (CountMembers keeps
// adults first, then children, then other children, then other adults), so
// that the family pays for exactly the members covered. Within each group
// the head comes first, then the earliest registered ("ValidityFrom", then
// "InsureeID", as the legacy uspPolicyValue orders them). The result is in
// "InsureeID" order.
func chooseCovered(members []coveredMember, memberCount int, today time.Time, ageOfMajority int) []coveredMember {
	out := slices.Clone(members)
	group := func(m coveredMember) int {
		adult := IsAdult(m.DOB, today, ageOfMajority)
		switch {
		case m.Relationship != RelationOthers && adult:
			return 0
		case m.Relationship != RelationOthers:
			return 1
		case !adult:
			return 2
		default:
			return 3
		}
	}
	if memberCount > 0 && len(out) > memberCount {
		slices.SortStableFunc(out, func(a, b coveredMember) int {
			switch {
			case group(a) != group(b):
				return group(a) - group(b)
			case a.IsHead != b.IsHead:
				if a.IsHead {
					return -1
				}
				return 1
			case !a.ValidityFrom.Equal(b.ValidityFrom):
				return a.ValidityFrom.Compare(b.ValidityFrom)
			}
			return a.InsureeID - b.InsureeID
		})
		out = out[:memberCount]
	}
	slices.SortFunc(out, func(a, b coveredMember) int { return a.InsureeID - b.InsureeID })
	return out
}
