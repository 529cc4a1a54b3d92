package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/openimis/imis-gateway/gateway"
	"github.com/openimis/imis-gateway/menus"
	"github.com/openimis/imis-gateway/migrations"
	"github.com/openimis/imis-gateway/openimis"
	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/registry"
	"github.com/openimis/imis-gateway/sessions"
)

// serve's garbage collector settings unless GOGC or GOMEMLIMIT are set:
// collect at 5× the live heap, but keep the Go heap under 64 MiB.
const (
	defaultGOGC       = 400
	defaultGOMEMLIMIT = 64 << 20
)

// devToken is every provider's callback token in --dev mode when its
// <PREFIX>CALLBACK_TOKEN is unset, so the simulator and the curl line just
// work.
const devToken = "dev"

// serveEnv is what serve --help lists. The providers' variables come from
// the registry: those every USSD provider has (ussdEnv), and each provider's
// own (providerEnv).
var serveEnv = slices.Concat([][2]string{
	{"DATABASE_URL", "PostgreSQL URL of the openIMIS database (required)"},
	{"REDIS_URL", "Redis URL: redis://, rediss://, cluster and sentinel forms in README (required)"},
	{"LISTEN_ADDR", "HTTP listen address (default :8080)"},
}, ussdEnv(), [][2]string{
	{"TRUSTED_PROXIES", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed"},
	{"CLAIMS_VISIBLE_TO", "who sees an insuree's claims: insured (the insuree's and the head's phones, officers of the family's area), family, officers or anyone (default insured)"},
	{"LOOKUP_LIMIT", "look-ups of insurance numbers outside the caller's own family, per phone, e.g. 10/h,30/d (default; off for none)"},
	{"OFFICER_LOOKUP_LIMIT", "the same for a registered enrolment officer's phone, outside its area (default 100/h,500/d)"},
	{"DEFAULT_LANGUAGE", "en, fr, sw or ne (default en)"},
	{"PHONE_REGION", "ISO country for local phone numbers (default TZ)"},
	{"TIME_ZONE", "the scheme's time zone, deciding \"today\" for coverage (default UTC)"},
	{"HOP_DEADLINE", "deadline of one USSD hop (default 5s)"},
	{"SESSION_TTL", "USSD session lifetime after its last hop (default 5m)"},
	{"SESSION_CACHE", "sessions remembered in memory so that their next hop costs one Redis round trip (default 20000; 0 turns it off)"},
	{"SESSION_CACHE_MB", "memory those remembered sessions may take, in MiB, whichever of the two limits comes first (default 16)"},
	{"RESUME_WINDOW", "how long after its last hop a dropped USSD session is offered to resume on the same phone's next dial (default 3m; 0 turns it off)"},
	{"LOG_LEVEL", "debug, info, warn or error (default info)"},
	{"LOG_FORMAT", "json or text (default json; text with --dev)"},
	{"CURRENCY", "currency written with amounts (default TZS)"},
	{"MESSAGES_DIR", "directory of <lang>.json files overriding any screen or SMS text (see README)"},
	{"TRANSLITERATE", "languages whose accents are dropped to stay in GSM-7, comma-separated (default fr; \"none\" for none)"},
}, providerEnv(), [][2]string{
	{"SMS_PROVIDER", "the provider that sends the confirmation SMS of USSD renewals: " + strings.Join(registry.Names(smsProviders()), " or ") +
		" (default: the first one whose sending is configured, else the first)"},
	{"GATEWAY_AUDIT_USER_ID", "\"AuditUserID\" written on openIMIS rows: a tblUsers UserID created for the gateway (default -1)"},
	{"SMS_REPEAT_WINDOW", "identical SMS from one phone within this window get one reply (default 10m; 0 turns it off)"},
	{"SMS_REPLY_BUDGET", "SMS replies a phone gets per hour; later messages go unanswered (default 20; 0 turns it off)"},
	{"SMS_OFFICER_REPLY_BUDGET", "the same for an enrolment officer's phone (default 100; 0 turns it off)"},
	{"RENEWAL_MAX_OVERPAYMENT", "how much more than the amount due a renewal may be paid, in currency units such as 500 or 500.50 (default 0: any amount above the amount due is refused)"},
	{"REMINDERS", "on or off: the daily renewal reminders by SMS to family heads (default on; see README)"},
	{"REMINDER_AT", "when the daily reminders job runs, in TIME_ZONE (default 09:00)"},
	{"REMINDER_WINDOW", "the part of the day, in TIME_ZONE, in which the scheduled job may queue reminders (default 08:00-20:00)"},
	{"REMINDER_DAYS", "days before expiry a policy is due for its reminder (default: core_ModuleConfiguration's policy_renewal_interval, else tblIMISDefaults.PolicyRenewalInterval, else 14)"},
	{"REMINDER_WITHOUT_CONSENT_ROW", "send or skip: reminders to families without a current tblFamilySMS row (default send)"},
	{"REMINDER_OFFICER_DIGEST", "on or off: each officer's daily SMS listing the families due in the officer's area (default off)"},
	{"SIMULATOR", "\"on\" serves the browser phone simulator on /simulator outside --dev too"},
	{"ADMIN_ADDR", "if set, serve /metrics, /healthz and a detailed /readyz on this private address (e.g. 127.0.0.1:9090), and /metrics no longer on the public one"},
	{"TRACE_RETENTION", "days the conversation trace (hops, SMS, renewals, for the support page) is kept, e.g. 30d (default 30d; 0 records nothing and drops what was recorded)"},
	{"SUPPORT_TOKEN", "if set, serve the support page on ADMIN_ADDR/support to whoever gives this secret as password (basic auth) or bearer token; unset, the page is off"},
	{"PPROF_ADDR", "if set, serve Go's net/http/pprof profiles on this address (e.g. 127.0.0.1:6060)"},
	{"GOGC, GOMEMLIMIT", "Go's garbage collector settings; serve uses GOGC=400 and GOMEMLIMIT=64MiB unless set"},
})

// ussdEnv is the help of the variables every USSD provider has, spelled out
// for the default provider and listed by prefix for the others.
func ussdEnv() [][2]string {
	ussd := registry.USSD()
	first := registry.Default()
	var others, needCode []string
	for _, p := range ussd {
		if p.Name != first.Name {
			others = append(others, p.EnvPrefix)
		}
		if p.USSD.NeedsServiceCode {
			needCode = append(needCode, p.EnvPrefix)
		}
	}
	return [][2]string{
		{"USSD_PROVIDERS", "aggregators to serve: " + strings.Join(registry.Names(ussd), ", ") + " (default " + first.Name + ")"},
		{first.EnvPrefix + "CALLBACK_TOKEN", "secret path segment of " + first.Title + " callbacks (required unless --dev)"},
		{"<NAME>_CALLBACK_TOKEN", "the same for each other provider: " + strings.Join(others, ", ") + " (required unless --dev)"},
		{"<NAME>_SERVICE_CODE", "the USSD code a provider serves, for wires that do not send it (" + strings.Join(needCode, ", ") + ")"},
		{"<NAME>_ALLOW_FROM", "optional comma-separated CIDR allow-list of a provider's callers (" + first.EnvPrefix + "ALLOW_FROM, ...)"},
	}
}

// providerEnv is the help of each provider's own variables, with the screen
// budgets between the USSD providers' and the others', where --help has
// always listed them.
func providerEnv() [][2]string {
	var env [][2]string
	var budgets []string
	for _, p := range registry.USSD() {
		if p.SMS != nil {
			env = append(env, p.SMS.Help...)
		}
		if p.USSD.Budget != (providers.Budget{}) {
			budgets = append(budgets, p.EnvPrefix)
		}
	}
	env = append(env, [2]string{"<NAME>_SCREEN_BUDGET",
		"longest screen of a provider as GSM7/UCS2 characters, e.g. 120/70 (" + strings.Join(budgets, ", ") + " default)"})
	for _, p := range registry.All() {
		if p.USSD == nil && p.SMS != nil {
			env = append(env, p.SMS.Help...)
		}
	}
	return env
}

type serveConfig struct {
	databaseURL, redisURL, listen string
	adminAddr                     string
	traceRetentionDays            int // 0: no trace
	supportToken                  string
	providers                     map[string]gateway.ProviderConfig
	senders                       map[string]gateway.Sender
	sendWarnings                  []string // said once the logger is up
	trustedProxies                []netip.Prefix
	lang, region, currency        string
	messagesDir                   string
	transliterate                 map[string]bool
	auditUserID                   int
	claimsVisibleTo               menus.ClaimsVisibility
	lookups                       sessions.LookupLimits
	maxOverpayment                openimis.Money
	location                      *time.Location
	hopDeadline, sessionTTL       time.Duration
	resumeWindow                  time.Duration // sessions.Options: negative is off
	sessionCache                  int
	smsLimits                     gateway.SMSOptions // RepeatWindow and the reply budgets
	smsProvider                   string             // sends USSD renewals' confirmations, and reminders
	reminders                     gateway.ReminderOptions
	remindersOn                   bool
	sessionCacheBytes             int64
	logLevel                      slog.Level
	logFormat                     string
	dev                           bool
}

func serve(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "serve", "Serve the USSD and SMS webhooks of the configured aggregators.", serveEnv)
	dev := fs.Bool("dev", false, "development mode: callback token \""+devToken+"\" when none is set, text logs")
	listen := fs.String("listen", "", "listen address (overrides LISTEN_ADDR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadServeConfig(env.getenv, *dev, *listen)
	if err != nil {
		return err
	}
	log := newLogger(env, cfg)
	if env.getenv("GOGC") == "" {
		// A hop's garbage dies young and the live heap is small (sessions, pools,
		// catalogs): collecting at 5× the live heap instead of Go's 2× spends a
		// quarter of the CPU on marking for some tens of MB.
		debug.SetGCPercent(defaultGOGC)
	}
	if env.getenv("GOMEMLIMIT") == "" {
		// With GOGC=400 alone a live heap of ~30 MB under load let the
		// process grow to ~190 MB; the limit makes the collector work
		// harder only when the heap nears it.
		debug.SetMemoryLimit(defaultGOMEMLIMIT)
	}

	metricsRegistry := prometheus.NewRegistry()
	metrics := gateway.NewMetrics(metricsRegistry)
	store, err := policystore.Open(ctx, cfg.databaseURL, policystore.Options{Tracer: metrics.PostgresTracer()})
	if err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	defer store.Close()
	if err := requireMigrated(ctx, cfg.databaseURL); err != nil {
		return err
	}
	sessions.SetLogger(log)
	rdb, err := sessions.NewClient(cfg.redisURL)
	if err != nil {
		return fmt.Errorf("REDIS_URL: %w", err)
	}
	defer rdb.Close()
	rdb.AddHook(metrics.RedisHook())
	sessionStore := sessions.New(rdb, sessions.Options{TTL: cfg.sessionTTL, LockTTL: cfg.hopDeadline + 5*time.Second,
		Recent: cfg.sessionCache, RecentBytes: cfg.sessionCacheBytes, ResumeWindow: cfg.resumeWindow})
	if err := sessionStore.Ping(ctx); err != nil {
		return fmt.Errorf("Redis at %s: %w", sessions.RedactURL(cfg.redisURL), err)
	}

	store.SetOfficerOptions(policystore.OfficerOptions{Region: cfg.region})
	languages := policystore.NewLanguageIndex(store)
	if err := languages.Load(ctx); err != nil {
		log.Warn("the chosen languages could not be read yet; asking PostgreSQL per caller until they are", "err", err)
	}
	catalog, err := menus.LoadCatalog(cfg.messagesDir)
	if err != nil {
		return fmt.Errorf("MESSAGES_DIR: %w", err)
	}
	for _, warning := range cfg.sendWarnings {
		log.Warn(warning)
	}
	traceStore, err := policystore.Open(ctx, cfg.databaseURL, policystore.Options{MaxConns: traceConnections,
		ApplicationName: traceApplicationName})
	if err != nil {
		return fmt.Errorf("PostgreSQL (trace): %w", err)
	}
	defer traceStore.Close()
	var trace *gateway.Tracer
	if cfg.traceRetentionDays > 0 {
		trace = gateway.NewTracer(traceStore.Pool(), gateway.TraceOptions{RetentionDays: cfg.traceRetentionDays,
			PhoneRegion: cfg.region, Registerer: metricsRegistry}, log)
	} else if err := gateway.MaintainTrace(ctx, traceStore.Pool(), 0); err != nil {
		return fmt.Errorf("TRACE_RETENTION=0: could not drop the trace recorded so far: %w", err)
	}
	outbox := gateway.NewOutboxWorker(store, cfg.senders, gateway.OutboxOptions{Metrics: metrics, Trace: trace}, log)
	metrics.WatchOutbox(store)
	lookups := gateway.WatchLookups(sessions.NewLookupLimiter(rdb, cfg.lookups, ""), metricsRegistry, log)

	due := gateway.DueFamilies{Store: store, Days: cfg.reminders.Days}
	engine := menus.New(store, menus.Options{
		Location:        cfg.location,
		PhoneRegion:     cfg.region,
		CHFIDMaxLen:     store.Columns().CHFIDMaxLen,
		DefaultLang:     cfg.lang,
		Claims:          store,
		ClaimsVisibleTo: cfg.claimsVisibleTo,
		Lookups:         lookups,
		Languages:       languages,
		Officers:        store,
		Renewals:        gateway.RenewalsNotifying{Store: store, Notify: outbox.Notify, Metrics: metrics, Trace: trace},
		Due:             due,
		SMSProvider:     cfg.smsProvider,
		Version:         versionString(),
		AuditUserID:     cfg.auditUserID,
		Catalog:         catalog,
		Currency:        cfg.currency,
		Transliterate:   cfg.transliterate,

		MaxOverpayment: cfg.maxOverpayment,
	})
	smsOpts := cfg.smsLimits
	smsOpts.Log, smsOpts.PhoneRegion, smsOpts.Location = log, cfg.region, cfg.location
	smsOpts.Officers, smsOpts.Metrics = store, metrics
	inbound := gateway.NewInboundProcessor(store, gateway.SMSCommands(engine, smsOpts),
		gateway.InboundOptions{OnProcessed: outbox.Notify}, log)

	srv := gateway.NewServer(gateway.Deps{
		Logger:   log,
		Sessions: sessionStore,
		Menus:    engine,
		Registry: metricsRegistry,
		Metrics:  metrics,
		Ready: []gateway.Checker{
			{Name: "postgres", Ping: store.Ping},
			{Name: "redis", Ping: sessionStore.Ping},
		},
		SMS:   &gateway.SMSDeps{Store: store, Wake: inbound.Notify, Outbox: store},
		Trace: trace,
	}, gateway.Config{
		HopDeadline:    cfg.hopDeadline,
		Providers:      cfg.providers,
		TrustedProxies: cfg.trustedProxies,
		Simulator:      cfg.dev || env.getenv("SIMULATOR") == "on",
		SimulatorDev:   cfg.dev,
		MetricsOnAdmin: cfg.adminAddr != "",
		Support:        gateway.SupportConfig{Token: cfg.supportToken, Trace: traceStore.Pool(), PhoneRegion: cfg.region},
	})

	// The workers outlive the HTTP server by the time it takes to finish the
	// message in hand, so that nothing accepted is left half done.
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var workers sync.WaitGroup
	workers.Go(func() { outbox.Run(workCtx) })  //nolint:errcheck // returns nil on cancel
	workers.Go(func() { inbound.Run(workCtx) }) //nolint:errcheck
	workers.Go(func() { languages.Run(workCtx, policystore.DefaultLanguageRefresh, log) })
	if trace != nil {
		workers.Go(func() { trace.Run(workCtx) }) //nolint:errcheck // returns nil on cancel
	}
	if cfg.remindersOn {
		reminders := newReminders(cfg, store, engine, languages, metrics, outbox.Notify, log)
		if sendsSMS(cfg) {
			workers.Go(func() { reminders.RunDaily(workCtx) })
		} else {
			log.Warn("renewal reminders are on, but " + cfg.smsProvider + " is not configured to send SMS: no reminder is queued " +
				"(configure it, or set REMINDERS=off)")
		}
	}
	defer func() { stopWork(); workers.Wait() }()

	listeners, err := openListeners(cfg, srv, log)
	if err != nil {
		return err
	}
	if addr := env.getenv("PPROF_ADDR"); addr != "" {
		go servePprof(addr, log)
	}
	public := listeners[0].ln.Addr()
	log.Info("serving", "addr", public.String(), "dev", cfg.dev, "chfid_max_len", store.Columns().CHFIDMaxLen)
	printBanner(env, public, cfg)
	return serveHTTP(ctx, listeners, cfg.hopDeadline+time.Second, log)
}

// listener is one of serve's HTTP servers and where it listens.
type listener struct {
	ln  net.Listener
	srv *http.Server
}

// adminWriteTimeout bounds an answer of the admin listener: a scrape of
// every metric, or a /readyz waiting for its dependencies.
const adminWriteTimeout = 30 * time.Second

// openListeners opens the public listener, first, and the admin one when
// ADMIN_ADDR is set. Without it, /metrics is public, which production
// should not want: serve says so.
func openListeners(cfg serveConfig, srv *gateway.Server, log *slog.Logger) ([]listener, error) {
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.listen, err)
	}
	listeners := []listener{{ln, newHTTPServer(srv, cfg.hopDeadline+5*time.Second, log)}}
	if cfg.adminAddr == "" {
		if !cfg.dev {
			log.Warn("/metrics is served on the public listener; in production set ADMIN_ADDR (e.g. 127.0.0.1:9090) " +
				"to serve it, with a detailed /readyz, on a private address")
		}
		return listeners, nil
	}
	adminLn, err := net.Listen("tcp", cfg.adminAddr)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("listen on ADMIN_ADDR %s: %w", cfg.adminAddr, err)
	}
	log.Info("serving metrics and health", "addr", adminLn.Addr().String())
	return append(listeners, listener{adminLn, newHTTPServer(srv.Admin(), adminWriteTimeout, log)}), nil
}

