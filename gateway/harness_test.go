package gateway_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/openimis/imis-gateway/gateway"
	"github.com/openimis/imis-gateway/menus"
	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/policystore/demo"
	"github.com/openimis/imis-gateway/policystore/pgtest"
	"github.com/openimis/imis-gateway/providers/registry"
	"github.com/openimis/imis-gateway/sessions"
	"github.com/openimis/imis-gateway/sessions/redistest"
)

const token = "s3cret-token"

// testGateway is a gateway on real PostgreSQL (demo data) and real Redis,
// served over real HTTP.
type testGateway struct {
	*httptest.Server
	t           testing.TB
	store       *policystore.Store
	sessions    *sessions.Store
	databaseURL string
	prefix      string // of the session keys
}

type harness struct {
	databaseURL string                // default: a fresh seeded database
	redis       redis.UniversalClient // default: the project's test Redis
	deadline    time.Duration
	source      menus.CoverageSource // default: the policy store
	// prefix of the session keys; default: unique to the test. Two gateways
	// with one prefix (and one database) are two instances of one deployment.
	prefix string
	trace  *gateway.Tracer // default: none
	// resumeWindow is sessions.Options.ResumeWindow: zero takes the
	// default, negative turns resuming off.
	resumeWindow time.Duration
	// renewals offers "Renew policy" to the demo's officers.
	renewals bool
}

func newGateway(t testing.TB, h harness) *testGateway {
	t.Helper()
	ctx := context.Background()
	if h.databaseURL == "" {
		h.databaseURL = seededDatabase(t)
	}
	store, err := policystore.Open(ctx, h.databaseURL, policystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	if h.redis == nil {
		h.redis = redistest.Client(t)
	}
	if h.prefix == "" {
		h.prefix = redistest.Prefix(t)
	}
	sess := redistest.NewStore(t, h.redis, sessions.Options{Prefix: h.prefix, ResumeWindow: h.resumeWindow})
	if h.source == nil {
		h.source = store
	}
	options := menus.Options{
		CHFIDMaxLen: store.Columns().CHFIDMaxLen,
		Claims:      store,
		Languages:   store,
	}
	if h.renewals {
		options.Officers, options.Renewals = store, store
	}
	engine := menus.New(h.source, options)
	srv := gateway.NewServer(gateway.Deps{
		Logger:   slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Sessions: sess,
		Menus:    engine,
		Ready: []gateway.Checker{
			{Name: "postgres", Ping: store.Ping},
			{Name: "redis", Ping: sess.Ping},
		},
		Trace: h.trace,
	}, gateway.Config{HopDeadline: h.deadline, Providers: allProviders()})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &testGateway{Server: ts, t: t, store: store, sessions: sess, databaseURL: h.databaseURL, prefix: h.prefix}
}

func seededDatabase(t testing.TB) string {
	t.Helper()
	dbURL := pgtest.NewDatabase(t)
	store, err := policystore.Open(context.Background(), dbURL, policystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := demo.Seed(context.Background(), store.Pool(), time.Now().UTC(), false); err != nil {
		t.Fatal(err)
	}
	return dbURL
}

// reply is what the gateway answered to one request.
type reply struct {
	status      int
	contentType string
	body        string
}

// hop posts one Africa's Talking USSD hop.
func (g *testGateway) hop(session, phone, text string) reply {
	g.t.Helper()
	form := url.Values{
		"sessionId":   {session},
		"serviceCode": {"*384*1234#"},
		"phoneNumber": {phone},
		"networkCode": {"64004"},
		"text":        {text},
	}
	return g.post("/ussd/africastalking/"+token, "application/x-www-form-urlencoded", form.Encode())
}

func (g *testGateway) post(path, contentType, body string) reply {
	g.t.Helper()
	resp, err := http.Post(g.URL+path, contentType, strings.NewReader(body))
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		g.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: string(b)}
}

func (g *testGateway) get(path string) reply {
	g.t.Helper()
	resp, err := http.Get(g.URL + path)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: string(b)}
}

// mustCON and mustEND check a well-formed AT reply and return its text.
func mustCON(t *testing.T, r reply) string { t.Helper(); return mustPrefix(t, r, "CON ") }
func mustEND(t *testing.T, r reply) string { t.Helper(); return mustPrefix(t, r, "END ") }

func mustPrefix(t *testing.T, r reply, prefix string) string {
	t.Helper()
	if r.status != http.StatusOK || !strings.HasPrefix(r.body, prefix) || !strings.HasPrefix(r.contentType, "text/plain") {
		t.Fatalf("want 200 text/plain %q..., got %d %q %q", prefix, r.status, r.contentType, r.body)
	}
	return strings.TrimPrefix(r.body, prefix)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// serveHop runs one hop through the server in-process, without the network
// (for benchmarks).
func (g *testGateway) serveHop(session, text string) int {
	form := url.Values{
		"sessionId":   {session},
		"serviceCode": {"*384*1234#"},
		"phoneNumber": {stranger},
		"text":        {text},
	}
	r := httptest.NewRequest(http.MethodPost, "/ussd/africastalking/"+token, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	g.Config.Handler.ServeHTTP(w, r)
	return w.Code
}

// allProviders enables every aggregator with the test token; the wires
// without a service code get the demo's.
func allProviders() map[string]gateway.ProviderConfig {
	cfg := map[string]gateway.ProviderConfig{}
	for _, name := range registry.Names(registry.USSD()) {
		cfg[name] = gateway.ProviderConfig{Token: token, ServiceCode: "*384*1234#"}
	}
	return cfg
}
