package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/policystore/pgtest"
	"github.com/openimis/imis-gateway/sessions/redistest"
)

// Every password, token and key serve may be given, each one unlike any
// other text it prints.
var serveSecrets = map[string]string{
	"AT_CALLBACK_TOKEN":     "at-callback-tok-4f1d9e",
	"AT_API_KEY":            "atsk_9b2e7c41d05f4a3e8c6d2b1a0f9e8d7c",
	"TWILIO_ACCOUNT_SID":    "AC5e2d8c1b4a7f6e9d0c3b2a1f4e7d8c9b",
	"TWILIO_AUTH_TOKEN":     "twauth-7e3a9c5b1d2f4e6a",
	"TWILIO_CALLBACK_TOKEN": "tw-callback-tok-8c2e5a",
}

// withSecrets is vars plus every secret, and the settings that go with them.
func withSecrets(vars map[string]string) map[string]string {
	all := map[string]string{"AT_USERNAME": "imis", "TWILIO_FROM": "+14155550100", "TWILIO_PUBLIC_URL": "https://gw.example.org",
		"LOG_LEVEL": "debug"}
	maps.Copy(all, serveSecrets)
	maps.Copy(all, vars)
	return all
}

// noSecrets fails t if any of secrets shows in what serve printed or returned.
func noSecrets(t *testing.T, stdout, stderr string, err error, secrets ...string) {
	t.Helper()
	printed := map[string]string{"stdout": stdout, "stderr": stderr}
	if err != nil {
		printed["error"] = err.Error()
	}
	for where, text := range printed {
		for _, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows %q:\n%s", where, secret, text)
			}
		}
	}
}

// A failed start says what failed and where, without the password of the
// URL it could not use, or any key or token it was given.
func TestServeFailuresPrintNoSecrets(t *testing.T) {
	databaseURL := pgtest.NewDatabase(t)
	closed := "127.0.0.1:" + fmt.Sprint(freePort(t))
	for _, tc := range []struct {
		label       string
		databaseURL string
		redisURL    string
		password    string
		want        string // in the error
	}{
		{"Redis refuses", databaseURL, "redis://:hunter2-secret@" + closed + "/0", "hunter2-secret", "Redis at redis://:xxxxx@" + closed},
		{"Redis user and password", databaseURL, "redis://gw:hunter2-secret@" + closed + "/0", "hunter2-secret", "Redis at"},
		{"Sentinel password", databaseURL, "redis+sentinel://" + closed + "/mymaster?sentinel_password=hunter2-secret&dial_timeout=200ms",
			"hunter2-secret", "Redis at"},
		{"malformed Redis URL", databaseURL, "redis://:hunter2-secret@" + closed + "/zero", "hunter2-secret", "REDIS_URL"},
		{"PostgreSQL refuses", "postgres://imis:hunter2-pg@" + closed + "/openimis?connect_timeout=2", redistest.URL(), "hunter2-pg", "PostgreSQL"},
		{"PostgreSQL key/value", "host=127.0.0.1 port=" + strings.TrimPrefix(closed, "127.0.0.1:") + " user=imis password=hunter2-pg connect_timeout=2",
			redistest.URL(), "hunter2-pg", "PostgreSQL"},
		{"malformed PostgreSQL URL", "postgres://imis:hunter2-pg@127.0.0.1:port/openimis", redistest.URL(), "hunter2-pg", "DATABASE_URL"},
	} {
		t.Run(tc.label, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			stdout, stderr, err := runCmd(t, ctx, withSecrets(map[string]string{"DATABASE_URL": tc.databaseURL, "REDIS_URL": tc.redisURL,
				"LISTEN_ADDR": "127.0.0.1:0"}), "", "serve")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("serve: %v, want an error about %q", err, tc.want)
			}
			noSecrets(t, stdout, stderr, err, append(slices.Collect(maps.Values(serveSecrets)), tc.password)...)
		})
	}
}

