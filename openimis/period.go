package openimis

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DateOf is t's calendar date (in t's own location) as midnight UTC, the
// form in which pgx reads and writes PostgreSQL dates.
func DateOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// AddMonths adds n months (n may be negative) to t's date and clamps the day
// to the end of the month, as PostgreSQL's date + interval, SQL Server's
// DATEADD(MONTH) and Python's relativedelta do: 31 January + 1 month is
// 28 February (29 in leap years). time.AddDate normalises instead (to 2 or
// 3 March), which openIMIS never does (docs/renewals.md, "The period").
func AddMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	if last := first.AddDate(0, 1, -1).Day(); d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, 0, 0, 0, 0, time.UTC)
}

// ErrBadCycle: a "StartCycleN" that is not a 'DD-MM' date.
var ErrBadCycle = errors.New(`start cycle is not a "DD-MM" date`)

// Cycle is a "StartCycleN" of a product: a day and month.
type Cycle struct {
	Day   int
	Month time.Month
}

// ParseCycle reads a "StartCycleN" value, 'DD-MM' ("01-07" is 1 July). Python's
// strptime, which Django uses, also takes one-digit parts ("1-7").
func ParseCycle(s string) (Cycle, error) {
	ds, ms, ok := strings.Cut(strings.TrimSpace(s), "-")
	d, errD := strconv.Atoi(ds)
	m, errM := strconv.Atoi(ms)
	if !ok || errD != nil || errM != nil || len(ds) > 2 || len(ms) > 2 || m < 1 || m > 12 || d < 1 ||
		d > time.Date(2024, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day() { // 2024: 29 Feb is allowed
		return Cycle{}, fmt.Errorf("%q: %w", s, ErrBadCycle)
	}
	return Cycle{Day: d, Month: time.Month(m)}, nil
}

// in is the cycle's date in year y, and false when it has none (29 February
// of a common year; Django's strptime fails there too).
func (c Cycle) in(y int) (time.Time, bool) {
	t := time.Date(y, c.Month, c.Day, 0, 0, 0, 0, time.UTC)
	return t, t.Day() == c.Day
}

// Terms is what a product says about a renewal's period; the "tblProduct"
// columns of the same names.
type Terms struct {
	InsurancePeriod    int // months
	GracePeriodRenewal int // months
	// Cycles are the product's non-empty "StartCycle1".."StartCycle4", in
	// that order; none for a product without cycles.
	Cycles []Cycle
}

// ParseCycles reads "StartCycle1".."StartCycle4"; empty ones are skipped,
// as Django skips them.
func ParseCycles(raw ...string) ([]Cycle, error) {
	var out []Cycle
	for _, s := range raw {
		if strings.TrimSpace(s) == "" {
			continue
		}
		c, err := ParseCycle(s)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// RenewalPeriod is the new policy's start and expiry when a policy that
// expires on prevExpiry is renewed on today (docs/renewals.md, "The period", the
// recommendation there; docs/renewals.md, "Two steps: the quote, then the write"):
//
//   - without cycles: start = max(today, prevExpiry + 1 day), so an early
//     renewal continues the previous policy without a gap and a late one
//     starts today (never back-dated over the uncovered lapse);
//   - with cycles, Django's rule (policy/values.py set_start_date, stage R):
//     ref = today − GracePeriodRenewal months; the start is the first cycle,
//     in the product's order, of ref's year on or after ref, else the first
//     cycle of the next year; then, if that start is not after prevExpiry,
//     start = prevExpiry + 1 day (uspIsValidRenewal);
//   - expiry = start + InsurancePeriod months − 1 day, month arithmetic
//     clamped to the month end.
func RenewalPeriod(t Terms, today, prevExpiry time.Time) (start, expiry time.Time, err error) {
	if t.InsurancePeriod <= 0 {
		return time.Time{}, time.Time{}, fmt.Errorf("insurance period of %d months", t.InsurancePeriod)
	}
	today = DateOf(today)
	next := DateOf(prevExpiry).AddDate(0, 0, 1)
	if len(t.Cycles) == 0 {
		start = today
		if next.After(start) {
			start = next
		}
	} else {
		if start, err = CycleStart(t.Cycles, AddMonths(today, -t.GracePeriodRenewal)); err != nil {
			return time.Time{}, time.Time{}, err
		}
		if !start.After(DateOf(prevExpiry)) {
			start = next
		}
	}
	return start, Expiry(start, t.InsurancePeriod), nil
}

// CycleStart is the first cycle date on or after ref: the first of the
// cycles, in their order, whose date in ref's year is not before ref; else
// the first cycle of the next year (Django cycle_start/set_start_date).
func CycleStart(cycles []Cycle, ref time.Time) (time.Time, error) {
	if len(cycles) == 0 {
		return time.Time{}, errors.New("no start cycles")
	}
	ref = DateOf(ref)
	for _, c := range cycles {
		d, ok := c.in(ref.Year())
		if !ok {
			return time.Time{}, fmt.Errorf("%02d-%02d in %d: %w", c.Day, c.Month, ref.Year(), ErrBadCycle)
		}
		if !ref.After(d) {
			return d, nil
		}
	}
	d, ok := cycles[0].in(ref.Year() + 1)
	if !ok {
		return time.Time{}, fmt.Errorf("%02d-%02d in %d: %w", cycles[0].Day, cycles[0].Month, ref.Year()+1, ErrBadCycle)
	}
	return d, nil
}

// Expiry is the last covered day of a policy starting on start:
// start + months − 1 day (Django set_expiry_date, uspGetPolicyPeriod).
func Expiry(start time.Time, months int) time.Time {
	return AddMonths(DateOf(start), months).AddDate(0, 0, -1)
}
