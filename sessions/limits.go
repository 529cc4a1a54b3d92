package sessions

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
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
// generic cell rate (redis_rate's GCRA): "10/h" allows 10 look-ups at once,
// then one more every 6 minutes. It implements menus.LookupLimiter.
//
// Keys, for +255712345678 under the default prefix (one per rate, on the
// phone's hash slot; redis_rate adds its own "rate:" in front):
//
//	rate:imisgw:{+255712345678}:lookups:public:10/h   the rate's state; it expires when full again
type LookupLimiter struct {
	lim    *redis_rate.Limiter
	limits LookupLimits
	prefix string
}

// NewLookupLimiter returns a limiter on rdb. prefix is the key prefix, by
// default DefaultPrefix (that of the sessions).
func NewLookupLimiter(rdb redis.UniversalClient, limits LookupLimits, prefix string) *LookupLimiter {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &LookupLimiter{lim: redis_rate.NewLimiter(rdb), limits: limits, prefix: prefix}
}

// AllowLookup counts one look-up by phone, against an officer's rates when
// officer is set, and reports whether every rate allows it; when not, retry
// is how long until the rate that refused allows the next one. A refused
// look-up is not counted by the rate that refused it (an earlier, shorter
// one may have counted it: the caller was near both limits anyway).
func (l *LookupLimiter) AllowLookup(ctx context.Context, phone string, officer bool) (bool, time.Duration, error) {
	kind, rates := "public", l.limits.Public
	if officer {
		kind, rates = "officer", l.limits.Officer
	}
	for _, r := range rates {
		key := l.prefix + ":{" + phone + "}:lookups:" + kind + ":" + r.String()
		res, err := l.lim.Allow(ctx, key, redis_rate.Limit{Rate: r.N, Burst: r.N, Period: r.Per})
		if err != nil {
			return false, 0, fmt.Errorf("sessions: look-up limit: %w", err)
		}
		if res.Allowed == 0 {
			return false, res.RetryAfter, nil
		}
	}
	return true, 0, nil
}
