package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/openimis/imis-gateway/gateway"
	"github.com/openimis/imis-gateway/menus"
	"github.com/openimis/imis-gateway/migrations"
	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/providers/africastalking"
	"github.com/openimis/imis-gateway/sessions"
)

// devToken is the Africa's Talking callback token in --dev mode when
// AT_CALLBACK_TOKEN is unset, so the simulator and the curl line just work.
const devToken = "dev"

var serveEnv = [][2]string{
	{"DATABASE_URL", "PostgreSQL URL of the openIMIS database (required)"},
	{"REDIS_URL", "Redis URL: redis://, rediss://, cluster and sentinel forms in README (required)"},
	{"LISTEN_ADDR", "HTTP listen address (default :8080)"},
	{"USSD_PROVIDERS", "aggregators to serve: africastalking, hubtel, nalo, arkesel, infobip, beem (default africastalking)"},
	{"AT_CALLBACK_TOKEN", "secret path segment of Africa's Talking callbacks (required unless --dev)"},
	{"<NAME>_CALLBACK_TOKEN", "the same for each other provider: HUBTEL_, NALO_, ARKESEL_, INFOBIP_, BEEM_ (required unless --dev)"},
	{"<NAME>_SERVICE_CODE", "the USSD code a provider serves, for wires that do not send it (NALO_, ARKESEL_, BEEM_)"},
	{"<NAME>_ALLOW_FROM", "optional comma-separated CIDR allow-list of a provider's callers (AT_ALLOW_FROM, ...)"},
	{"TRUSTED_PROXIES", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed"},
	{"DEFAULT_LANGUAGE", "en, fr, sw or ne (default en)"},
	{"PHONE_REGION", "ISO country for local phone numbers (default TZ)"},
	{"TIME_ZONE", "the scheme's time zone, deciding \"today\" for coverage (default UTC)"},
	{"HOP_DEADLINE", "deadline of one USSD hop (default 5s)"},
	{"SESSION_TTL", "USSD session lifetime after its last hop (default 5m)"},
	{"LOG_LEVEL", "debug, info, warn or error (default info)"},
	{"LOG_FORMAT", "json or text (default json; text with --dev)"},
	{"PPROF_ADDR", "if set, serve Go's net/http/pprof profiles on this address (e.g. 127.0.0.1:6060)"},
}

type serveConfig struct {
	databaseURL, redisURL, listen string
	providers                     map[string]gateway.ProviderConfig
	trustedProxies                []netip.Prefix
	lang, region                  string
	location                      *time.Location
	hopDeadline, sessionTTL       time.Duration
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

	store, err := policystore.Open(ctx, cfg.databaseURL, policystore.Options{})
	if err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	defer store.Close()
	if err := requireMigrated(ctx, cfg.databaseURL); err != nil {
		return err
	}
	rdb, err := sessions.NewClient(cfg.redisURL)
	if err != nil {
		return fmt.Errorf("REDIS_URL: %w", err)
	}
	defer rdb.Close()
	sessionStore := sessions.New(rdb, sessions.Options{TTL: cfg.sessionTTL, LockTTL: cfg.hopDeadline + 5*time.Second})
	if err := sessionStore.Ping(ctx); err != nil {
		return fmt.Errorf("Redis at %s: %w", cfg.redisURL, err)
	}

	engine := menus.New(store, menus.Options{
		Location:    cfg.location,
		PhoneRegion: cfg.region,
		CHFIDMaxLen: store.Columns().CHFIDMaxLen,
		DefaultLang: cfg.lang,
	})
	srv := gateway.NewServer(gateway.Deps{
		Logger:   log,
		Sessions: sessionStore,
		Menus:    engine,
		Ready: []gateway.Checker{
			{Name: "postgres", Ping: store.Ping},
			{Name: "redis", Ping: sessionStore.Ping},
		},
	}, gateway.Config{
		HopDeadline:    cfg.hopDeadline,
		Providers:      cfg.providers,
		TrustedProxies: cfg.trustedProxies,
	})

	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.listen, err)
	}
	httpSrv := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      cfg.hopDeadline + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if addr := env.getenv("PPROF_ADDR"); addr != "" {
		go servePprof(addr, log)
	}
	log.Info("serving", "addr", ln.Addr().String(), "dev", cfg.dev, "chfid_max_len", store.Columns().CHFIDMaxLen)
	printBanner(env, ln.Addr(), cfg)

	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.hopDeadline+time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func loadServeConfig(getenv func(string) string, dev bool, listen string) (serveConfig, error) {
	cfg := serveConfig{
		databaseURL: getenv("DATABASE_URL"),
		redisURL:    getenv("REDIS_URL"),
		listen:      firstNonEmpty(listen, getenv("LISTEN_ADDR"), ":8080"),
		lang:        firstNonEmpty(getenv("DEFAULT_LANGUAGE"), "en"),
		region:      strings.ToUpper(firstNonEmpty(getenv("PHONE_REGION"), "TZ")),
		logFormat:   firstNonEmpty(getenv("LOG_FORMAT"), map[bool]string{true: "text", false: "json"}[dev]),
		dev:         dev,
	}
	var problems []string
	if cfg.databaseURL == "" {
		problems = append(problems, "DATABASE_URL is required")
	}
	if cfg.redisURL == "" {
		problems = append(problems, "REDIS_URL is required")
	}
	cfg.providers = loadProviders(getenv, dev, &problems)
	var err error
	if cfg.trustedProxies, err = gateway.ParsePrefixes(getenv("TRUSTED_PROXIES")); err != nil {
		problems = append(problems, fmt.Sprintf("TRUSTED_PROXIES: %v", err))
	}
	switch cfg.lang {
	case "en", "fr", "sw", "ne":
	default:
		problems = append(problems, fmt.Sprintf("DEFAULT_LANGUAGE %q: want en, fr, sw or ne", cfg.lang))
	}
	loc, err := time.LoadLocation(firstNonEmpty(getenv("TIME_ZONE"), "UTC"))
	if err != nil {
		problems = append(problems, fmt.Sprintf("TIME_ZONE: %v", err))
	}
	cfg.location = loc
	cfg.hopDeadline = parseDuration(getenv, "HOP_DEADLINE", 5*time.Second, &problems)
	cfg.sessionTTL = parseDuration(getenv, "SESSION_TTL", 5*time.Minute, &problems)
	if err := cfg.logLevel.UnmarshalText([]byte(firstNonEmpty(getenv("LOG_LEVEL"), "info"))); err != nil {
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

// envPrefix is how a provider's variables are named: AT_CALLBACK_TOKEN,
// HUBTEL_CALLBACK_TOKEN, ...
func envPrefix(provider string) string {
	if provider == africastalking.Name {
		return "AT_"
	}
	return strings.ToUpper(provider) + "_"
}

// loadProviders reads USSD_PROVIDERS and each enabled provider's settings. A
// provider enabled without a callback token is refused outside --dev: its
// callbacks would be open to anyone who guesses the URL.
func loadProviders(getenv func(string) string, dev bool, problems *[]string) map[string]gateway.ProviderConfig {
	out := map[string]gateway.ProviderConfig{}
	for _, name := range strings.Split(firstNonEmpty(getenv("USSD_PROVIDERS"), africastalking.Name), ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		if !slices.Contains(gateway.USSDProviders, name) {
			*problems = append(*problems, fmt.Sprintf("USSD_PROVIDERS: unknown provider %q (known: %s)", name, strings.Join(gateway.USSDProviders, ", ")))
			continue
		}
		env := envPrefix(name)
		pc := gateway.ProviderConfig{Token: getenv(env + "CALLBACK_TOKEN"), ServiceCode: getenv(env + "SERVICE_CODE")}
		if pc.Token == "" {
			if dev {
				pc.Token = devToken
			} else {
				*problems = append(*problems, env+"CALLBACK_TOKEN is required for provider "+name+" (or run with --dev)")
			}
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

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
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
	token := func(provider string) string {
		if cfg.dev {
			return cfg.providers[provider].Token
		}
		return "<" + envPrefix(provider) + "CALLBACK_TOKEN>"
	}
	fmt.Fprintf(env.stdout, "imis-gateway is serving on %s\n\nCallback URLs (set them in each aggregator's dashboard, behind HTTPS):\n", base)
	for _, name := range gateway.USSDProviders {
		if _, on := cfg.providers[name]; !on {
			continue
		}
		path := "/ussd/" + name + "/" + token(name)
		switch name {
		case africastalking.Name:
			fmt.Fprintf(env.stdout, "  %-15s %s%s   (events: %s%s/events)\n", name, base, path, base, path)
		case "infobip":
			fmt.Fprintf(env.stdout, "  %-15s %s%s   (Infobip adds /session/{id}/start|response|end)\n", name, base, path)
		default:
			fmt.Fprintf(env.stdout, "  %-15s %s%s\n", name, base, path)
		}
	}
	if at, on := cfg.providers[africastalking.Name]; on {
		fmt.Fprintf(env.stdout, `
Try a hop:
  curl -s -d sessionId=demo-1 -d serviceCode='*384*1234#' --data-urlencode phoneNumber=+255712111222 -d text= %s/ussd/africastalking/%s
`, base, map[bool]string{true: at.Token, false: token(africastalking.Name)}[cfg.dev])
	}
	fmt.Fprintf(env.stdout, "\nOr dial it like a phone:  imis-gateway sim --url %s\n\n", base)
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
