package main

import (
	"strings"
	"testing"
	"time"
)

// The SMS reply limits: defaults when unset (the handler's, spelled 0), 0
// turns a check off (negative in gateway.SMSOptions), bad values are named.
func TestServeReadsSMSLimits(t *testing.T) {
	for _, tc := range []struct {
		name            string
		vars            map[string]string
		window          time.Duration
		budget, officer int
		problem         string
	}{
		{name: "defaults"},
		{name: "set", vars: map[string]string{"SMS_REPEAT_WINDOW": "30m", "SMS_REPLY_BUDGET": "5", "SMS_OFFICER_REPLY_BUDGET": "50"},
			window: 30 * time.Minute, budget: 5, officer: 50},
		{name: "off", vars: map[string]string{"SMS_REPEAT_WINDOW": "0", "SMS_REPLY_BUDGET": "0", "SMS_OFFICER_REPLY_BUDGET": "0"},
			window: -1, budget: -1, officer: -1},
		{name: "bad window", vars: map[string]string{"SMS_REPEAT_WINDOW": "ten minutes"}, problem: `SMS_REPEAT_WINDOW "ten minutes"`},
		{name: "negative window", vars: map[string]string{"SMS_REPEAT_WINDOW": "-1m"}, problem: `SMS_REPEAT_WINDOW "-1m"`},
		{name: "bad budget", vars: map[string]string{"SMS_REPLY_BUDGET": "lots"}, problem: `SMS_REPLY_BUDGET "lots"`},
		{name: "negative officer budget", vars: map[string]string{"SMS_OFFICER_REPLY_BUDGET": "-5"}, problem: `SMS_OFFICER_REPLY_BUDGET "-5"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{"DATABASE_URL": "postgres://x", "REDIS_URL": "redis://x"}
			for k, v := range tc.vars {
				vars[k] = v
			}
			cfg, err := loadServeConfig(envOf(vars), true, "")
			if tc.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tc.problem) {
					t.Fatalf("err = %v, want one naming %s", err, tc.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := cfg.smsLimits
			if got.RepeatWindow != tc.window || got.ReplyBudget != tc.budget || got.OfficerReplyBudget != tc.officer {
				t.Errorf("window %v, budgets %d/%d; want %v, %d/%d", got.RepeatWindow, got.ReplyBudget, got.OfficerReplyBudget,
					tc.window, tc.budget, tc.officer)
			}
		})
	}
}
