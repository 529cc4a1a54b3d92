package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"gopkg.in/yaml.v3"

	"github.com/openimis/imis-gateway/gateway"
	"github.com/openimis/imis-gateway/providers/africastalking"
	"github.com/openimis/imis-gateway/providers/twilio"
)

// series names one series, or several when labels leave some out (their
// values are summed; a histogram counts its observations).
type series struct {
	name   string
	labels map[string]string
}

func (s series) String() string { return s.name + labelString(s.labels) }

func labelString(l map[string]string) string {
	var b strings.Builder
	for k, v := range l {
		b.WriteString(" " + k + "=" + v)
	}
	return "{" + strings.TrimSpace(b.String()) + "}"
}

// seriesValue sums the series of reg that match s.
func seriesValue(t *testing.T, reg prometheus.Gatherer, s series) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != s.name {
			continue
		}
		for _, m := range f.GetMetric() {
			if !labelsMatch(m.GetLabel(), s.labels) {
				continue
			}
			switch {
			case m.Counter != nil:
				sum += m.GetCounter().GetValue()
			case m.Gauge != nil:
				sum += m.GetGauge().GetValue()
			case m.Histogram != nil:
				sum += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum
}

func labelsMatch(got []*dto.LabelPair, want map[string]string) bool {
	n := 0
	for _, l := range got {
		if v, ok := want[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

// TestMetricsMove drives hops, SMS and delivery reports through the real
// server (PostgreSQL, Redis, the outbox sending to a fake Africa's Talking)
// and checks that each moves its series by exactly what it did, and the
// round-trip series by at least one.
func TestMetricsMove(t *testing.T) {
	g := newSMSGateway(t)
	at := map[string]string{"provider": africastalking.Name}
	with := func(l map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range l {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	type moved struct {
		series
		by      float64
		atLeast bool // the round trips: by is a floor
	}
	tests := []struct {
		name string
		do   func(t *testing.T)
		want []moved
	}{{
		name: "a session's first hop",
		do:   func(t *testing.T) { mustCON(t, g.hop("ATUid_m1", stranger, "")) },
		want: []moved{
			{series{"imisgw_ussd_hops_total", with(at, "node", "main", "outcome", "answered")}, 1, false},
			{series{"imisgw_ussd_hop_duration_seconds", with(at, "outcome", "answered")}, 1, false},
			{series{"imisgw_ussd_sessions_started_total", at}, 1, false},
			{series{"imisgw_ussd_sessions_ended_total", at}, 0, false},
			{series{"imisgw_redis_command_duration_seconds", nil}, 1, true},
			{series{"imisgw_postgres_statement_duration_seconds", nil}, 1, true},
		},
	}, {
		name: "a final screen",
		do: func(t *testing.T) {
			mustCON(t, g.hop("ATUid_m1", stranger, "1"))
			mustEND(t, g.hop("ATUid_m1", stranger, "1*48213"))
		},
		want: []moved{
			{series{"imisgw_ussd_hops_total", with(at, "outcome", "answered")}, 2, false},
			{series{"imisgw_ussd_sessions_started_total", at}, 0, false},
			{series{"imisgw_ussd_sessions_ended_total", with(at, "how", "completed")}, 1, false},
		},
	}, {
		name: "a retried hop",
		do:   func(t *testing.T) { mustEND(t, g.hop("ATUid_m1", stranger, "1*48213")) },
		want: []moved{
			{series{"imisgw_ussd_hops_total", with(at, "node", "", "outcome", "replayed")}, 1, false},
			{series{"imisgw_ussd_sessions_ended_total", at}, 0, false},
		},
	}, {
		name: "an SMS command answered and its reply sent",
		do: func(t *testing.T) {
			g.sms("m-help", stranger, "HELP")
			g.sent(stranger)
		},
		want: []moved{
			{series{"imisgw_sms_inbound_total", map[string]string{"command": "help", "outcome": "replied"}}, 1, false},
			{series{"imisgw_sms_outbound_total", with(at, "state", "sent")}, 1, false},
			{series{"imisgw_postgres_statement_duration_seconds", map[string]string{"statement": "insert"}}, 1, true},
		},
	}, {
		name: "an SMS from a short code",
		do: func(*testing.T) {
			g.sms("m-mpesa", "MPESA", "HELP")
			g.waitForInbound()
		},
		want: []moved{
			{series{"imisgw_sms_inbound_total", map[string]string{"command": "none", "outcome": "suppressed:not_mobile"}}, 1, false},
			{series{"imisgw_sms_suppressed_total", map[string]string{"reason": "not_mobile"}}, 1, false},
			{series{"imisgw_sms_outbound_total", nil}, 0, false},
		},
	}, {
		name: "a renewal refused by SMS",
		do: func(t *testing.T) {
			g.sms("m-renew", officerEO001, "RENEW 604120019 9999999999999999 RC-M1")
			g.waitForInbound()
		},
		want: []moved{
			{series{"imisgw_renewals_total", map[string]string{"channel": "sms", "outcome": "refused"}}, 1, false},
			{series{"imisgw_renewal_refusals_total", map[string]string{"channel": "sms", "reason": "amount_too_high"}}, 1, false},
			{series{"imisgw_sms_inbound_total", map[string]string{"command": "renew"}}, 1, false},
		},
	}, {
		name: "a delivery report",
		do: func(t *testing.T) {
			var id string
			if err := g.store.Pool().QueryRow(context.Background(), `SELECT provider_message_id FROM imis_gateway.outbox
				WHERE recipient = $1 AND status = 'sent' LIMIT 1`, stranger).Scan(&id); err != nil {
				t.Fatal(err)
			}
			if r := g.post("/sms/africastalking/"+token+"/delivery", "application/x-www-form-urlencoded",
				smsDLRForm(id, "Success", "")); r.status != 200 {
				t.Fatalf("delivery report: %d", r.status)
			}
		},
		want: []moved{
			{series{"imisgw_sms_delivery_reports_total", with(at, "state", "delivered")}, 1, false},
		},
	}, {
		name: "an SMS queued for a provider that cannot send",
		do:   func(t *testing.T) { smsEnqueue(t, g.store, twilio.Name, stranger, "waiting") },
		want: []moved{
			{series{"imisgw_outbox_queued", map[string]string{"provider": twilio.Name}}, 1, false},
			{series{"imisgw_outbox_stats_up", nil}, 0, false},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := make([]float64, len(tc.want))
			for i, w := range tc.want {
				before[i] = seriesValue(t, g.registry, w.series)
			}
			tc.do(t)
			for i, w := range tc.want {
				got := seriesValue(t, g.registry, w.series) - before[i]
				if got != w.by && !(w.atLeast && got >= w.by) {
					t.Errorf("%s moved by %v, want %v", w.series, got, w.by)
				}
			}
		})
	}
	if up := seriesValue(t, g.registry, series{"imisgw_outbox_stats_up", nil}); up != 1 {
		t.Errorf("imisgw_outbox_stats_up = %v, want 1", up)
	}

	// What serve adds to the same registry: the look-up limiter's counter
	// and the dependencies' pings.
	gateway.WatchLookups(nil, g.registry, nil)
	deps := g.deps
	deps.Ready = []gateway.Checker{{Name: "postgres", Ping: g.store.Ping}}
	gateway.NewServer(deps, gateway.Config{})
	wantDeployNamesServed(t, g.registry)
}

// deployFiles name metrics in their queries.
var deployFiles = []string{"../deploy/prometheus/alerts.yml", "../deploy/grafana/imis-gateway.json"}

var metricName = regexp.MustCompile(`\b(?:imisgw|go|process)_[a-z0-9_]+`)

// wantDeployNamesServed checks that every metric the alerts and the
// dashboard query is served by reg (a histogram by its _bucket, _sum and
// _count series).
func wantDeployNamesServed(t *testing.T, reg prometheus.Gatherer) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, f := range families {
		served[f.GetName()] = true
		if f.GetType() == dto.MetricType_HISTOGRAM || f.GetType() == dto.MetricType_SUMMARY {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				served[f.GetName()+suffix] = true
			}
		}
	}
	for _, file := range deployFiles {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, q := range queriesIn(t, file, b) {
			for _, name := range metricName.FindAllString(q, -1) {
				names[name] = true
			}
		}
		if len(names) == 0 {
			t.Errorf("%s queries no metric", file)
		}
		for name := range names {
			if !served[name] {
				t.Errorf("%s queries %s, which /metrics does not serve", file, name)
			}
		}
	}
}

// queriesIn returns the PromQL of an alert file (expr) or a dashboard
// (every target's expr and the templating queries).
func queriesIn(t *testing.T, file string, b []byte) []string {
	t.Helper()
	var queries []string
	if strings.HasSuffix(file, ".json") {
		var dash struct {
			Panels []struct {
				Targets []struct{ Expr string } `json:"targets"`
			} `json:"panels"`
			Templating struct {
				List []struct{ Definition string } `json:"list"`
			} `json:"templating"`
		}
		if err := json.Unmarshal(b, &dash); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, p := range dash.Panels {
			for _, target := range p.Targets {
				queries = append(queries, target.Expr)
			}
		}
		for _, v := range dash.Templating.List {
			queries = append(queries, v.Definition)
		}
		return queries
	}
	var rules struct {
		Groups []struct {
			Rules []struct{ Expr string } `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			queries = append(queries, r.Expr)
		}
	}
	return queries
}

// TestMetricsServed: /metrics has Go's runtime and process collectors, and
// imisgw_dependency_up says which dependency answers.
func TestMetricsServed(t *testing.T) {
	g := newSMSGateway(t)
	deps := g.deps
	deps.Registry, deps.Metrics = prometheus.NewRegistry(), nil
	deps.Ready = []gateway.Checker{
		{Name: "postgres", Ping: g.store.Ping},
		{Name: "redis", Ping: func(context.Context) error { return errors.New("connection refused") }},
	}
	srv := httptest.NewServer(gateway.NewServer(deps, gateway.Config{Providers: allProviders()}))
	t.Cleanup(srv.Close)
	for _, want := range []series{
		{"imisgw_dependency_up", map[string]string{"dependency": "postgres"}},
		{"imisgw_dependency_up", map[string]string{"dependency": "redis"}},
	} {
		up := want.labels["dependency"] == "postgres"
		if got := seriesValue(t, deps.Registry, want); got != map[bool]float64{true: 1, false: 0}[up] {
			t.Errorf("%s = %v", want, got)
		}
	}
	body := (&testGateway{Server: srv, t: t}).get("/metrics").body
	for _, name := range []string{"go_goroutines", "go_gc_duration_seconds", "process_cpu_seconds_total",
		"process_resident_memory_bytes", "imisgw_ussd_hop_duration_seconds_bucket", "imisgw_dependency_up"} {
		if !strings.Contains(body, "\n"+name) {
			t.Errorf("/metrics has no %s", name)
		}
	}
}
