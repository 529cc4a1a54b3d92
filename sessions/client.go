package sessions

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Timeouts every client made by NewClient starts with; the URL's dial_timeout, read_timeout and
// write_timeout override them. Context deadlines are always honoured as well.
const (
	DefaultDialTimeout = time.Second
	DefaultIOTimeout   = time.Second
)

// DefaultDialerRetries is the number of dial attempts per command try (go-redis's default is 5, 100ms
// apart). With go-redis's command retries (max_retries, default 3) on top, a call fails in about
// 100ms when Redis refuses connections (1.7s with go-redis's defaults), so the gateway answers its
// error screen at once instead of spending the hop's deadline. dialer_retries overrides it (cluster
// and Sentinel URLs).
const DefaultDialerRetries = 1

// Client is a Redis client made by NewClient: go-redis's, and what the URL asked of the store beyond
// go-redis's options.
type Client struct {
	redis.UniversalClient
	// Durability is how the saves that matter survive a failover (wait_replicas, wait_timeout).
	Durability Durability
}

// Durability is how a Store makes the saves that matter survive a failover: after such a save, it
// waits (Redis's WAIT) until Replicas replicas have acknowledged it, for at most Timeout, and fails
// the save when fewer did. Zero Replicas waits for none.
type Durability struct {
	Replicas int
	Timeout  time.Duration
}

// DefaultWaitTimeout bounds the wait for replicas. A replica that is up acknowledges within a round
// trip; a longer wait only delays the "temporarily unavailable" answer of a failover's window.
const DefaultWaitTimeout = 250 * time.Millisecond

// DefaultClusterStateReloadInterval is how old Redis Cluster's slot map may get before the client
// reloads it while nothing fails (go-redis's default is a minute). A failure to reach a node reloads
// it at once, whatever the interval.
const DefaultClusterStateReloadInterval = 10 * time.Second

// NewClient builds a Redis client from a URL (REDIS_URL). It does not connect; Store.Ping does.
//
// One server (or a proxy in front of several):
//
//	redis://[[user]:password@]host[:port][/db][?option=value&...]
//	rediss://...                                      the same over TLS
//	unix://[[user]:password@]/path/to/redis.sock[?db=N&option=value&...]
//
// Redis Cluster (the hosts are seeds; any reachable node will do; database 0 only):
//
//	redis+cluster://[[user]:password@]host1[:port][,host2[:port]...][?option=value&...]
//	rediss+cluster://...                              the same over TLS
//
// Redis Sentinel (the hosts are Sentinels, default port 26379; master is the monitored master's name):
//
//	redis+sentinel://[[user]:password@]host1[:port][,host2[:port]...]/master[/db][?option=value&...]
//	rediss+sentinel://...                             the same over TLS, to Sentinels and Redis
//
// The user and password authenticate against Redis itself (the master and replicas under Sentinel);
// Sentinels that require their own password take the sentinel_password (and sentinel_username)
// options. Options of the gateway's own:
//
//   - wait_replicas: how many replicas must acknowledge a save that matters (a step that leads to a
//     write, a hop of an aggregator that numbers nothing) before the hop is answered; default 1 for
//     Cluster and Sentinel, 0 for one server. See Durability.
//   - wait_timeout: how long to wait for them (default 250ms); a save they did not acknowledge in
//     time fails, and the hop is answered "temporarily unavailable".
//   - cluster_state_reload_interval: how old Cluster's slot map may get (default 10s); a node that
//     cannot be reached reloads it at once.
//
// Other options are go-redis's, in snake case: dial_timeout, read_timeout, write_timeout
// (durations such as 500ms; a plain number is seconds), pool_size, max_retries, client_name,
// skip_verify=true (TLS, standalone and Sentinel), and more; an unknown option is an error. Defaults:
// dial, read and write timeouts of 1s, one dial attempt per try (see DefaultDialerRetries), and
// context deadlines always honoured. Special characters in the password must be percent-encoded
// ('@' as %40, '/' as %2F, '#' as %23). Log a URL only through RedactURL. Examples:
//
//	redis://localhost:6379/0
//	rediss://default:s3cret@redis.example.org:6380/0?dial_timeout=2s
//	redis+cluster://:s3cret@10.0.0.1:7000,10.0.0.2:7000,10.0.0.3:7000
//	redis+sentinel://:s3cret@10.0.0.1,10.0.0.2,10.0.0.3/mymaster/0?sentinel_password=other
func NewClient(rawURL string) (*Client, error) {
	scheme, _, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, fmt.Errorf("redis URL %q: want redis://, rediss://, unix://, redis+cluster:// or redis+sentinel://", RedactURL(rawURL))
	}
	c, err := newClient(scheme, rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis URL %s: %w", RedactURL(rawURL), withoutURL(err))
	}
	return c, nil
}