// newHTTPServer bounds every phase of a request, so that a slow or idle
// client cannot hold a connection for ever.
func newHTTPServer(h http.Handler, writeTimeout time.Duration, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// serveHTTP serves every listener until ctx ends or one of them fails, then
// shuts them all down, letting requests in flight finish within grace.
func serveHTTP(ctx context.Context, listeners []listener, grace time.Duration, log *slog.Logger) error {
	errc := make(chan error, len(listeners))
	for _, l := range listeners {
		go func() { errc <- l.srv.Serve(l.ln) }()
	}
	running := len(listeners)
	var failed error
	select {
	case failed = <-errc: // before Shutdown, Serve returns only on failure
		running--
	case <-ctx.Done():
		log.Info("shutting down")
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	for _, l := range listeners {
		if err := l.srv.Shutdown(shutdownCtx); err != nil {
			failed = cmp.Or(failed, fmt.Errorf("shutdown: %w", err))
		}
	}
	for range running {
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			failed = cmp.Or(failed, err)
		}
	}
	return failed
}

func loadServeConfig(getenv func(string) string, dev bool, listen string) (serveConfig, error) {
	cfg := serveConfig{
		databaseURL: getenv("DATABASE_URL"),
		redisURL:    getenv("REDIS_URL"),
		listen:      cmp.Or(listen, getenv("LISTEN_ADDR"), ":8080"),
		adminAddr:   getenv("ADMIN_ADDR"),
		lang:        cmp.Or(getenv("DEFAULT_LANGUAGE"), "en"),
		region:      strings.ToUpper(cmp.Or(getenv("PHONE_REGION"), "TZ")),
		logFormat:   cmp.Or(getenv("LOG_FORMAT"), "json"),
		dev:         dev,
	}
	if dev && getenv("LOG_FORMAT") == "" {
		cfg.logFormat = "text"
	}
	var problems []string
	if cfg.databaseURL == "" {
		problems = append(problems, "DATABASE_URL is required")
	}
	if cfg.redisURL == "" {
		problems = append(problems, "REDIS_URL is required")
	}
	if _, _, err := net.SplitHostPort(cfg.adminAddr); cfg.adminAddr != "" && err != nil {
		problems = append(problems, fmt.Sprintf("ADMIN_ADDR %q: want host:port such as 127.0.0.1:9090", cfg.adminAddr))
	}
	cfg.traceRetentionDays = parseRetention(getenv, &problems)
	if cfg.supportToken = getenv("SUPPORT_TOKEN"); cfg.supportToken != "" && cfg.adminAddr == "" {
		problems = append(problems, "SUPPORT_TOKEN needs ADMIN_ADDR: the support page is never served on the public listener")
	}
	cfg.providers = loadProviders(getenv, dev, &problems)
	var err error
	if cfg.trustedProxies, err = gateway.ParsePrefixes(getenv("TRUSTED_PROXIES")); err != nil {
		problems = append(problems, fmt.Sprintf("TRUSTED_PROXIES: %v", err))
	}
	if !menus.Supported(cfg.lang) {
		problems = append(problems, fmt.Sprintf("DEFAULT_LANGUAGE %q: want en, fr, sw or ne", cfg.lang))
	}
	cfg.senders, cfg.sendWarnings = loadSMS(getenv, dev, cfg.providers, &problems)
	cfg.smsProvider = chooseSMSProvider(getenv("SMS_PROVIDER"), cfg.senders, &problems)
	if v := getenv("GATEWAY_AUDIT_USER_ID"); v != "" {
		if _, err := fmt.Sscanf(v, "%d", &cfg.auditUserID); err != nil {
			problems = append(problems, fmt.Sprintf("GATEWAY_AUDIT_USER_ID %q: want an integer (a \"tblUsers\".\"UserID\")", v))
		}
	}
	if cfg.claimsVisibleTo, err = menus.ParseClaimsVisibility(getenv("CLAIMS_VISIBLE_TO")); err != nil {
		problems = append(problems, fmt.Sprintf("CLAIMS_VISIBLE_TO %v", err))
	}
	cfg.lookups.Public = parseRates(getenv, "LOOKUP_LIMIT", sessions.DefaultPublicLookups, &problems)
	cfg.lookups.Officer = parseRates(getenv, "OFFICER_LOOKUP_LIMIT", sessions.DefaultOfficerLookups, &problems)
	cfg.maxOverpayment = parseMaxOverpayment(getenv, &problems)
	cfg.currency = getenv("CURRENCY")
	cfg.messagesDir = getenv("MESSAGES_DIR")
	if list, ok := lookupEnv(getenv, "TRANSLITERATE"); ok {
		cfg.transliterate = map[string]bool{}
		for _, lang := range strings.Split(list, ",") {
			if lang = strings.TrimSpace(lang); lang != "" {
				cfg.transliterate[lang] = true
			}
		}
	}
	loc, err := time.LoadLocation(cmp.Or(getenv("TIME_ZONE"), "UTC"))
	if err != nil {
		problems = append(problems, fmt.Sprintf("TIME_ZONE: %v", err))
	}
	cfg.location = loc
	cfg.hopDeadline = parseDuration(getenv, "HOP_DEADLINE", 5*time.Second, &problems)
	cfg.sessionTTL = parseDuration(getenv, "SESSION_TTL", 5*time.Minute, &problems)
	if getenv("RESUME_WINDOW") == "0" {
		cfg.resumeWindow = -1
	} else {
		cfg.resumeWindow = parseDuration(getenv, "RESUME_WINDOW", sessions.DefaultResumeWindow, &problems)
	}
	cfg.sessionCache = sessions.DefaultRecent
	if v := getenv("SESSION_CACHE"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n < 0:
			problems = append(problems, fmt.Sprintf("SESSION_CACHE %q: want a number of sessions, 0 for none", v))
		case n == 0:
			cfg.sessionCache = -1 // sessions.Options: negative is off
		default:
			cfg.sessionCache = n
		}
	}
	cfg.smsLimits = loadSMSLimits(getenv, &problems)
	cfg.remindersOn, cfg.reminders = loadReminders(getenv, &problems)
	cfg.sessionCacheBytes = sessions.DefaultRecentBytes
	if v := getenv("SESSION_CACHE_MB"); v != "" {
		// 0 is not "off" here: SESSION_CACHE=0 says that, and one switch is enough.
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 1 {
			problems = append(problems, fmt.Sprintf("SESSION_CACHE_MB %q: want a number of MiB, at least 1 (SESSION_CACHE=0 turns the cache off)", v))
		} else {
			cfg.sessionCacheBytes = n << 20
		}
	}
	if err := cfg.logLevel.UnmarshalText([]byte(cmp.Or(getenv("LOG_LEVEL"), "info"))); err != nil {
		problems = append(problems, fmt.Sprintf("LOG_LEVEL: %v", err))
	}
	if cfg.logFormat != "json" && cfg.logFormat != "text" {
		problems = append(problems, fmt.Sprintf("LOG_FORMAT %q: want json or text", cfg.logFormat))
	}
	if len(problems) > 0 {
		return cfg, fmt.Errorf("configuration:\n  %s\nRun 'imis-gateway serve --help' for the variables", strings.Join(problems, "\n  "))
	}
	return cfg, nil
}

