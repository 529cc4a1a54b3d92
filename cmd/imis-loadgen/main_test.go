package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestLoadReportsThroughputAndLatency runs the generator briefly against a
// stand-in USSD endpoint and checks the three-hop sessions and the report.
func TestLoadReportsThroughputAndLatency(t *testing.T) {
	var (
		hops   atomic.Int64
		phones sync.Map
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ussd/africastalking/tok" || r.FormValue("sessionId") == "" {
			http.NotFound(w, r)
			return
		}
		hops.Add(1)
		phones.Store(r.FormValue("phoneNumber"), true)
		if strings.Count(r.FormValue("text"), "*") == 1 {
			w.Write([]byte("END covered"))
			return
		}
		w.Write([]byte("CON menu"))
	}))
	defer srv.Close()

	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"imis-loadgen", "-url", srv.URL, "-token", "tok", "-clients", "2",
		"-duration", "300ms", "-warmup", "50ms"}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errOut.String())
	}
	for _, want := range []string{"hops/s", "p99", "failed 0", "load generator CPU"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if hops.Load() == 0 {
		t.Fatal("no hop reached the server")
	}
	// A new phone per session: about a third as many numbers as hops.
	numbers := 0
	phones.Range(func(any, any) bool { numbers++; return true })
	if numbers < int(hops.Load()/3)-2 {
		t.Errorf("%d phone numbers for %d hops", numbers, hops.Load())
	}

	// One per client when asked.
	phones.Clear()
	err = run(context.Background(), []string{"imis-loadgen", "-url", srv.URL, "-token", "tok", "-clients", "2",
		"-duration", "100ms", "-warmup", "10ms", "-phones", "client"}, &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	numbers = 0
	phones.Range(func(any, any) bool { numbers++; return true })
	for _, phone := range []string{"+255710000000", "+255710000001"} {
		if _, ok := phones.Load(phone); !ok || numbers != 2 {
			t.Errorf("no hop from %s, or %d numbers", phone, numbers)
		}
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