func newClient(scheme, rawURL string) (*Client, error) {
	rest, own, err := takeOwnOptions(rawURL)
	if err != nil {
		return nil, err
	}
	c := &Client{Durability: Durability{Timeout: own.waitTimeout}}
	switch scheme {
	case "redis", "rediss", "unix":
		o, err := parseStandalone(rest)
		if err != nil {
			return nil, err
		}
		c.UniversalClient = redis.NewClient(o)
	case "redis+cluster", "rediss+cluster":
		o, err := parseCluster(rest)
		if err != nil {
			return nil, err
		}
		o.ClusterStateReloadInterval = own.clusterStateReloadInterval
		cluster := redis.NewClusterClient(o)
		cluster.AddHook(reloadOnUnreachable{cluster})
		c.UniversalClient, c.Durability.Replicas = cluster, 1
	case "redis+sentinel", "rediss+sentinel":
		o, err := parseSentinel(rest)
		if err != nil {
			return nil, err
		}
		c.UniversalClient, c.Durability.Replicas = redis.NewFailoverClient(o), 1
	default:
		return nil, fmt.Errorf("unknown scheme %q: want redis, rediss, unix, redis+cluster, rediss+cluster, redis+sentinel or rediss+sentinel", scheme)
	}
	if own.waitReplicas >= 0 {
		c.Durability.Replicas = own.waitReplicas
	}
	return c, nil
}

// ownOptions are the URL options go-redis does not know.
type ownOptions struct {
	waitReplicas               int // -1: the topology's default
	waitTimeout                time.Duration
	clusterStateReloadInterval time.Duration
}

// takeOwnOptions removes the gateway's own options from a URL's query, for go-redis, which refuses
// options it does not know.
func takeOwnOptions(rawURL string) (string, ownOptions, error) {
	own := ownOptions{waitReplicas: -1, waitTimeout: DefaultWaitTimeout,
		clusterStateReloadInterval: DefaultClusterStateReloadInterval}
	base, rawQuery, hasQuery := strings.Cut(rawURL, "?")
	if !hasQuery {
		return rawURL, own, nil
	}
	rawQuery, fragment, hasFragment := strings.Cut(rawQuery, "#")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", own, fmt.Errorf("query: %w", err)
	}
	if v, ok := take(q, "wait_replicas"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return "", own, fmt.Errorf("invalid wait_replicas %q: want a number of replicas, 0 for none", v)
		}
		own.waitReplicas = n
	}
	for name, d := range map[string]*time.Duration{
		"wait_timeout":                  &own.waitTimeout,
		"cluster_state_reload_interval": &own.clusterStateReloadInterval,
	} {
		if v, ok := take(q, name); ok {
			if *d, err = positiveDuration(v); err != nil {
				return "", own, fmt.Errorf("invalid %s %q: %w", name, v, err)
			}
		}
	}
	rest := base
	if len(q) > 0 {
		rest += "?" + q.Encode()
	}
	if hasFragment {
		rest += "#" + fragment
	}
	return rest, own, nil
}

// take removes the option name from q and returns its last value.
func take(q url.Values, name string) (string, bool) {
	v, ok := q[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	q.Del(name)
	return v[len(v)-1], true
}

// positiveDuration parses a duration as go-redis's options do: "500ms", or a plain number of seconds.
func positiveDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.ParseFloat(v, 64)
		if nerr != nil {
			return 0, errors.New("want a duration such as 500ms or 5s")
		}
		d = time.Duration(n * float64(time.Second))
	}
	if d <= 0 {
		return 0, errors.New("want a positive duration")
	}
	return d, nil
}