// loadProviders reads USSD_PROVIDERS and each enabled provider's settings. A
// provider enabled without a callback token is refused outside --dev: its
// callbacks would be open to anyone who guesses the URL.
func loadProviders(getenv func(string) string, dev bool, problems *[]string) map[string]gateway.ProviderConfig {
	out := map[string]gateway.ProviderConfig{}
	for _, name := range strings.Split(cmp.Or(getenv("USSD_PROVIDERS"), registry.Default().Name), ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		p, ok := registry.Lookup(name)
		if !ok || p.USSD == nil {
			*problems = append(*problems, fmt.Sprintf("USSD_PROVIDERS: unknown provider %q (known: %s)", name,
				strings.Join(registry.Names(registry.USSD()), ", ")))
			continue
		}
		env := p.EnvPrefix
		pc := gateway.ProviderConfig{Token: getenv(env + "CALLBACK_TOKEN"), ServiceCode: getenv(env + "SERVICE_CODE")}
		if pc.Token == "" {
			if dev {
				pc.Token = devToken
			} else {
				*problems = append(*problems, env+"CALLBACK_TOKEN is required for provider "+name+" (or run with --dev)")
			}
		}
		pc.Budget = menus.Budget{GSM7: p.USSD.Budget.GSM7, UCS2: p.USSD.Budget.UCS2}
		if v := getenv(env + "SCREEN_BUDGET"); v != "" {
			var b menus.Budget
			if _, err := fmt.Sscanf(v, "%d/%d", &b.GSM7, &b.UCS2); err != nil || b.GSM7 < 40 || b.UCS2 < 20 {
				*problems = append(*problems, fmt.Sprintf("%sSCREEN_BUDGET %q: want GSM7/UCS2 characters such as 120/70", env, v))
			}
			pc.Budget = b
		}
		allow, err := gateway.ParsePrefixes(getenv(env + "ALLOW_FROM"))
		if err != nil {
			*problems = append(*problems, fmt.Sprintf("%sALLOW_FROM: %v", env, err))
		}
		pc.AllowFrom = allow
		out[name] = pc
	}
	return out
}

