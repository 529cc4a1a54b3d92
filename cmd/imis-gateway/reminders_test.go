package main

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/openimis/imis-gateway/policystore"
)

// TestRemindersRun: `reminders run` on the demo data queues the reminder of
// the family due (604120019, in nine days) once, then the officers' lists
// when asked, and says what it did; bad settings are refused as by serve.
func TestRemindersRun(t *testing.T) {
	vars := demoDatabase(t)
	// The demo's policies on half-year cycles end on 30 June and 31
	// December: some days of the year they are due too. Not here.
	var moved int
	if err := pgCount(t, vars["DATABASE_URL"], `WITH m AS (UPDATE "tblPolicy" SET "ExpiryDate" = "ExpiryDate" + 366
		WHERE "ExpiryDate" BETWEEN current_date - 1 AND current_date + 60 AND "PolicyID" <> 6 RETURNING 1) SELECT count(*) FROM m`, &moved); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		extra map[string]string
		want  []string
	}{
		{"first run", nil, []string{"(14 days, from tblIMISDefaults): 1 due\n", "queued: 1 to families, 0 to officers\n",
			"already reminded: 0\n", "skipped: 0\n", "is not configured to send SMS: the reminders wait in the outbox"}},
		{"again", nil, []string{"queued: 0 to families, 0 to officers\n", "already reminded: 1\n"}},
		{"with the officers' lists", map[string]string{"REMINDER_OFFICER_DIGEST": "on", "REMINDER_DAYS": "30"},
			[]string{"(30 days, from REMINDER_DAYS): 1 due\n", "queued: 0 to families, 2 to officers\n"}},
		{"REMINDERS=off", map[string]string{"REMINDERS": "off"}, []string{"REMINDERS=off: serve runs no daily job", "already reminded: 1\n"}},
	}
	for _, tt := range tests {
		env := maps.Clone(vars)
		maps.Copy(env, tt.extra)
		out, stderr, err := runCmd(t, context.Background(), env, "", "reminders", "run", "--dev")
		if err != nil {
			t.Fatalf("%s: %v\n%s%s", tt.name, err, out, stderr)
		}
		for _, want := range tt.want {
			if !strings.Contains(out, want) {
				t.Errorf("%s: %q missing from\n%s", tt.name, want, out)
			}
		}
	}
	var queued int
	if err := pgCount(t, vars["DATABASE_URL"], `SELECT count(*) FROM imis_gateway.outbox WHERE purpose LIKE 'reminder.%'`, &queued); err != nil || queued != 3 {
		t.Errorf("%d reminders in the outbox (%v), want 3", queued, err)
	}
}

func TestRemindersSettings(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres:///x", "REDIS_URL": "redis://localhost"}
	tests := []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"REMINDERS": "yes"}, `REMINDERS "yes": want on or off`},
		{map[string]string{"REMINDER_AT": "9am"}, `REMINDER_AT "9am": want a time of day such as 09:00`},
		{map[string]string{"REMINDER_AT": "21:00"}, "REMINDER_AT 21:00 is outside REMINDER_WINDOW 08:00-20:00"},
		{map[string]string{"REMINDER_WINDOW": "20:00-08:00"}, "the window must start before it ends"},
		{map[string]string{"REMINDER_DAYS": "0"}, `REMINDER_DAYS "0": want a number of days from 1 to 366`},
		{map[string]string{"REMINDER_WITHOUT_CONSENT_ROW": "maybe"}, "want send or skip"},
		{map[string]string{"REMINDER_OFFICER_DIGEST": "1"}, `REMINDER_OFFICER_DIGEST "1": want on or off`},
	}
	for _, tt := range tests {
		env := maps.Clone(base)
		maps.Copy(env, tt.vars)
		_, err := loadServeConfig(envOf(env), true, "")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want %q", tt.vars, err, tt.want)
		}
	}
	cfg, err := loadServeConfig(envOf(base), true, "")
	if err != nil || !cfg.remindersOn || cfg.reminders.OfficerDigest || cfg.reminders.SkipWithoutConsentRow || cfg.reminders.Days != 0 ||
		cfg.reminders.At.String() != "09:00" || cfg.reminders.Window.String() != "08:00-20:00" {
		t.Errorf("defaults: %+v %v, %v", cfg.reminders, cfg.remindersOn, err)
	}
}

func pgCount(t *testing.T, databaseURL, sql string, n *int) error {
	t.Helper()
	store, err := policystore.Open(context.Background(), databaseURL, policystore.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	return store.Pool().QueryRow(context.Background(), sql).Scan(n)
}