// reloadOnUnreachable reloads Redis Cluster's slot map as soon as a node cannot be reached. go-redis
// reloads it on MOVED replies and every ClusterStateReloadInterval, but not when a master is gone:
// until the next reload, the slots of a killed master keep failing after Redis has promoted its
// replica. Reloads are coalesced by go-redis (one at a time, 200ms apart).
type reloadOnUnreachable struct{ cluster *redis.ClusterClient }

func (h reloadOnUnreachable) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h reloadOnUnreachable) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.reloadOn(ctx, err)
		return err
	}
}

func (h reloadOnUnreachable) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		h.reloadOn(ctx, err)
		return err
	}
}

func (h reloadOnUnreachable) reloadOn(ctx context.Context, err error) {
	if unreachable(err) {
		h.cluster.ReloadState(ctx)
	}
}

// unreachable reports an error that says a node could not be reached or stopped answering (not a
// reply of Redis's, nor the caller giving up).
func unreachable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var rerr redis.Error
	return !errors.As(err, &rerr) || isClusterDown(err)
}

// isClusterDown reports Redis Cluster's own "the cluster is down" reply, given by a node that has
// not yet heard of a promotion.
func isClusterDown(err error) bool {
	return strings.HasPrefix(err.Error(), "CLUSTERDOWN")
}

// SetLogger sends go-redis's own log lines (a reconnection, a Sentinel's news of a new master),
// which go-redis prints as plain text on stderr, to log instead.
func SetLogger(log *slog.Logger) {
	redis.SetLogger(slogPrintf{log})
}

type slogPrintf struct{ log *slog.Logger }

func (l slogPrintf) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis client", "text", fmt.Sprintf(format, v...))
}

func parseStandalone(rawURL string) (*redis.Options, error) {
	o, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	applyTimeouts(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.DialerRetries, &o.ContextTimeoutEnabled)
	return o, nil
}

func parseCluster(rawURL string) (*redis.ClusterOptions, error) {
	m, err := parseMultiHost(rawURL, "6379")
	if err != nil {
		return nil, err
	}
	if p := strings.Trim(m.path, "/"); p != "" && p != "0" {
		return nil, fmt.Errorf("path %q: Redis Cluster has database 0 only", m.path)
	}
	o, err := redis.ParseClusterURL(m.goRedisURL(""))
	if err != nil {
		return nil, err
	}
	if m.user != nil {
		o.Username = m.user.Username()
		o.Password, _ = m.user.Password()
	}
	applyTimeouts(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.DialerRetries, &o.ContextTimeoutEnabled)
	return o, nil
}

func parseSentinel(rawURL string) (*redis.FailoverOptions, error) {
	m, err := parseMultiHost(rawURL, "26379")
	if err != nil {
		return nil, err
	}
	master, db, _ := strings.Cut(strings.Trim(m.path, "/"), "/")
	if master == "" {
		return nil, errors.New("missing master name: want redis+sentinel://host1,host2/<master>[/db]")
	}
	// go-redis takes the Sentinel credentials from the URL's userinfo and Redis's from options; ours
	// are the other way round (userinfo for Redis, as in every other form).
	sentinelUser, sentinelPassword := m.query.Get("sentinel_username"), m.query.Get("sentinel_password")
	m.query.Del("sentinel_username")
	m.query.Del("sentinel_password")
	o, err := redis.ParseFailoverURL(m.goRedisURL(db))
	if err != nil {
		return nil, err
	}
	o.MasterName = master
	o.SentinelUsername, o.SentinelPassword = sentinelUser, sentinelPassword
	if m.user != nil {
		o.Username = m.user.Username()
		o.Password, _ = m.user.Password()
	}
	applyTimeouts(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.DialerRetries, &o.ContextTimeoutEnabled)
	return o, nil
}

// applyTimeouts gives every kind of client (standalone, Cluster, Sentinel)
// the same bounds unless the URL set its own (a negative duration, "disabled"
// to go-redis, is kept): short timeouts, one dial per try, and context
// deadlines honoured, so that a hop's deadline holds when Redis is down.
func applyTimeouts(dial, read, write *time.Duration, dialerRetries *int, contextTimeout *bool) {
	*dial = cmp.Or(*dial, DefaultDialTimeout)
	*read = cmp.Or(*read, DefaultIOTimeout)
	*write = cmp.Or(*write, DefaultIOTimeout)
	*dialerRetries = cmp.Or(*dialerRetries, DefaultDialerRetries)
	*contextTimeout = true
}