// parseRetention reads TRACE_RETENTION, in days: "30d" or "30"; 0 or
// "off" turns the trace off.
func parseRetention(getenv func(string) string, problems *[]string) int {
	v := strings.TrimSpace(getenv("TRACE_RETENTION"))
	switch v {
	case "":
		return defaultTraceRetentionDays
	case "off":
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSuffix(v, "d"))
	if err != nil || n < 0 {
		*problems = append(*problems, fmt.Sprintf("TRACE_RETENTION %q: want days such as 30d, 0 for no trace", v))
		return defaultTraceRetentionDays
	}
	return n
}

// defaultTraceRetentionDays is how long the trace is kept unless told.
const defaultTraceRetentionDays = 30

// traceConnections: the trace writes batches and the support page reads on
// a pool of their own, so that neither ever takes a connection a hop waits for.
const traceConnections = 2

// traceApplicationName tells the trace's connections from the hops' in
// pg_stat_activity (and in a pgbouncer's pools).
const traceApplicationName = "imis-gateway trace"

// parseMaxOverpayment reads RENEWAL_MAX_OVERPAYMENT, an amount in currency
// units written as an officer types one in RENEW: digits, at most two
// decimals, no sign.
func parseMaxOverpayment(getenv func(string) string, problems *[]string) openimis.Money {
	v := strings.TrimSpace(getenv("RENEWAL_MAX_OVERPAYMENT"))
	if v == "" {
		return 0
	}
	m, err := openimis.ParseMoney(v)
	if err != nil {
		*problems = append(*problems, fmt.Sprintf("RENEWAL_MAX_OVERPAYMENT %q: want an amount in currency units such as 500 or 500.50 (0 for none), without sign or separators", v))
		return 0
	}
	return m
}

