package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeGateway is a stand-in USSD endpoint recording the hops it answers.
type fakeGateway struct {
	*httptest.Server
	hops   atomic.Int64
	phones sync.Map // phone → true
	texts  sync.Map // text → true
}

func newFakeGateway(t *testing.T) *fakeGateway {
	g := &fakeGateway{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ussd/africastalking/tok" || r.FormValue("sessionId") == "" {
			http.NotFound(w, r)
			return
		}
		g.hops.Add(1)
		g.phones.Store(r.FormValue("phoneNumber"), true)
		g.texts.Store(r.FormValue("text"), true)
		switch text := r.FormValue("text"); {
		case strings.HasPrefix(text, "2*") && !strings.HasSuffix(text, "*98"):
			w.Write([]byte("CON Latest 5 claims:\n98 More"))
		case strings.Contains(text, "*"):
			w.Write([]byte("END covered"))
		default:
			w.Write([]byte("CON menu"))
		}
	}))
	t.Cleanup(g.Close)
	return g
}

func count(m *sync.Map) int {
	n := 0
	m.Range(func(any, any) bool { n++; return true })
	return n
}

// TestLoadReportsThroughputAndLatency runs the generator briefly against a
// stand-in gateway and a ceiling, and checks the sessions, the mix and the
// report.
func TestLoadReportsThroughputAndLatency(t *testing.T) {
	g := newFakeGateway(t)
	ceiling := httptest.NewServer(ceilingHandler())
	defer ceiling.Close()

	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"imis-loadgen", "-url", g.URL, "-ceiling", ceiling.URL, "-token", "tok",
		"-clients", "2", "-duration", "300ms", "-warmup", "50ms", "-chfids", "101203401,48213",
		"-claims", "101203401@+255712111222"}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errOut.String())
	}
	for _, want := range []string{"ceiling (constant screens):", "gateway:", "hops/s", "p99", "failed 0", "look-up hops",
		"ratio to the ceiling:", "membership ", "claims ", "unknown ", "load generator CPU"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if g.hops.Load() == 0 {
		t.Fatal("no hop reached the gateway")
	}
	// Every kind of session, the claims ones paged from the holder's phone.
	for _, text := range []string{"1*101203401", "1*48213", "2*101203401", "2*101203401*98"} {
		if _, ok := g.texts.Load(text); !ok {
			t.Errorf("no hop with text %q", text)
		}
	}
	if _, ok := g.phones.Load("+255712111222"); !ok {
		t.Error("no claims session from the holder's phone")
	}
	// A new phone per session: about a third as many numbers as hops.
	if numbers := count(&g.phones); numbers < int(g.hops.Load()/4)-2 {
		t.Errorf("%d phone numbers for %d hops", numbers, g.hops.Load())
	}
}

func TestOnePhonePerClient(t *testing.T) {
	g := newFakeGateway(t)
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"imis-loadgen", "-url", g.URL, "-token", "tok", "-clients", "2",
		"-duration", "100ms", "-warmup", "10ms", "-phones", "client", "-mix", "membership=1"}, &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	for _, phone := range []string{"+255710000000", "+255710000001"} {
		if _, ok := g.phones.Load(phone); !ok || count(&g.phones) != 2 {
			t.Errorf("no hop from %s, or %d numbers", phone, count(&g.phones))
		}
	}
}

// TestCPUPerHop measures this test's own process, which serves the stand-in
// gateway, as a watched process would be.
func TestCPUPerHop(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("-cpu reads Linux's /proc")
	}
	g := newFakeGateway(t)
	self := strconv.Itoa(os.Getpid())
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"imis-loadgen", "-url", g.URL, "-token", "tok", "-clients", "4",
		"-duration", "500ms", "-warmup", "10ms", "-cpu", "gateway=" + self + ",gateway/again=" + self + "+" + self}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errOut.String())
	}
	// A part (a name with a slash) is shown, not added: the total is the
	// gateway's and the generator's, and both are this process.
	m := regexp.MustCompile(`CPU µs per hop: gateway ([0-9.]+), gateway/again ([0-9.]+); with the generator ([0-9.]+)`).
		FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no CPU per hop in the report:\n%s", out.String())
	}
	gateway, _ := strconv.ParseFloat(m[1], 64)
	twice, _ := strconv.ParseFloat(m[2], 64)
	total, _ := strconv.ParseFloat(m[3], 64)
	if gateway <= 0 || twice < 1.5*gateway || total > 2.5*gateway {
		t.Errorf("gateway %v µs, counted twice %v µs, total %v µs per hop:\n%s", gateway, twice, total, out.String())
	}
}

func TestLoadCountsFailures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("END Service temporarily unavailable, please try again."))
	}))
	defer srv.Close()
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"imis-loadgen", "-url", srv.URL, "-clients", "1", "-duration", "100ms", "-warmup", "10ms"}, &out, &errOut)
	if err == nil || !strings.Contains(out.String(), "first error") {
		t.Fatalf("failures not reported: %v\n%s", err, out.String())
	}
}

func TestFlagsRefused(t *testing.T) {
	for _, args := range [][]string{
		{"-mix", "membership=x"}, {"-mix", "sleep=1"}, {"-mix", "claims=1"}, {"-claims", "101203401"},
		{"-phones", "none"}, {"-clients", "0"}, {"-cpu", "gateway"}, {"-cpu", "gateway=0"}, {"-cpu", "=1"}, {"-cpu", "pg=1+x"},
		{"-cpu", "gone=2147483646"},
	} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), append([]string{"imis-loadgen"}, args...), &out, &errOut); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

func TestParseNumbers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		in      string
		wantErr bool
		within  func(string) bool
	}{
		{in: "048213", within: func(s string) bool { return s == "048213" }},
		{in: "1000000000-1000000009", within: func(s string) bool { return s >= "1000000000" && s <= "1000000009" && len(s) == 10 }},
		{in: "7-7", within: func(s string) bool { return s == "7" }},
		{in: "9-1", wantErr: true},
		{in: "a-b", wantErr: true},
		{in: " , ", wantErr: true},
	} {
		ns, err := parseNumbers(tc.in)
		if (err != nil) != tc.wantErr {
			t.Fatalf("parseNumbers(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
		}
		for range 50 {
			if tc.wantErr {
				break
			}
			if got := ns.pick(r); !tc.within(got) {
				t.Fatalf("parseNumbers(%q).pick() = %q", tc.in, got)
			}
		}
	}
}