// multiHost is a redis+cluster:// or redis+sentinel:// URL taken apart.
type multiHost struct {
	tls   bool
	user  *url.Userinfo
	hosts []string // host:port, port defaulted
	path  string
	query url.Values
}

// parseMultiHost splits scheme://[userinfo@]host1[:port][,host2[:port]...][/path][?query], which
// net/url cannot parse because of the comma-separated hosts.
func parseMultiHost(rawURL, defaultPort string) (*multiHost, error) {
	scheme, rest, _ := strings.Cut(rawURL, "://")
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	userinfo := ""
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		userinfo, authority = authority[:i+1], authority[i+1:]
	}
	// Let net/url decode the userinfo, path and query, with a placeholder for the hosts.
	u, err := url.Parse("redis://" + userinfo + "placeholder" + tail)
	if err != nil {
		return nil, err
	}
	if u.Fragment != "" {
		return nil, errors.New("unexpected fragment (#): percent-encode '#' in a password")
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	m := &multiHost{
		tls:   strings.HasPrefix(scheme, "rediss+"),
		user:  u.User,
		path:  u.Path,
		query: query,
	}
	if authority == "" {
		return nil, errors.New("no host")
	}
	for h := range strings.SplitSeq(authority, ",") {
		hp, err := hostPort(h, defaultPort)
		if err != nil {
			return nil, err
		}
		m.hosts = append(m.hosts, hp)
	}
	return m, nil
}

func hostPort(h, defaultPort string) (string, error) {
	if host, port, err := net.SplitHostPort(h); err == nil {
		if host == "" || port == "" {
			return "", fmt.Errorf("invalid host %q", h)
		}
		return net.JoinHostPort(host, port), nil
	}
	host := h
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		host = h[1 : len(h)-1]
	} else if strings.Contains(h, ":") {
		return "", fmt.Errorf("invalid host %q (IPv6 addresses go in brackets: [::1]:6379)", h)
	}
	if host == "" || strings.ContainsAny(host, "[]@ ") {
		return "", fmt.Errorf("invalid host %q", h)
	}
	return net.JoinHostPort(host, defaultPort), nil
}

// goRedisURL renders the URL go-redis's ParseClusterURL and ParseFailoverURL expect: the first host,
// the others as addr options, no credentials (set on the options afterwards).
func (m *multiHost) goRedisURL(path string) string {
	q := url.Values{}
	for k, v := range m.query {
		q[k] = v
	}
	if len(m.hosts) > 1 {
		q["addr"] = append(slices.Clone(m.hosts[1:]), m.query["addr"]...)
	}
	u := url.URL{Scheme: "redis", Host: m.hosts[0], RawQuery: q.Encode()}
	if m.tls {
		u.Scheme = "rediss"
	}
	if path != "" {
		u.Path = "/" + path
	}
	return u.String()
}

// withoutURL drops the URL net/url puts into its errors, which may carry a password.
func withoutURL(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return fmt.Errorf("%s: %w", uerr.Op, uerr.Err)
	}
	return err
}

var secretOption = regexp.MustCompile(`((?:^|[?&])(?:sentinel_)?password=)[^&#]*`)

// RedactURL masks the passwords in a Redis URL of any form NewClient accepts (userinfo and the
// password and sentinel_password options), for error messages and logs.
func RedactURL(rawURL string) string {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		if strings.Contains(rawURL, "@") {
			return "(unparseable, hidden)"
		}
		return rawURL
	}
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	switch i := strings.LastIndexByte(authority, '@'); {
	case i >= 0:
		user, _, hasPassword := strings.Cut(authority[:i], ":")
		if hasPassword {
			authority = user + ":xxxxx" + authority[i:]
		} else {
			authority = "xxxxx" + authority[i:]
		}
	case strings.Contains(rest, "@"):
		// A password with an unencoded '/', '?' or '#': hide everything up to the last '@'.
		return scheme + "://xxxxx" + secretOption.ReplaceAllString(rest[strings.LastIndexByte(rest, '@'):], "${1}xxxxx")
	}
	return scheme + "://" + authority + secretOption.ReplaceAllString(tail, "${1}xxxxx")
}
