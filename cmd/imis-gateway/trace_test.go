package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/openimis/imis-gateway/gateway"
)

// TestTraceShowsWhatTheSimulatorSaw: a session dialled with sim through
// serve is printed by trace, screens and inputs, as text and as JSON.
func TestTraceShowsWhatTheSimulatorSaw(t *testing.T) {
	vars := demoDatabase(t)
	ctx := context.Background()
	base, stop := serveDev(t, vars)
	if out, _, err := runCmd(t, ctx, vars, "1\n101203401\nq\n", "sim", "--url", base, "--phone", "+255712111222"); err != nil {
		t.Fatalf("sim: %v\n%s", err, out)
	}
	stop() // serve writes what the trace holds before it returns

	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"by phone", []string{"--phone", "0712 111 222", "--since", "1h"},
			[]string{"USSD session", "+255712111222", "(dialled)", "1. Check membership", `typed "1" at main`,
				`typed "101203401" at membership.ask`, "Juma Hassan Mrisho", "session ended"}},
		{"by insurance number", []string{"--chfid", "101203401"}, []string{`typed "101203401" at membership.ask`}},
		{"nothing found", []string{"--phone", "+255799999999"}, []string{"Nothing recorded"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := runCmd(t, ctx, vars, "", append([]string{"trace"}, tc.args...)...)
			if err != nil {
				t.Fatalf("trace: %v\n%s", err, out)
			}
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("no %q in:\n%s", want, out)
				}
			}
		})
	}

	out, _, err := runCmd(t, ctx, vars, "", "trace", "--phone", "+255712111222", "--json")
	var tl gateway.Timeline
	if err != nil || json.Unmarshal([]byte(out), &tl) != nil || len(tl.Items) != 1 || len(tl.Items[0].Session.Hops) != 3 {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if _, _, err := runCmd(t, ctx, vars, "", "trace"); !errors.Is(err, errUsage) {
		t.Errorf("trace without a search: %v, want the usage", err)
	}
	if _, _, err := runCmd(t, ctx, vars, "", "trace", "--phone", "1", "--since", "soon"); !errors.Is(err, gateway.ErrSince) {
		t.Errorf("--since soon: %v", err)
	}
}
