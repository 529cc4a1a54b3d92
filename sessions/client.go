package sessions

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
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
// options. Other options are go-redis's, in snake case: dial_timeout, read_timeout, write_timeout
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
func NewClient(rawURL string) (redis.UniversalClient, error) {
	scheme, _, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, fmt.Errorf("redis URL %q: want redis://, rediss://, unix://, redis+cluster:// or redis+sentinel://", RedactURL(rawURL))
	}
	var (
		rdb redis.UniversalClient
		err error
	)
	switch scheme {
	case "redis", "rediss", "unix":
		var o *redis.Options
		if o, err = parseStandalone(rawURL); err == nil {
			rdb = redis.NewClient(o)
		}
	case "redis+cluster", "rediss+cluster":
		var o *redis.ClusterOptions
		if o, err = parseCluster(rawURL); err == nil {
			rdb = redis.NewClusterClient(o)
		}
	case "redis+sentinel", "rediss+sentinel":
		var o *redis.FailoverOptions
		if o, err = parseSentinel(rawURL); err == nil {
			rdb = redis.NewFailoverClient(o)
		}
	default:
		err = fmt.Errorf("unknown scheme %q: want redis, rediss, unix, redis+cluster, rediss+cluster, redis+sentinel or rediss+sentinel", scheme)
	}
	if err != nil {
		return nil, fmt.Errorf("redis URL %s: %w", RedactURL(rawURL), withoutURL(err))
	}
	return rdb, nil
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
