package demo

import (
	"time"

	"github.com/openimis/imis-gateway/openimis"
)

// A when places a date relative to the seeding day, so that "expires in
// 9 days" stays true whenever the demo is loaded.
type when func(today time.Time) time.Time

// The demo's dates follow the same calendar rules as renewals: dates as
// midnight UTC, months clamped to the month end (docs/renewals.md, "The period").
var (
	date      = openimis.DateOf
	addMonths = openimis.AddMonths
)

func addYears(t time.Time, n int) time.Time { return addMonths(t, 12*n) }

func on(y int, m time.Month, d int) when {
	return func(time.Time) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
}

func daysFromToday(n int) when {
	return func(today time.Time) time.Time { return date(today).AddDate(0, 0, n) }
}

func monthsAgo(n int) when {
	return func(today time.Time) time.Time { return addMonths(date(today), -n) }
}

// cycle is a start of the per-member product's half-year cycles (StartCycle1
// '01-01', StartCycle2 '01-07'): back 0 is the latest one on or before
// today, back 1 the one before, and so on.
func cycle(back int) when {
	return func(today time.Time) time.Time {
		t := date(today)
		start := time.Date(t.Year(), time.January, 1, 0, 0, 0, 0, time.UTC)
		if t.Month() >= time.July {
			start = time.Date(t.Year(), time.July, 1, 0, 0, 0, 0, time.UTC)
		}
		return addMonths(start, -6*back)
	}
}

// at is a moment of a given day, for "ValidityFrom"/"ValidityTo" of history
// rows (timestamptz).
func at(d time.Time, hour, minute int) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), hour, minute, 0, 0, time.UTC)
}