func parseDuration(getenv func(string) string, name string, def time.Duration, problems *[]string) time.Duration {
	v := getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		*problems = append(*problems, fmt.Sprintf("%s %q: want a positive duration such as 5s", name, v))
		return def
	}
	return d
}

func parseRates(getenv func(string) string, name string, def []sessions.Rate, problems *[]string) []sessions.Rate {
	v := getenv(name)
	if v == "" {
		return def
	}
	rates, err := sessions.ParseRates(v)
	if err != nil {
		*problems = append(*problems, fmt.Sprintf("%s %v", name, err))
		return def
	}
	return rates
}

// loadSMSLimits reads when an inbound SMS goes unanswered: a repeat within
// SMS_REPEAT_WINDOW, a phone past its reply budget. 0 turns a check off,
// which gateway.SMSOptions spells as negative.
func loadSMSLimits(getenv func(string) string, problems *[]string) gateway.SMSOptions {
	var o gateway.SMSOptions
	if v := getenv("SMS_REPEAT_WINDOW"); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil || d < 0:
			*problems = append(*problems, fmt.Sprintf("SMS_REPEAT_WINDOW %q: want a duration such as 10m, 0 for none", v))
		case d == 0:
			o.RepeatWindow = -1
		default:
			o.RepeatWindow = d
		}
	}
	budget := func(name string) int {
		v := getenv(name)
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n < 0:
			*problems = append(*problems, fmt.Sprintf("%s %q: want a number of replies per hour, 0 for no limit", name, v))
			return 0
		case n == 0:
			return -1
		}
		return n
	}
	o.ReplyBudget = budget("SMS_REPLY_BUDGET")
	o.OfficerReplyBudget = budget("SMS_OFFICER_REPLY_BUDGET")
	return o
}

