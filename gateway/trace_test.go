package gateway_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openimis/imis-gateway/gateway"
)

// TestTraceRecordsWhatTheCallerSaw: hops through the real server, a renewal
// with its confirmation SMS and an SMS command are found by phone, session,
// insurance number and receipt, each with what is tied to it.
func TestTraceRecordsWhatTheCallerSaw(t *testing.T) {
	g := newSMSGateway(t)
	first := mustCON(t, g.hop("ATUid_trace_1", headA, ""))
	mustCON(t, g.hop("ATUid_trace_1", headA, "1"))
	last := mustEND(t, g.hop("ATUid_trace_1", headA, "1*101203401"))
	mustCON(t, g.hop("ATUid_trace_pin", headA, ""))
	mustCON(t, g.hop("ATUid_trace_pin", headA, "4321")) // a PIN typed at the main menu
	quote := quoteFor(t, g.store, officerEO001, "604120019", "")
	mustEND(t, g.hop("ATUid_trace_renew", officerEO001, "3*604120019*RC-TRACE-1*"+quote.Value.String()+"*1"))
	g.sms("trace-sms-1", stranger, "CHECK 101203401")
	g.sent(officerEO001, "+255754100200", stranger)

	search := func(q gateway.TraceQuery, want func(gateway.Timeline) bool) gateway.Timeline {
		t.Helper()
		q.Since = time.Now().Add(-time.Hour)
		deadline := time.Now().Add(10 * time.Second)
		for {
			tl, err := gateway.SearchTrace(context.Background(), g.store.Pool(), q)
			if err != nil {
				t.Fatal(err)
			}
			if want(tl) {
				return tl
			}
			if time.Now().After(deadline) {
				t.Fatalf("%+v: timeline not as wanted: %s", q, describe(tl))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	tl := search(gateway.TraceQuery{Phone: "0712 111 222"}, func(tl gateway.Timeline) bool {
		return len(sessionsOf(tl)) == 2 && len(sessionsOf(tl)[0].Hops) == 3 && len(sessionsOf(tl)[1].Hops) == 2
	})
	hops := sessionsOf(tl)[0].Hops
	if hops[0].Screen != strings.TrimPrefix(first, "CON ") || hops[2].Screen != strings.TrimPrefix(last, "END ") {
		t.Errorf("screens %q, %q; the phone showed %q, %q", hops[0].Screen, hops[2].Screen, first, last)
	}
	if hops[1].Asked != "main" || hops[1].Input != "1" || hops[2].Asked != "membership.ask" || hops[2].Input != "101203401" {
		t.Errorf("inputs: %+v", hops)
	}
	if !hops[2].Ended || hops[2].Outcome != "answered" || hops[2].Took <= 0 {
		t.Errorf("last hop: %+v", hops[2])
	}
	if pin := sessionsOf(tl)[1].Hops[1]; pin.Input != "[withheld: ••••]" || strings.Contains(describe(tl), "4321") {
		t.Errorf("a PIN at the main menu was kept: %+v", pin)
	}

	hasKinds := func(kinds ...string) func(gateway.Timeline) bool {
		return func(tl gateway.Timeline) bool {
			got := kindsOf(tl)
			for _, k := range kinds {
				if !slices.Contains(got, k) {
					return false
				}
			}
			return true
		}
	}
	for _, q := range []gateway.TraceQuery{
		{SessionID: "ATUid_trace_renew"},
		{CHFID: "604120019"},
		{Receipt: "RC-TRACE-1"},
	} {
		tl := search(q, hasKinds("hop", "renewal", "sms_out"))
		var renewal, confirmations []gateway.TraceLine
		for _, item := range tl.Items {
			if item.Line != nil && item.Line.Kind == "renewal" {
				renewal = append(renewal, *item.Line)
			}
			if item.Line != nil && item.Line.Kind == "sms_out" {
				confirmations = append(confirmations, *item.Line)
			}
		}
		if len(renewal) != 1 || renewal[0].Outcome != "renewed" || renewal[0].Receipt != "RC-TRACE-1" {
			t.Errorf("%+v: renewal %+v", q, renewal)
		}
		if len(confirmations) != 2 || confirmations[0].Link != renewal[0].Link || confirmations[1].Link != renewal[0].Link {
			t.Errorf("%+v: confirmations %+v not linked to %q", q, confirmations, renewal[0].Link)
		}
	}

	tl = search(gateway.TraceQuery{Phone: stranger}, hasKinds("sms_in", "sms_out"))
	for _, item := range tl.Items {
		if l := item.Line; l != nil && l.Kind == "sms_out" && (l.Link != "sms:africastalking:trace-sms-1" || l.Detail != "sms.reply") {
			t.Errorf("reply: %+v", l)
		}
	}
	if _, err := gateway.SearchTrace(context.Background(), g.store.Pool(), gateway.TraceQuery{}); err == nil {
		t.Error("a search for nothing was answered")
	}
}

// TestTraceOutageLosesLinesNotHops: with the trace's PostgreSQL unreachable,
// or its writer stuck, every hop is answered and the lost lines counted.
func TestTraceOutageLosesLinesNotHops(t *testing.T) {
	unreachable, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unreachable.Close)
	for _, tc := range []struct {
		name   string
		run    bool // the writer runs (and fails); otherwise it never takes a line
		buffer int
	}{
		{"PostgreSQL down", true, 0},
		{"writer stuck", false, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			trace := gateway.NewTracer(unreachable, gateway.TraceOptions{Buffer: tc.buffer, FlushInterval: 5 * time.Millisecond}, nil)
			g := newGateway(t, harness{trace: trace})
			ctx, stop := context.WithCancel(context.Background())
			done := make(chan struct{})
			if tc.run {
				go func() { trace.Run(ctx); close(done) }() //nolint:errcheck
			} else {
				close(done)
			}
			const hops = 20
			for i := range hops {
				session := "ATUid_outage_" + string(rune('a'+i))
				if got := mustEND(t, g.hop(session, headA, "1*101203401")); !strings.Contains(got, "Juma") {
					t.Fatalf("hop %d: %q", i, got)
				}
			}
			stop()
			<-done
			written, dropped := trace.Counts()
			if written != 0 || dropped < hops-uint64(tc.buffer) {
				t.Errorf("written %d, dropped %d of %d lines", written, dropped, hops)
			}
		})
	}
}

func TestWithheldInput(t *testing.T) {
	for _, tc := range []struct{ asked, next, input, want string }{
		{"main", "membership.ask", "1", "1"},
		{"main", "main", "1234", "[withheld: ••••]"},
		{"renew.confirm", "renew.confirm", "98765", "[withheld: •••••]"},
		{"renew.confirm", "main", "1", "1"},
		{"renew.amount", "renew.confirm", "37000", "37000"},
		{"renew.amount", "renew.amount", "1234", "[withheld: ••••]"},
		{"membership.ask", "membership.ask", "101203401", "101203401"},
		{"", "membership.ask", "1*101203401", "1*101203401"},
	} {
		if got := gateway.WithheldInput(tc.asked, tc.next, tc.input); got != tc.want {
			t.Errorf("%s→%s %q: %q, want %q", tc.asked, tc.next, tc.input, got, tc.want)
		}
	}
}

func sessionsOf(tl gateway.Timeline) []*gateway.Conversation {
	var out []*gateway.Conversation
	for _, item := range tl.Items {
		if item.Session != nil {
			out = append(out, item.Session)
		}
	}
	return out
}

func kindsOf(tl gateway.Timeline) []string {
	var out []string
	for _, item := range tl.Items {
		if item.Session != nil {
			out = append(out, "hop")
		} else {
			out = append(out, item.Line.Kind)
		}
	}
	return out
}

func describe(tl gateway.Timeline) string {
	var b strings.Builder
	for _, item := range tl.Items {
		if item.Session != nil {
			for _, h := range item.Session.Hops {
				b.WriteString(h.SessionID + " " + h.Asked + ":" + h.Input + " → " + h.Node + " " + h.Outcome + "\n")
			}
			continue
		}
		b.WriteString(item.Line.Kind + " " + item.Line.Phone + " " + item.Line.Outcome + " " + item.Line.Link + "\n")
	}
	return b.String()
}

// TestTraceWritesEveryFieldAsRecorded: lines of every kind go through the
// binary COPY stream and come back field for field; bytes PostgreSQL would
// refuse in text (not UTF-8, NUL) are replaced rather than losing the batch.
// A search by phone finds the session's first hop, and the next through it.
func TestTraceWritesEveryFieldAsRecorded(t *testing.T) {
	store := smsStore(t)
	trace := gateway.NewTracer(store.Pool(), gateway.TraceOptions{FlushInterval: 5 * time.Millisecond}, nil)
	lines := []gateway.TraceLine{
		{At: time.Now().Truncate(time.Microsecond), Kind: gateway.TraceHop, Phone: "0712 111 222", Provider: "hubtel",
			SessionID: "s-1", Node: "membership.ask", Input: "1", Screen: "Enter the number:\nÉcran ñ ✓",
			Outcome: "answered", Took: 1234567 * time.Microsecond},
		{At: time.Now().Truncate(time.Microsecond), Kind: gateway.TraceHop, Phone: "+255712111222", Provider: "hubtel",
			SessionID: "s-1", Node: "main", Asked: "membership.ask", Input: "\xff\x00bad", Screen: "bye", Ended: true,
			Outcome: "answered"},
		{At: time.Now().Truncate(time.Microsecond), Kind: gateway.TraceRenewal, Phone: "+255712345678",
			Provider: "africastalking", MessageID: "m-9", Link: "renewal:abc", CHFID: "604120019", Receipt: "RC-1",
			Outcome: "renewed", Detail: "sms, paid 37000"},
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { trace.Run(ctx); close(done) }() //nolint:errcheck
	for _, l := range lines {
		trace.Record(l)
	}
	deadline := time.Now().Add(10 * time.Second)
	for written, _ := trace.Counts(); written < uint64(len(lines)); written, _ = trace.Counts() {
		if time.Now().After(deadline) {
			t.Fatalf("written %d of %d lines", written, len(lines))
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	<-done

	found := map[string]gateway.TraceLine{}
	for _, q := range []gateway.TraceQuery{{Phone: "+255712111222"}, {Receipt: "RC-1"}} {
		q.Since = time.Now().Add(-time.Hour)
		tl, err := gateway.SearchTrace(context.Background(), store.Pool(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range tl.Items {
			if item.Session != nil {
				for _, h := range item.Session.Hops {
					found[h.Input] = h
				}
			} else {
				found[item.Line.Kind] = *item.Line
			}
		}
	}
	normalised, replaced := lines[0], lines[1]
	normalised.Phone, replaced.Input = "+255712111222", "\uFFFD\uFFFDbad"
	want := map[string]gateway.TraceLine{"1": normalised, replaced.Input: replaced, "renewal": lines[2]}
	for key, w := range want {
		got, ok := found[key]
		if !ok {
			t.Errorf("line %q not found; found %v", key, found)
			continue
		}
		if !got.At.Equal(w.At) {
			t.Errorf("%q: at %v, want %v", key, got.At, w.At)
		}
		got.At, w.At = time.Time{}, time.Time{}
		if got != w {
			t.Errorf("%q:\n got %+v\nwant %+v", key, got, w)
		}
	}
}
