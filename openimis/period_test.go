package openimis_test

import (
	"errors"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/openimis"
)

func TestAddMonthsClampsToTheMonthEnd(t *testing.T) {
	cases := []struct {
		from time.Time
		n    int
		want time.Time
	}{
		{d(2025, time.January, 31), 1, d(2025, time.February, 28)}, // Go's AddDate: 3 March
		{d(2024, time.January, 31), 1, d(2024, time.February, 29)}, // leap year
		{d(2024, time.February, 29), 12, d(2025, time.February, 28)},
		{d(2025, time.March, 31), -1, d(2025, time.February, 28)},
		{d(2025, time.December, 31), 2, d(2026, time.February, 28)},
		{d(2025, time.August, 31), 1, d(2025, time.September, 30)},
		{d(2025, time.March, 10), -18 * 12, d(2007, time.March, 10)},
		{d(2025, time.May, 15), 0, d(2025, time.May, 15)},
		// Only the calendar date counts, in the time's own location.
		{time.Date(2025, time.January, 31, 23, 30, 0, 0, time.FixedZone("EAT", 3*3600)), 1, d(2025, time.February, 28)},
	}
	for _, c := range cases {
		if got := openimis.AddMonths(c.from, c.n); !got.Equal(c.want) {
			t.Errorf("AddMonths(%s, %d) = %s, want %s", c.from.Format(time.DateOnly), c.n, got.Format(time.DateOnly), c.want.Format(time.DateOnly))
		}
	}
}

