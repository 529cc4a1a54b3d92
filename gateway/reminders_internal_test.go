package gateway

import (
	"testing"
	"time"
)

// TestReminderSchedule: the daily run at REMINDER_AT in the scheme's time
// zone, across a change of day and of summer time; at start, at once when
// the gateway starts after it within the window.
func TestReminderSchedule(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	r := &Reminders{opt: ReminderOptions{At: 9 * 60, Window: DefaultReminderWindow}}
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, paris) }
	tests := []struct {
		name        string
		now         time.Time
		first, next time.Time
	}{
		{"before REMINDER_AT", at(2026, 3, 10, 7, 0), at(2026, 3, 10, 9, 0), at(2026, 3, 10, 9, 0)},
		{"at REMINDER_AT", at(2026, 3, 10, 9, 0), at(2026, 3, 10, 9, 0), at(2026, 3, 11, 9, 0)},
		{"started in the window", at(2026, 3, 10, 15, 30), at(2026, 3, 10, 15, 30), at(2026, 3, 11, 9, 0)},
		{"started at night", at(2026, 3, 10, 21, 0), at(2026, 3, 11, 9, 0), at(2026, 3, 11, 9, 0)},
		{"summer time starts overnight", at(2026, 3, 28, 10, 0), at(2026, 3, 28, 10, 0), at(2026, 3, 29, 9, 0)},
		{"end of the year", at(2026, 12, 31, 22, 0), at(2027, 1, 1, 9, 0), at(2027, 1, 1, 9, 0)},
	}
	for _, tt := range tests {
		if first, next := r.firstRun(tt.now), r.nextRun(tt.now); !first.Equal(tt.first) || !next.Equal(tt.next) {
			t.Errorf("%s: first %v, next %v; want %v, %v", tt.name, first, next, tt.first, tt.next)
		}
	}
}

func TestParseWindow(t *testing.T) {
	tests := []struct {
		in   string
		want Window
		ok   bool
	}{
		{"08:00-20:00", Window{8 * 60, 20 * 60}, true},
		{" 7:30 - 18:45 ", Window{7*60 + 30, 18*60 + 45}, true},
		{"20:00-08:00", Window{}, false},
		{"08:00", Window{}, false},
		{"8h-20h", Window{}, false},
		{"08:00-24:00", Window{}, false},
	}
	for _, tt := range tests {
		got, err := ParseWindow(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseWindow(%q) = %v, %v", tt.in, got, err)
		}
	}
}