// With ADMIN_ADDR, /metrics and a detailed /readyz move to a private
// listener and leave the public one; without it /metrics stays public and
// serve warns once. Neither run prints a secret.
func TestServeAdminAddr(t *testing.T) {
	vars := withSecrets(map[string]string{
		"DATABASE_URL": pgtest.NewDatabase(t),
		"REDIS_URL":    redistest.URL(),
		"LISTEN_ADDR":  "127.0.0.1:0",
		"ADMIN_ADDR":   "127.0.0.1:" + fmt.Sprint(freePort(t)),
	})
	admin := "http://" + vars["ADMIN_ADDR"]
	stdout, stderr := runServe(t, vars, func(public string) {
		wantGet(t, public+"/metrics", http.StatusNotFound, "")
		wantGet(t, public+"/readyz", http.StatusOK, `{"postgres":"ok","redis":"ok"}`)
		wantGet(t, admin+"/metrics", http.StatusOK, "imisgw_ussd_session_conflicts_total")
		wantGet(t, admin+"/readyz", http.StatusOK, `{"postgres":"ok","redis":"ok"}`)
		wantGet(t, admin+"/healthz", http.StatusOK, "ok")
	})
	if strings.Contains(stderr, "/metrics is served on the public listener") {
		t.Errorf("warned about public metrics with ADMIN_ADDR set:\n%s", stderr)
	}
	noSecrets(t, stdout, stderr, nil, slices.Collect(maps.Values(serveSecrets))...)

	delete(vars, "ADMIN_ADDR")
	stdout, stderr = runServe(t, vars, func(public string) {
		wantGet(t, public+"/metrics", http.StatusOK, "imisgw_ussd_session_conflicts_total")
	})
	if n := strings.Count(stderr, "/metrics is served on the public listener"); n != 1 {
		t.Errorf("%d warnings about public metrics, want 1:\n%s", n, stderr)
	}
	noSecrets(t, stdout, stderr, nil, slices.Collect(maps.Values(serveSecrets))...)

	vars["ADMIN_ADDR"] = "9090"
	if _, _, err := runCmd(t, context.Background(), vars, "", "serve"); err == nil || !strings.Contains(err.Error(), `ADMIN_ADDR "9090"`) {
		t.Errorf("ADMIN_ADDR without a host: %v", err)
	}
}

// runServe runs serve with vars until try, given the public base URL, is
// done, and returns what serve printed.
func runServe(t *testing.T, vars map[string]string, try func(public string)) (stdout, stderr string) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	var out, errOut output
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"imis-gateway", "serve"}, envOf(vars), strings.NewReader(""), &out, &errOut)
	}()
	try(waitForServer(t, &out, done))
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, errOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	return out.String(), errOut.String()
}

func wantGet(t *testing.T, url string, status int, body string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status || !strings.Contains(string(b), body) {
		t.Errorf("GET %s: %d %q, want %d with %q", url, resp.StatusCode, b, status, body)
	}
}

// freePort is a loopback port nothing listens on, as far as anyone can know.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// migrate and seed-demo fail on an unreachable or malformed DATABASE_URL
// without printing its password either.
func TestDatabaseFailuresPrintNoPassword(t *testing.T) {
	closed := "127.0.0.1:" + fmt.Sprint(freePort(t))
	for _, databaseURL := range []string{
		"postgres://imis:hunter2-pg@" + closed + "/openimis?connect_timeout=2",
		"postgres://imis:hunter2-pg@127.0.0.1:port/openimis",
		"host=127.0.0.1 port=x user=imis password=hunter2-pg",
	} {
		for _, command := range []string{"migrate", "seed-demo"} {
			stdout, stderr, err := runCmd(t, context.Background(), map[string]string{"DATABASE_URL": databaseURL}, "", command)
			if err == nil {
				t.Fatalf("%s on %s: no error", command, databaseURL)
			}
			noSecrets(t, stdout, stderr, err, "hunter2-pg")
		}
	}
}

// sim dialling a gateway that is not there says so without the callback
// token, which the URL it posts to carries.
func TestSimPrintsNoToken(t *testing.T) {
	base := "http://127.0.0.1:" + fmt.Sprint(freePort(t))
	for _, provider := range []string{"africastalking", "hubtel"} {
		stdout, stderr, err := runCmd(t, context.Background(), serveSecrets, "q\n", "sim", "--url", base, "--provider", provider,
			"--token", serveSecrets["AT_CALLBACK_TOKEN"])
		if err == nil || !strings.Contains(err.Error(), "unreachable") {
			t.Fatalf("sim %s: %v", provider, err)
		}
		noSecrets(t, stdout, stderr, err, serveSecrets["AT_CALLBACK_TOKEN"])
	}
	_, _, err := runCmd(t, context.Background(), serveSecrets, "q\n", "sim", "--url", base)
	noSecrets(t, "", "", err, serveSecrets["AT_CALLBACK_TOKEN"])
}
