package gateway_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/openimis/imis-gateway/gateway"
	"github.com/openimis/imis-gateway/menus"
	"github.com/openimis/imis-gateway/sessions"
	"github.com/openimis/imis-gateway/sessions/redistest"
)

// Demo phones (policystore/demo): family A (101203401, village DOD01011)
// and the officers.
const (
	headA     = "+255712111222" // Juma, head of family A
	spouseA   = "+255765432109" // Rehema, his wife, a phone of her own
	officerA  = "+255712345678" // EO001: her villages include DOD01011
	officerKo = "+255767890123" // EO003: Kolo (DOD02011) only
)

const claimsPrivate = "Claims of 101203401 are shown only on the phone registered for that insurance number."

// Claims are health data: only the insured's phones and the officers of the
// family's area see them, by USSD and SMS; anyone else is told where they
// are shown, and gets nothing else.
func TestClaimsOnlyToTheInsured(t *testing.T) {
	g := newSMSGateway(t)
	session := 0
	dial := func(phone, text string) reply {
		session++
		return g.hop(fmt.Sprintf("ATUid_claims_%d", session), phone, text)
	}
	for _, phone := range []string{stranger, spouseA, officerKo} {
		if got := mustEND(t, dial(phone, "2*101203401")); got != claimsPrivate {
			t.Errorf("%s, pre-dialled: %q", phone, got)
		}
		// Typed in a session, then 98 as if a list were shown.
		id := fmt.Sprintf("ATUid_claims_walk_%s", phone)
		mustCON(t, g.hop(id, phone, ""))
		mustCON(t, g.hop(id, phone, "2"))
		if got := mustEND(t, g.hop(id, phone, "2*101203401")); got != claimsPrivate {
			t.Errorf("%s, typed: %q", phone, got)
		}
	}
	for _, phone := range []string{headA, officerA} {
		first := mustCON(t, dial(phone, "2*101203401"))
		if !strings.HasPrefix(first, "Latest 5 claims:\nMKH00342") || !strings.HasSuffix(first, "98 More 0 Back 00 Menu") {
			t.Errorf("%s: %q", phone, first)
		}
	}
	// The stranger's SMS gets the same answer; the head's gets the claims.
	g.sms("privacy-1", stranger, "CLAIMS 101203401")
	g.sms("privacy-2", headA, "CLAIMS 101203401")
	sent := g.sent(stranger, headA)
	if got := sent[stranger]; len(got) != 1 || got[0] != claimsPrivate {
		t.Errorf("stranger's SMS: %q", got)
	}
	if got := sent[headA]; len(got) != 1 || !strings.Contains(got[0], "MKH00342") {
		t.Errorf("head's SMS: %q", got)
	}

	// An implementer may widen it, knowingly.
	open := newSMSGateway(t, func(o *menus.Options) { o.ClaimsVisibleTo = menus.ClaimsToAnyone })
	if got := mustCON(t, open.hop("ATUid_claims_open", stranger, "2*101203401")); !strings.HasPrefix(got, "Latest 5 claims:") {
		t.Errorf("claims to anyone: %q", got)
	}
}

// One phone's look-ups of numbers outside its family are limited across
// USSD and SMS, sessions and instances; its own family never is, and
// another phone has its own limit.
func TestLookupLimitAcrossInstances(t *testing.T) {
	limits := sessions.LookupLimits{Public: []sessions.Rate{{N: 10, Per: time.Hour}, {N: 30, Per: 24 * time.Hour}}}
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	t.Cleanup(func() { redistest.DeleteKeys(rdb, prefix+":*:lookups:*") }) //nolint:errcheck // best effort
	registry := prometheus.NewRegistry()
	watched := gateway.WatchLookups(sessions.NewLookupLimiter(rdb, limits, prefix), registry, slog.New(slog.DiscardHandler))
	g := newSMSGateway(t, func(o *menus.Options) { o.Lookups = watched })

	// A second instance: its own engine and limiter, the same Redis.
	options := g.options
	options.Lookups = sessions.NewLookupLimiter(redistest.Client(t), limits, prefix)
	deps := g.deps
	deps.Menus = menus.New(g.store, options)
	deps.Sessions = sessions.New(redistest.Client(t), sessions.Options{Prefix: g.prefix})
	deps.Registry = prometheus.NewRegistry()
	other := &testGateway{Server: g.serve(deps), t: t, store: g.store, prefix: g.prefix}

	// Ten look-ups by one stranger: in one session (back, another number),
	// pre-dialled on both instances, by SMS; known numbers and unknown ones.
	mustCON(t, g.hop("ATUid_enum_1", stranger, ""))
	mustCON(t, g.hop("ATUid_enum_1", stranger, "1"))
	mustCON(t, g.hop("ATUid_enum_1", stranger, "1*999999991"))
	mustCON(t, g.hop("ATUid_enum_1", stranger, "1*999999991*999999992"))
	mustEND(t, g.hop("ATUid_enum_1", stranger, "1*999999991*999999992*101203401"))
	for i, number := range []string{"20461301", "310482215", "402771106", "503910017", "604120051", "806245517"} {
		instance := []*testGateway{g.testGateway, other}[i%2]
		if got := mustEND(t, instance.hop(fmt.Sprintf("ATUid_enum_r%d", i), stranger, "1*"+number)); !strings.Contains(got, number) {
			t.Fatalf("look-up %s: %q", number, got)
		}
	}
	g.sms("enum-sms-1", stranger, "CHECK 604120019")
	if got := g.sent(stranger)[stranger]; !strings.Contains(got[0], "604120019") {
		t.Fatalf("CHECK by SMS: %q", got)
	}

	// The eleventh is refused, on either instance and by SMS: when to try
	// again, and no data.
	const over = "Too many numbers checked from this phone. Please try again in 6 minutes."
	for i, instance := range []*testGateway{g.testGateway, other} {
		if got := mustEND(t, instance.hop(fmt.Sprintf("ATUid_enum_over%d", i), stranger, "1*705338812")); got != over {
			t.Errorf("instance %d: %q", i, got)
		}
		if got := mustEND(t, instance.hop(fmt.Sprintf("ATUid_enum_unknown%d", i), stranger, "1*999999993")); got != over {
			t.Errorf("instance %d, unknown number: %q", i, got)
		}
	}
	g.sms("enum-sms-2", stranger, "CHECK 705338812")
	g.sms("enum-sms-3", stranger, "CLAIMS 705338812")
	waitFor(t, func() bool { return len(g.sent(stranger)[stranger]) == 3 })
	for _, got := range g.sent(stranger)[stranger][1:] {
		if got != over {
			t.Errorf("SMS over the limit: %q", got)
		}
	}
	// The first instance's engine answered two of the hops and the SMS.
	if got := counter(t, registry, "imisgw_lookups_refused_total", "public"); got != 4 {
		t.Errorf("%v refusals counted on the first instance, want 4", got)
	}

	// Another phone is untouched; a family's own numbers are never limited.
	if got := mustEND(t, other.hop("ATUid_enum_other", "+255700000002", "1*705338812")); !strings.Contains(got, "705338812") {
		t.Errorf("another phone: %q", got)
	}
	for i := range 15 {
		number := []string{"101203401", "101203402", "101203404"}[i%3]
		if got := mustEND(t, g.hop(fmt.Sprintf("ATUid_own_%d", i), spouseA, "1*"+number)); !strings.Contains(got, number) ||
			strings.Contains(got, "Too many") {
			t.Fatalf("own family, look-up %d: %q", i+1, got)
		}
	}
}

// counter reads a counter of reg by its one label's value.
func counter(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if m.GetLabel()[0].GetValue() == label {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
