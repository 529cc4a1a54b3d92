package openimis_test

import (
	"testing"
	"time"

	"github.com/openimis/imis-gateway/openimis"
)

func TestEnquiryStatus(t *testing.T) {
	var null time.Time
	eff, exp := d(2025, time.January, 1), d(2025, time.December, 31)
	cases := []struct {
		name            string
		today, eff, exp time.Time
		status          int
		want            openimis.CoverageStatus
	}{
		{"no effective date (idle, unpaid)", today, null, exp, 2, openimis.NotYetActive},
		{"no dates at all", today, null, null, 2, openimis.NotYetActive},
		{"effective tomorrow", d(2024, time.December, 31), eff, exp, 2, openimis.NotYetActive},
		{"effective today", eff, eff, exp, 2, openimis.Covered},
		{"expires today", exp, eff, exp, 2, openimis.Covered},
		{"expired yesterday, status still Active", d(2026, time.January, 1), eff, exp, 2, openimis.Expired},
		{"expired yesterday, status Suspended", d(2026, time.January, 1), eff, exp, 4, openimis.Expired},
		{"within period, Idle", today, eff, exp, 1, openimis.NotYetActive},
		{"within period, Active", today, eff, exp, 2, openimis.Covered},
		{"within period, Suspended", today, eff, exp, 4, openimis.Suspended},
		{"within period, Expired", today, eff, exp, 8, openimis.Expired},
		{"within period, Ready", today, eff, exp, 16, openimis.NotYetActive},
		{"within period, NULL status", today, eff, exp, 0, openimis.Expired},
		{"within period, unknown status", today, eff, exp, 3, openimis.Expired},
		{"no expiry date, Active", today, eff, null, 2, openimis.Covered},
		{"no expiry date, Expired", today, eff, null, 8, openimis.Expired},
		{"future effective beats expiry", d(2024, time.June, 1), eff, d(2024, time.May, 1), 2, openimis.NotYetActive},
		// Only the calendar date counts: late evening in Dar es Salaam on
		// the expiry day is 20:00 UTC the same day, and 23:30 EAT on the
		// day before the effective date is still that day.
		{"expiry day, late evening local", time.Date(2025, time.December, 31, 23, 30, 0, 0, time.FixedZone("EAT", 3*3600)), eff, exp, 2, openimis.Covered},
		{"day before effective, late evening local", time.Date(2024, time.December, 31, 23, 30, 0, 0, time.FixedZone("EAT", 3*3600)), eff, exp, 2, openimis.NotYetActive},
		{"effective day, just after local midnight", time.Date(2025, time.January, 1, 0, 5, 0, 0, time.FixedZone("EAT", 3*3600)), eff, exp, 2, openimis.Covered},
	}
	for _, c := range cases {
		if got := openimis.EnquiryStatus(c.today, c.eff, c.exp, c.status); got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, got, c.want)
		}
	}
}
