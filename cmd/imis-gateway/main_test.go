package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/policystore/pgtest"
	"github.com/openimis/imis-gateway/providers/registry"
	"github.com/openimis/imis-gateway/sessions"
	"github.com/openimis/imis-gateway/sessions/redistest"
)

// output is a goroutine-safe buffer for a command's stdout or stderr.
type output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func runCmd(t *testing.T, ctx context.Context, vars map[string]string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr output
	err := run(ctx, append([]string{"imis-gateway"}, args...), envOf(vars), strings.NewReader(stdin), &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func TestEveryCommandHasHelp(t *testing.T) {
	for name := range commands {
		out, _, err := runCmd(t, context.Background(), nil, "", name, "--help")
		if err != nil {
			t.Errorf("%s --help: %v", name, err)
		}
		if !strings.Contains(out, "Usage: imis-gateway "+name) {
			t.Errorf("%s --help printed %q", name, out)
		}
	}
	out, _, err := runCmd(t, context.Background(), nil, "", "--help")
	if err != nil || !strings.Contains(out, "seed-demo") {
		t.Fatalf("--help: %v %q", err, out)
	}
}

func TestUnknownCommandAndMissingCommand(t *testing.T) {
	if _, errOut, err := runCmd(t, context.Background(), nil, "", "frobnicate"); !errors.Is(err, errUsage) || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("unknown command: %v %q", err, errOut)
	}
	if _, _, err := runCmd(t, context.Background(), nil, ""); !errors.Is(err, errUsage) {
		t.Fatalf("no command: %v", err)
	}
}

func TestVersion(t *testing.T) {
	out, _, err := runCmd(t, context.Background(), nil, "", "version")
	if err != nil || !strings.HasPrefix(out, "imis-gateway ") {
		t.Fatalf("version: %v %q", err, out)
	}
}

func TestServeExplainsMissingConfiguration(t *testing.T) {
	_, _, err := runCmd(t, context.Background(), map[string]string{"DEFAULT_LANGUAGE": "de", "HOP_DEADLINE": "soon", "SESSION_CACHE": "-3"}, "", "serve")
	if err == nil {
		t.Fatal("serve started without configuration")
	}
	for _, want := range []string{"DATABASE_URL", "REDIS_URL", "AT_CALLBACK_TOKEN", "DEFAULT_LANGUAGE", "HOP_DEADLINE", "SESSION_CACHE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
}

// TestSessionCacheMB: SESSION_CACHE_MB takes a whole number of MiB; 0 is refused, since
// SESSION_CACHE=0 already turns the cache off.
func TestSessionCacheMB(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": "postgres:///x", "REDIS_URL": "redis://localhost"}
	for v, want := range map[string]int64{"": sessions.DefaultRecentBytes, "1": 1 << 20, "256": 256 << 20} {
		vars["SESSION_CACHE_MB"] = v
		cfg, err := loadServeConfig(envOf(vars), true, "")
		if err != nil || cfg.sessionCacheBytes != want {
			t.Errorf("SESSION_CACHE_MB=%q: %d bytes, %v; want %d", v, cfg.sessionCacheBytes, err, want)
		}
	}
	for _, v := range []string{"0", "-1", "16MB", "1.5", "99999999999"} {
		vars["SESSION_CACHE_MB"] = v
		if _, err := loadServeConfig(envOf(vars), true, ""); err == nil || !strings.Contains(err.Error(), "SESSION_CACHE_MB") {
			t.Errorf("SESSION_CACHE_MB=%q: %v, want a problem naming it", v, err)
		}
	}
}

// TestResumeWindow: RESUME_WINDOW takes a duration; 0 turns resuming off.
func TestResumeWindow(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": "postgres:///x", "REDIS_URL": "redis://localhost"}
	for v, want := range map[string]time.Duration{"": sessions.DefaultResumeWindow, "90s": 90 * time.Second, "0": -1} {
		vars["RESUME_WINDOW"] = v
		cfg, err := loadServeConfig(envOf(vars), true, "")
		if err != nil || cfg.resumeWindow != want {
			t.Errorf("RESUME_WINDOW=%q: %v, %v; want %v", v, cfg.resumeWindow, err, want)
		}
	}
	for _, v := range []string{"-1m", "3", "soon"} {
		vars["RESUME_WINDOW"] = v
		if _, err := loadServeConfig(envOf(vars), true, ""); err == nil || !strings.Contains(err.Error(), "RESUME_WINDOW") {
			t.Errorf("RESUME_WINDOW=%q: %v, want a problem naming it", v, err)
		}
	}
}

func TestServeRefusesAnUnmigratedDatabase(t *testing.T) {
	vars := map[string]string{
		"DATABASE_URL": pgtest.NewDatabase(t, pgtest.Empty()),
		"REDIS_URL":    redistest.URL(),
	}
	if _, _, err := runCmd(t, context.Background(), vars, "", "serve", "--dev"); err == nil {
		t.Fatal("serve started on a database without openIMIS tables")
	}
}

// TestMigrateSeedServeAndDial runs the binary's own commands as a new user
// would: migrate --dev-schema, seed-demo, serve, then the terminal simulator
// walks a membership check.
func TestMigrateSeedServeAndDial(t *testing.T) {
	vars := demoDatabase(t)
	ctx := context.Background()
	base, stop := serveDev(t, vars)

	simOut, _, err := runCmd(t, ctx, vars, "1\n101203401\nq\n", "sim", "--url", base, "--phone", "+255712111222")
	if err != nil {
		t.Fatalf("sim: %v\n%s", err, simOut)
	}
	for _, want := range []string{"1. Check membership", "Enter the insurance number", "Juma Hassan Mrisho", "covered until", "session ended"} {
		if !strings.Contains(simOut, want) {
			t.Errorf("simulator output lacks %q:\n%s", want, simOut)
		}
	}

	// The same walk in another aggregator's wire format.
	vars["USSD_PROVIDERS"] = "africastalking,hubtel"
	simOut, _, err = runCmd(t, ctx, vars, "1\n48213\nq\n", "sim", "--url", base, "--provider", "hubtel")
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("hubtel is not enabled on this server, yet the simulator got: %v\n%s", err, simOut)
	}
	stop()
}

// TestSimDialsEveryProvider walks the membership check with sim --provider
// in every USSD provider's wire format, on a server that serves them all.
func TestSimDialsEveryProvider(t *testing.T) {
	vars := demoDatabase(t)
	names := enableEveryProvider(vars)
	base, stop := serveDev(t, vars)
	defer stop()
	for _, name := range names {
		simOut, _, err := runCmd(t, context.Background(), vars, "1\n101203401\nq\n", "sim", "--url", base, "--provider", name)
		if err != nil {
			t.Fatalf("sim --provider %s: %v\n%s", name, err, simOut)
		}
		for _, want := range []string{"through " + name, "1. Check membership", "Juma Hassan Mrisho", "covered until", "session ended"} {
			if !strings.Contains(simOut, want) {
				t.Errorf("sim --provider %s lacks %q:\n%s", name, want, simOut)
			}
		}
	}
}

// demoDatabase migrates (twice: the second run must be a harmless no-op) and
// seeds a new database as a new user would, and returns the variables to
// serve it with.
// enableEveryProvider sets vars to serve every USSD provider's wire on the
// demo's service code, and returns their names.
func enableEveryProvider(vars map[string]string) []string {
	var names []string
	for _, p := range registry.USSD() {
		names = append(names, p.Name)
		vars[p.EnvPrefix+"SERVICE_CODE"] = "*384*1234#"
	}
	vars["USSD_PROVIDERS"] = strings.Join(names, ",")
	return names
}

func demoDatabase(t *testing.T) map[string]string {
	t.Helper()
	vars := map[string]string{
		"DATABASE_URL": pgtest.NewDatabase(t, pgtest.Empty()),
		// serve uses the default key prefix: a Redis of its own keeps a
		// language chosen in a demo session from leaking into the test.
		"REDIS_URL":   redistest.StartServer(t).URL(),
		"LISTEN_ADDR": "127.0.0.1:0",
		"LOG_LEVEL":   "warn",
	}
	ctx := context.Background()
	for range 2 {
		if out, _, err := runCmd(t, ctx, vars, "", "migrate", "--dev-schema"); err != nil {
			t.Fatalf("migrate: %v\n%s", err, out)
		}
	}
	out, _, err := runCmd(t, ctx, vars, "", "seed-demo", "--reset")
	if err != nil || !strings.Contains(out, "101203401") || !strings.Contains(out, "all of Chamwino district") {
		t.Fatalf("seed-demo: %v\n%s", err, out)
	}
	return vars
}

// serveDev runs serve --dev until stop, which fails t unless serve stops
// cleanly, and returns its base URL.
func serveDev(t *testing.T, vars map[string]string) (base string, stop func()) {
	t.Helper()
	serveCtx, cancel := context.WithCancel(context.Background())
	var stdout, stderr output
	done := make(chan error, 1)
	go func() {
		done <- run(serveCtx, []string{"imis-gateway", "serve", "--dev"}, envOf(vars), strings.NewReader(""), &stdout, &stderr)
	}()
	base = waitForServer(t, &stdout, done)
	return base, func() {
		t.Helper()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("serve: %v\n%s", err, stderr.String())
			}
		case <-time.After(15 * time.Second):
			t.Fatal("serve did not stop")
		}
	}
}

var servingOn = regexp.MustCompile(`serving on (http://\S+)`)

func waitForServer(t *testing.T, stdout *output, done <-chan error) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v", err)
		default:
		}
		if m := servingOn.FindStringSubmatch(stdout.String()); m != nil {
			resp, err := http.Get(m[1] + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return m[1]
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("serve did not come up:\n%s", stdout.String())
	return ""
}
