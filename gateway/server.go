// Package gateway is the HTTP side of imis-gateway: routes, middleware, the
// USSD hop pipeline, health and metrics. It wires the aggregator packages
// (providers/...) to the session store, the menus and the policy store.
package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/openimis/imis-gateway/menus"
	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/sessions"
)

// Config holds the server's tunables; zero values take the defaults.
type Config struct {
	// HopDeadline bounds every USSD hop, whatever fails below
	// (docs/providers.md, "Timeouts": aggregators give up after about 10 s).
	HopDeadline time.Duration
	// BodyLimit caps request bodies; larger ones get 413.
	BodyLimit int64
	// Providers configures each enabled provider by name (providers/registry);
	// a provider absent or without a token has no routes.
	Providers map[string]ProviderConfig
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed when checking allow-lists.
	TrustedProxies []netip.Prefix
	// Simulator serves the browser phone simulator on /simulator: a phone
	// that speaks the wire of each enabled provider. SimulatorDev is for
	// development only: the page is given the callback tokens, a language
	// picker and an SMS pane, whose endpoints change any phone's language
	// and show any phone's SMS.
	Simulator    bool
	SimulatorDev bool
	// MetricsOnAdmin serves /metrics on the Admin handler only (ADMIN_ADDR),
	// so that the public listener does not show them; otherwise the public
	// handler serves them too.
	MetricsOnAdmin bool
	// Support turns the support page on, on the Admin handler only.
	Support SupportConfig
}

// ProviderConfig is one aggregator's settings.
type ProviderConfig struct {
	// Token is the secret path segment of its callback URLs, compared in
	// constant time; a wrong one gets 404.
	Token string
	// AllowFrom, when set, restricts its callbacks to these client addresses.
	AllowFrom []netip.Prefix
	// ServiceCode is the USSD code the aggregator serves, for wires that do not
	// carry it (Nalo, Arkesel, Beem): it finds pre-dialled routes.
	ServiceCode string
	// Budget is the longest screen the aggregator carries; zero takes the
	// menus' default (160 GSM-7 / 70 UCS-2 characters).
	Budget menus.Budget
	// Signature, when set, authenticates every callback beyond the token
	// (Twilio's signed webhooks).
	Signature *providers.Signature
}

const (
	defaultHopDeadline = 5 * time.Second
	defaultBodyLimit   = 64 << 10
)

// Checker is a dependency /readyz reports on.
type Checker struct {
	Name string
	Ping func(context.Context) error
}

// Deps are the server's collaborators, built and owned by the caller.
type Deps struct {
	Logger   *slog.Logger
	Sessions *sessions.Store
	Menus    *menus.Engine
	Ready    []Checker
	// Registry receives the gateway's metrics and is served on /metrics
	// (see Config.MetricsOnAdmin); nil makes a private registry.
	Registry *prometheus.Registry
	// Metrics are the gateway's metrics, made with NewMetrics(Registry) and
	// shared with the workers; nil makes them here.
	Metrics *Metrics
	// SMS, when set, serves the SMS callbacks of the providers that have a
	// token: inbound messages are recorded for the inbound processor, delivery
	// reports applied to the outbox.
	SMS *SMSDeps
	// Trace, when set, records every hop and SMS callback in the
	// conversation trace.
	Trace *Tracer
}

// SMSDeps are what the SMS callbacks need.
type SMSDeps struct {
	Store interface {
		InboundStore
		DeliveryStore
	}
	// Wake tells the inbound processor a new message is waiting.
	Wake func()
	// Outbox, when set, shows the simulator's SMS pane (Config.SimulatorDev)
	// the replies queued for its phone.
	Outbox SimulatorOutbox
}

// Server is the gateway's public http.Handler; Admin is its operators'.
type Server struct {
	http.Handler
	admin http.Handler
	log   *slog.Logger
	cfg   Config
	ussd  *ussdPipeline
	ready []Checker
	sms   *SMSDeps
	// metrics count the delivery reports (the hops' are in ussd)
	metrics *Metrics
}

// Admin is the handler for operators, to serve on a private address
// (ADMIN_ADDR), as Prometheus exporters do: /metrics, /healthz, and a
// /readyz that says why a dependency is unavailable.
func (s *Server) Admin() http.Handler { return s.admin }

// NewServer builds the router with every route of README.md, "Endpoints" that the
// configured providers need.
func NewServer(deps Deps, cfg Config) *Server {
	if cfg.HopDeadline <= 0 {
		cfg.HopDeadline = defaultHopDeadline
	}
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = defaultBodyLimit
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	if deps.Metrics == nil {
		deps.Metrics = NewMetrics(deps.Registry)
	}
	deps.Metrics.watchDependencies(deps.Ready)
	for name := range cfg.Providers {
		deps.Metrics.series(name) // shown at 0 from the start
	}
	if deps.SMS != nil && deps.Trace != nil {
		traced := *deps.SMS
		traced.Store = tracedSMSStore{deps.SMS.Store, deps.Trace}
		deps.SMS = &traced
	}
	s := &Server{
		log:     deps.Logger,
		cfg:     cfg,
		ready:   deps.Ready,
		sms:     deps.SMS,
		metrics: deps.Metrics,
		ussd: &ussdPipeline{
			sessions: deps.Sessions,
			menus:    deps.Menus,
			deadline: cfg.HopDeadline,
			cfg:      cfg.Providers,
			log:      deps.Logger,
			metrics:  deps.Metrics,
			trace:    deps.Trace,
		},
	}
	metrics := promhttp.HandlerFor(deps.Registry, promhttp.HandlerOpts{})
	s.Handler = s.routes(metrics)
	s.admin = s.adminRoutes(metrics)
	return s
}