// loadSMS reads each SMS provider's settings: the outbox's senders, what to
// warn of at start, and the callbacks of a provider whose callbacks have
// settings of their own (one without USSD), added to callbacks.
func loadSMS(getenv func(string) string, dev bool, callbacks map[string]gateway.ProviderConfig,
	problems *[]string) (map[string]gateway.Sender, []string) {
	tokenInDev := ""
	if dev {
		tokenInDev = devToken
	}
	senders := map[string]gateway.Sender{}
	var warnings []string
	for _, p := range registry.All() {
		if p.SMS == nil {
			continue
		}
		settings, bad := p.SMS.Settings(getenv, tokenInDev)
		*problems = append(*problems, bad...)
		if settings.Sender != nil {
			senders[p.Name] = settings.Sender
		}
		if settings.Warning != "" {
			warnings = append(warnings, settings.Warning)
		}
		if cb := settings.Callbacks; cb != nil {
			callbacks[p.Name] = gateway.ProviderConfig{Token: cb.Token, Signature: cb.Signature}
		}
	}
	return senders, warnings
}

// smsProviders are the providers that can send SMS, in the registry's order.
func smsProviders() []providers.Provider {
	var out []providers.Provider
	for _, p := range registry.All() {
		if p.SMS != nil {
			out = append(out, p)
		}
	}
	return out
}

