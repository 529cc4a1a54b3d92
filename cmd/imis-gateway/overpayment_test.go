package main

import (
	"context"
	"strings"
	"testing"

	"github.com/openimis/imis-gateway/openimis"
)

// TestServeReadsTheOverpaymentAccepted: RENEWAL_MAX_OVERPAYMENT is an
// amount in currency units, 0 when unset; anything else stops serve with
// a problem that names the variable.
func TestServeReadsTheOverpaymentAccepted(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres:///x", "REDIS_URL": "redis://localhost"}
	for _, tt := range []struct {
		value string
		want  openimis.Money
		ok    bool
	}{
		{"", 0, true},
		{"0", 0, true},
		{"500", openimis.Money(500_00), true},
		{" 500.50 ", openimis.Money(500_00) + 50, true},
		{"-500", 0, false},
		{"1,000", 0, false},
		{"500 TZS", 0, false},
		{"0.001", 0, false},
		{"99999999999999999", 0, false}, // beyond numeric(18,2)
	} {
		env := map[string]string{"RENEWAL_MAX_OVERPAYMENT": tt.value}
		for k, v := range base {
			env[k] = v
		}
		cfg, err := loadServeConfig(func(k string) string { return env[k] }, true, "")
		switch {
		case tt.ok && (err != nil || cfg.maxOverpayment != tt.want):
			t.Errorf("%q: %s, %v; want %s", tt.value, cfg.maxOverpayment, err, tt.want)
		case !tt.ok && (err == nil || !strings.Contains(err.Error(), "RENEWAL_MAX_OVERPAYMENT")):
			t.Errorf("%q: %v, want a problem with RENEWAL_MAX_OVERPAYMENT", tt.value, err)
		}
	}
	out, errOut, _ := runCmd(t, context.Background(), nil, "", "serve", "--help")
	if !strings.Contains(out+errOut, "RENEWAL_MAX_OVERPAYMENT") {
		t.Errorf("serve --help does not list RENEWAL_MAX_OVERPAYMENT:\n%s%s", out, errOut)
	}
}
