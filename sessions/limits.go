package sessions

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Rate is a number of events per period, as in "10/h".
type Rate struct {
	N   int
	Per time.Duration
}

func (r Rate) String() string {
	switch r.Per {
	case time.Minute:
		return strconv.Itoa(r.N) + "/m"
	case time.Hour:
		return strconv.Itoa(r.N) + "/h"
	case 24 * time.Hour:
		return strconv.Itoa(r.N) + "/d"
	}
	return strconv.Itoa(r.N) + "/" + r.Per.String()
}

// ParseRates reads a comma-separated list of rates: "10/h,30/d". A period
// is s, m, h or d (a day of 24 hours), or a Go duration such as 15m. "off"
// (or "0") is no limit: nil and no error.
func ParseRates(s string) ([]Rate, error) {
	s = strings.TrimSpace(s)
	if s == "off" || s == "0" {
		return nil, nil
	}
	var rates []Rate
	for part := range strings.SplitSeq(s, ",") {
		count, period, ok := strings.Cut(strings.TrimSpace(part), "/")
		n, err := strconv.Atoi(strings.TrimSpace(count))
		if !ok || err != nil || n <= 0 {
			return nil, fmt.Errorf("%q: want a count per period, such as 10/h,30/d (or off)", s)
		}
		per, err := parsePeriod(strings.TrimSpace(period))
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		rates = append(rates, Rate{N: n, Per: per})
	}
	return rates, nil
}

func parsePeriod(p string) (time.Duration, error) {
	switch p {
	case "s":
		return time.Second, nil
	case "m":
		return time.Minute, nil
	case "h":
		return time.Hour, nil
	case "d":
		return 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(p)
	if err != nil || d < time.Second {
		return 0, fmt.Errorf("period %q: want s, m, h, d or a duration of a second or more", p)
	}
	return d, nil
}

// LookupLimits are the rates a phone's look-ups must stay within, each of
// them: a member of the public's, and a registered enrolment officer's.
type LookupLimits struct {
	Public, Officer []Rate
}

// Default look-up limits: a member of the public checks a few numbers
// outside the family; an officer works with the families of other areas
// now and then.
var (
	DefaultPublicLookups  = []Rate{{10, time.Hour}, {30, 24 * time.Hour}}
	DefaultOfficerLookups = []Rate{{100, time.Hour}, {500, 24 * time.Hour}}
)

// LookupLimiter counts each phone's look-ups in Redis, so that a limit holds
// across USSD and SMS, sessions and gateway instances. Each rate is a
// generic cell rate (GCRA): "10/h" allows 10 look-ups at once, then one more
// every 6 minutes. It implements menus.LookupLimiter.
//
// Every rate of a phone is decided in one round trip and all or nothing: a
// look-up is counted by every rate or by none. (go-redis/redis_rate, which
// this follows, decides one rate per round trip and counts a look-up that a
// later rate refuses; a look-up is a hop, and each round trip is a fifth of
// its cost.)
//
// Keys, for +255712345678 under the default prefix (one per rate, on the
// phone's hash slot):
//
//	imisgw:{+255712345678}:lookups:public:10/h   the rate's theoretical arrival time; it expires when full again
type LookupLimiter struct {
	rdb    redis.UniversalClient
	limits LookupLimits
	prefix string
}

// NewLookupLimiter returns a limiter on rdb. prefix is the key prefix, by
// default DefaultPrefix (that of the sessions).
func NewLookupLimiter(rdb redis.UniversalClient, limits LookupLimits, prefix string) *LookupLimiter {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &LookupLimiter{rdb: rdb, limits: limits, prefix: prefix}
}

// gcraScript: KEYS = one per rate; ARGV = for each rate its emission interval
// (seconds a look-up adds) and its burst offset (emission interval × count),
// in KEYS' order. Time is Redis's own, in seconds since 2017 (as redis_rate,
// so that a double keeps microseconds). Returns {1, 0} when every rate
// allows one more look-up, which is then counted by each; {0, wait in
// microseconds} otherwise, the longest wait of the rates that refuse, and
// nothing is counted.
var gcraScript = redis.NewScript(`
local t = redis.call('TIME')
local now = (tonumber(t[1]) - 1483228800) + tonumber(t[2]) / 1000000
local news = {}
local wait = 0
for i, key in ipairs(KEYS) do
	local interval = tonumber(ARGV[2*i-1])
	local burst = tonumber(ARGV[2*i])
	local tat = tonumber(redis.call('GET', key) or now)
	if tat < now then tat = now end
	local new = tat + interval
	local allow_at = new - burst
	if allow_at > now and allow_at - now > wait then wait = allow_at - now end
	news[i] = new
end
if wait > 0 then
	return {0, math.ceil(wait * 1000000)}
end
for i, key in ipairs(KEYS) do
	redis.call('SET', key, tostring(news[i]), 'EX', math.ceil(news[i] - now))
end
return {1, 0}
`)

// AllowLookup counts one look-up by phone, against an officer's rates when
// officer is set, and reports whether every rate allows it; when not, retry
// is how long until they all do, and nothing is counted.
func (l *LookupLimiter) AllowLookup(ctx context.Context, phone string, officer bool) (bool, time.Duration, error) {
	kind, rates := "public", l.limits.Public
	if officer {
		kind, rates = "officer", l.limits.Officer
	}
	if len(rates) == 0 {
		return true, 0, nil
	}
	keys := make([]string, len(rates))
	args := make([]any, 0, 2*len(rates))
	for i, r := range rates {
		keys[i] = l.prefix + ":{" + phone + "}:lookups:" + kind + ":" + r.String()
		interval := r.Per.Seconds() / float64(r.N)
		args = append(args, strconv.FormatFloat(interval, 'f', -1, 64), strconv.FormatFloat(interval*float64(r.N), 'f', -1, 64))
	}
	res, err := gcraScript.Run(ctx, l.rdb, keys, args...).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("sessions: look-up limit: %w", err)
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("sessions: look-up limit: unexpected answer %v", res)
	}
	return res[0] == 1, time.Duration(res[1]) * time.Microsecond, nil
}