// chooseSMSProvider picks who sends the SMS no inbound SMS asked for (the
// confirmations of a USSD renewal: USSD aggregators send no SMS): the one
// named, else the first whose sending is configured, else the first, whose
// messages then wait in the outbox until it is.
func chooseSMSProvider(named string, senders map[string]gateway.Sender, problems *[]string) string {
	candidates := smsProviders()
	if named != "" {
		for _, p := range candidates {
			if p.Name == named {
				return named
			}
		}
		*problems = append(*problems, fmt.Sprintf("SMS_PROVIDER %q: want %s", named, strings.Join(registry.Names(candidates), " or ")))
		return ""
	}
	for _, p := range candidates {
		if c, ok := senders[p.Name].(interface{ Configured() bool }); ok && c.Configured() {
			return p.Name
		}
	}
	return candidates[0].Name
}

// lookupEnv tells an unset variable from one set to "none".
func lookupEnv(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	if v == "" {
		return "", false
	}
	if v == "none" {
		return "", true
	}
	return v, true
}

func newLogger(env *environment, cfg serveConfig) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.logLevel}
	if cfg.logFormat == "text" {
		return slog.New(slog.NewTextHandler(env.stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(env.stderr, opts))
}

// requireMigrated refuses to serve a database the gateway's migrations have
// not reached: the hot queries depend on its indexes.
func requireMigrated(ctx context.Context, databaseURL string) error {
	db, err := migrations.Open(databaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	pending, err := migrations.Pending(ctx, db)
	if err != nil {
		return err
	}
	if pending {
		return errors.New("the database has pending gateway migrations: run 'imis-gateway migrate' first")
	}
	return nil
}

// printBanner tells a new user where to point the aggregator and how to try
// a hop right away.
func printBanner(env *environment, addr net.Addr, cfg serveConfig) {
	host := "localhost"
	port := "8080"
	if tcp, ok := addr.(*net.TCPAddr); ok {
		port = fmt.Sprint(tcp.Port)
		if !tcp.IP.IsUnspecified() {
			host = tcp.IP.String()
		}
	}
	base := "http://" + net.JoinHostPort(host, port)
	callbackURL := func(p providers.Provider) string {
		token := "<" + p.EnvPrefix + "CALLBACK_TOKEN>"
		if cfg.dev {
			token = cfg.providers[p.Name].Token
		}
		return base + providers.USSDPath(p.Name, token)
	}
	var enabled []providers.Provider
	for _, p := range registry.USSD() {
		if _, on := cfg.providers[p.Name]; on {
			enabled = append(enabled, p)
		}
	}
	fmt.Fprintf(env.stdout, "imis-gateway is serving on %s\n\nCallback URLs (set them in each aggregator's dashboard, behind HTTPS):\n", base)
	for _, p := range enabled {
		line := fmt.Sprintf("  %-15s %s", p.Name, callbackURL(p))
		if p.USSD.CallbackNote != nil {
			line += "   " + p.USSD.CallbackNote(callbackURL(p))
		}
		fmt.Fprintln(env.stdout, line)
	}
	for _, p := range enabled {
		if p.USSD.TryHop != nil {
			fmt.Fprintf(env.stdout, "\nTry a hop:\n  %s\n", p.USSD.TryHop(callbackURL(p)))
		}
	}
	fmt.Fprintf(env.stdout, "\nOr dial it like a phone:  imis-gateway sim --url %s\n", base)
	if cfg.dev {
		fmt.Fprintf(env.stdout, "In a browser:             %s/simulator\n", base)
	}
	fmt.Fprintln(env.stdout)
}

// servePprof exposes profiles on their own listener, never on the public
// one: they reveal internals and cost CPU.
func servePprof(addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	log.Info("pprof", "addr", addr)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		log.Warn("pprof server", "err", err)
	}
}
