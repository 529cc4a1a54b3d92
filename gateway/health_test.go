package gateway_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/openimis/imis-gateway/gateway"
	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/policystore/pgtest"
	"github.com/openimis/imis-gateway/sessions"
	"github.com/openimis/imis-gateway/sessions/redistest"
)

// healthGateway is a gateway whose PostgreSQL can be cut off, served on its
// public and admin handlers.
type healthGateway struct {
	public, admin *testGateway
	proxy         *tcpProxy
	database      string // its name
}

func newHealthGateway(t *testing.T, cfg gateway.Config) *healthGateway {
	t.Helper()
	proxy := newTCPProxy(t, pgtest.NewDatabase(t))
	store, err := policystore.Open(context.Background(), proxy.databaseURL, policystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	sess := redistest.NewStore(t, redistest.Client(t), sessions.Options{Prefix: redistest.Prefix(t)})
	srv := gateway.NewServer(gateway.Deps{
		Sessions: sess,
		Ready: []gateway.Checker{
			{Name: "postgres", Ping: store.Ping},
			{Name: "redis", Ping: sess.Ping},
		},
	}, cfg)
	serve := func(h http.Handler) *testGateway {
		ts := httptest.NewServer(h)
		t.Cleanup(ts.Close)
		return &testGateway{Server: ts, t: t}
	}
	u, err := url.Parse(proxy.databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	return &healthGateway{public: serve(srv), admin: serve(srv.Admin()), proxy: proxy, database: strings.TrimPrefix(u.Path, "/")}
}

// The public /readyz names the dependency that is down and nothing else:
// not the database's name, user or host, which PostgreSQL's error carries.
// The admin /readyz says why, for operators.
func TestReadyzNamesOnlyTheDependencyDown(t *testing.T) {
	g := newHealthGateway(t, gateway.Config{MetricsOnAdmin: true})
	for _, h := range []*testGateway{g.public, g.admin} {
		if r := h.get("/readyz"); r.status != http.StatusOK || r.body != `{"postgres":"ok","redis":"ok"}`+"\n" {
			t.Fatalf("readyz with everything up: %d %q", r.status, r.body)
		}
	}

	g.proxy.cut()
	r := g.public.get("/readyz")
	if r.status != http.StatusServiceUnavailable || r.body != `{"postgres":"unavailable","redis":"ok"}`+"\n" {
		t.Errorf("public readyz with PostgreSQL down: %d %q", r.status, r.body)
	}

	// What the public answer leaves out: the error names the database.
	r = g.admin.get("/readyz")
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, `"postgres":"unavailable: policystore: ping`) ||
		!strings.Contains(r.body, `"redis":"ok"`) || !strings.Contains(r.body, g.database) {
		t.Errorf("admin readyz with PostgreSQL down: %d %q", r.status, r.body)
	}
}

// With an admin listener, /metrics leaves the public one; the admin handler
// serves metrics and liveness. Without one, /metrics stays public.
func TestMetricsOnAdminOnly(t *testing.T) {
	g := newHealthGateway(t, gateway.Config{MetricsOnAdmin: true})
	if r := g.public.get("/metrics"); r.status != http.StatusNotFound || r.body != "" {
		t.Errorf("public /metrics with an admin listener: %d %q", r.status, r.body)
	}
	if r := g.admin.get("/metrics"); r.status != http.StatusOK || !strings.Contains(r.body, "imisgw_ussd_session_conflicts_total") {
		t.Errorf("admin /metrics: %d %q", r.status, r.body)
	}
	for _, h := range []*testGateway{g.public, g.admin} {
		if r := h.get("/healthz"); r.status != http.StatusOK {
			t.Errorf("healthz: %d %q", r.status, r.body)
		}
	}
	if r := g.admin.get("/ussd/africastalking/" + token); r.status != http.StatusNotFound {
		t.Errorf("the admin handler serves callbacks: %d", r.status)
	}

	g = newHealthGateway(t, gateway.Config{})
	if r := g.public.get("/metrics"); r.status != http.StatusOK || !strings.Contains(r.body, "imisgw_ussd_session_conflicts_total") {
		t.Errorf("public /metrics without an admin listener: %d %q", r.status, r.body)
	}
}