func TestParseCycle(t *testing.T) {
	good := map[string]openimis.Cycle{
		"01-07":   {Day: 1, Month: time.July},
		"1-7":     {Day: 1, Month: time.July},
		"31-12":   {Day: 31, Month: time.December},
		"29-02":   {Day: 29, Month: time.February},
		" 15-03 ": {Day: 15, Month: time.March},
	}
	for s, want := range good {
		if got, err := openimis.ParseCycle(s); err != nil || got != want {
			t.Errorf("ParseCycle(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "01/07", "32-01", "31-04", "30-02", "00-01", "01-13", "01-00", "001-07", "a-b", "01-07-2025"} {
		if _, err := openimis.ParseCycle(s); !errors.Is(err, openimis.ErrBadCycle) {
			t.Errorf("ParseCycle(%q): err = %v, want ErrBadCycle", s, err)
		}
	}
	cycles, err := openimis.ParseCycles("01-01", "", "  ", "01-07")
	if err != nil || len(cycles) != 2 || cycles[1].Month != time.July {
		t.Errorf("ParseCycles skips empty cycles: %+v, %v", cycles, err)
	}
}

// The worked examples of the renewal period (docs/renewals.md, "The period"). FAM01 of the demo has no cycles and 12 months; IND01 has cycles on
// 1 January and 1 July, 12 months and a renewal grace of 2 months.
func TestRenewalPeriod(t *testing.T) {
	fam01 := openimis.Terms{InsurancePeriod: 12, GracePeriodRenewal: 1}
	ind01 := openimis.Terms{InsurancePeriod: 12, GracePeriodRenewal: 2, Cycles: []openimis.Cycle{
		{Day: 1, Month: time.January}, {Day: 1, Month: time.July},
	}}
	cases := []struct {
		name               string
		terms              openimis.Terms
		today, prevExpiry  time.Time
		wantStart, wantExp time.Time
	}{
		{"renewal before expiry continues without a gap", fam01,
			d(2025, time.March, 10), d(2025, time.March, 19),
			d(2025, time.March, 20), d(2026, time.March, 19)},
		{"renewal the day after expiry", fam01,
			d(2025, time.March, 20), d(2025, time.March, 19),
			d(2025, time.March, 20), d(2026, time.March, 19)},
		{"after a long lapse the cover starts today, not back-dated", fam01,
			d(2025, time.March, 10), d(2024, time.November, 10),
			d(2025, time.March, 10), d(2026, time.March, 9)},
		{"31 January + 1 month: a one-month policy ends on 27 February", openimis.Terms{InsurancePeriod: 1},
			d(2025, time.January, 31), d(2024, time.December, 31),
			d(2025, time.January, 31), d(2025, time.February, 27)},
		{"31 January + 1 month in a leap year", openimis.Terms{InsurancePeriod: 1},
			d(2024, time.January, 31), d(2024, time.January, 30),
			d(2024, time.January, 31), d(2024, time.February, 28)},
		{"30 November + 3 months clamps to February", openimis.Terms{InsurancePeriod: 3},
			d(2025, time.November, 30), d(2025, time.November, 29),
			d(2025, time.November, 30), d(2026, time.February, 27)},
		{"29 February start, 12 months", fam01,
			d(2024, time.February, 29), d(2024, time.February, 28),
			d(2024, time.February, 29), d(2025, time.February, 27)},
		{"cycles: long lapse, the next cycle", ind01,
			d(2025, time.March, 10), d(2024, time.June, 30),
			d(2025, time.July, 1), d(2026, time.June, 30)},
		{"cycles: within the renewal grace, the cycle just begun (back-dated)", ind01,
			d(2025, time.February, 20), d(2024, time.June, 30),
			d(2025, time.January, 1), d(2025, time.December, 31)},
		{"cycles: grace reaches back into the previous year", ind01,
			d(2025, time.January, 15), d(2024, time.June, 30),
			d(2025, time.January, 1), d(2025, time.December, 31)},
		{"cycles: a day after the grace, the next cycle", ind01,
			d(2025, time.March, 2), d(2024, time.June, 30),
			d(2025, time.July, 1), d(2026, time.June, 30)},
		{"cycles: the previous policy ends on the day before the cycle", ind01,
			d(2025, time.March, 10), d(2025, time.June, 30),
			d(2025, time.July, 1), d(2026, time.June, 30)},
		{"cycles: early renewal, the cycle is still covered: previous expiry + 1", ind01,
			d(2025, time.March, 10), d(2025, time.December, 31),
			d(2026, time.January, 1), d(2026, time.December, 31)},
		{"cycles: late in the year, the first cycle of next year", ind01,
			d(2025, time.October, 1), d(2025, time.June, 30),
			d(2026, time.January, 1), d(2026, time.December, 31)},
		// Django takes the cycles in their column order, and falls back to
		// StartCycle1 of the next year, even when another is earlier.
		{"cycles out of order: Django's column order", openimis.Terms{InsurancePeriod: 12, Cycles: []openimis.Cycle{
			{Day: 1, Month: time.July}, {Day: 1, Month: time.January}}},
			d(2025, time.August, 1), d(2025, time.March, 31),
			d(2026, time.July, 1), d(2027, time.June, 30)},
	}
	for _, c := range cases {
		start, expiry, err := openimis.RenewalPeriod(c.terms, c.today, c.prevExpiry)
		if err != nil || !start.Equal(c.wantStart) || !expiry.Equal(c.wantExp) {
			t.Errorf("%s: %s..%s (%v), want %s..%s", c.name, start.Format(time.DateOnly), expiry.Format(time.DateOnly), err,
				c.wantStart.Format(time.DateOnly), c.wantExp.Format(time.DateOnly))
		}
	}
}

func TestRenewalPeriodErrors(t *testing.T) {
	if _, _, err := openimis.RenewalPeriod(openimis.Terms{}, d(2025, time.March, 10), d(2025, time.March, 1)); err == nil {
		t.Error("an insurance period of 0 months must be an error")
	}
	leap := openimis.Terms{InsurancePeriod: 12, Cycles: []openimis.Cycle{{Day: 29, Month: time.February}}}
	if _, _, err := openimis.RenewalPeriod(leap, d(2025, time.January, 10), d(2024, time.December, 31)); !errors.Is(err, openimis.ErrBadCycle) {
		t.Errorf("29 February in 2025: err = %v, want ErrBadCycle", err)
	}
	if start, _, err := openimis.RenewalPeriod(leap, d(2024, time.January, 10), d(2023, time.December, 31)); err != nil || !start.Equal(d(2024, time.February, 29)) {
		t.Errorf("29 February in 2024: %s, %v", start, err)
	}
}
