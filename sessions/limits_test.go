package sessions_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/openimis/imis-gateway/menus"
	"github.com/openimis/imis-gateway/sessions"
	"github.com/openimis/imis-gateway/sessions/redistest"
)

// The limiter is what the menus count look-ups with.
var _ menus.LookupLimiter = (*sessions.LookupLimiter)(nil)

func TestParseRates(t *testing.T) {
	tests := []struct {
		in   string
		want []sessions.Rate
	}{
		{"10/h,30/d", []sessions.Rate{{10, time.Hour}, {30, 24 * time.Hour}}},
		{" 5 / m ", []sessions.Rate{{5, time.Minute}}},
		{"3/15m,1/s", []sessions.Rate{{3, 15 * time.Minute}, {1, time.Second}}},
		{"off", nil},
		{"0", nil},
	}
	for _, tt := range tests {
		got, err := sessions.ParseRates(tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseRates(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "10", "10/", "/h", "0/h", "-1/h", "ten/h", "10/y", "10/1ms", "10/h,", "10/h;30/d"} {
		if got, err := sessions.ParseRates(bad); err == nil {
			t.Errorf("ParseRates(%q) = %v, want an error", bad, got)
		}
	}
	for _, r := range []sessions.Rate{{10, time.Hour}, {30, 24 * time.Hour}, {5, time.Minute}, {3, 15 * time.Minute}} {
		if back, err := sessions.ParseRates(r.String()); err != nil || !slices.Equal(back, []sessions.Rate{r}) {
			t.Errorf("%v: round trip %v, %v", r, back, err)
		}
	}
}

func TestLookupLimiter(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Client(t)
	limits := sessions.LookupLimits{
		Public:  []sessions.Rate{{3, time.Hour}, {5, 24 * time.Hour}},
		Officer: []sessions.Rate{{6, time.Hour}},
	}
	prefix := redistest.Prefix(t)
	// Two gateway instances sharing one Redis.
	one := sessions.NewLookupLimiter(rdb, limits, prefix)
	two := sessions.NewLookupLimiter(rdb, limits, prefix)

	allow := func(l *sessions.LookupLimiter, phone string, officer bool) (bool, time.Duration) {
		t.Helper()
		ok, retry, err := l.AllowLookup(ctx, phone, officer)
		if err != nil {
			t.Fatal(err)
		}
		return ok, retry
	}
	// Three an hour, whichever instance answers.
	for i, l := range []*sessions.LookupLimiter{one, two, one} {
		if ok, _ := allow(l, "+255700000001", false); !ok {
			t.Fatalf("look-up %d refused", i+1)
		}
	}
	ok, retry := allow(two, "+255700000001", false)
	if ok || retry < 19*time.Minute || retry > 20*time.Minute {
		t.Errorf("fourth look-up: %v, retry in %v; want refused, the next one in 20 minutes", ok, retry)
	}
	// Another phone has its own limit; the same phone as an officer too.
	if ok, _ := allow(one, "+255700000002", false); !ok {
		t.Error("another phone refused")
	}
	for i := range 6 {
		if ok, _ := allow(one, "+255700000001", true); !ok {
			t.Fatalf("officer look-up %d refused", i+1)
		}
	}
	if ok, _ := allow(one, "+255700000001", true); ok {
		t.Error("seventh officer look-up in the hour allowed")
	}
	// No limit configured: every look-up passes.
	open := sessions.NewLookupLimiter(rdb, sessions.LookupLimits{}, prefix)
	for range 10 {
		if ok, _ := allow(open, "+255700000001", false); !ok {
			t.Fatal("look-up refused without limits")
		}
	}
	// Every key the limiter wrote expires.
	keys, err := rdb.Keys(ctx, prefix+":*:lookups:*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys %v, %v", keys, err)
	}
	for _, k := range keys {
		if ttl := rdb.PTTL(ctx, k).Val(); ttl <= 0 || ttl > 24*time.Hour {
			t.Errorf("key %s: TTL %v", k, ttl)
		}
	}
}

func TestLookupLimiterDaily(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	l := sessions.NewLookupLimiter(rdb, sessions.LookupLimits{Public: []sessions.Rate{{3, time.Hour}, {4, 24 * time.Hour}}}, prefix)
	// Four look-ups spread so that the hourly rate never refuses (its state
	// is dropped, as an hour passing would): the fifth is refused by the
	// daily rate, for hours.
	hourly := prefix + ":{+255700000003}:lookups:public:3/h"
	for i := range 4 {
		if ok, _, err := l.AllowLookup(ctx, "+255700000003", false); !ok || err != nil {
			t.Fatalf("look-up %d refused: %v", i+1, err)
		}
		if err := rdb.Del(ctx, hourly).Err(); err != nil {
			t.Fatal(err)
		}
	}
	ok, retry, err := l.AllowLookup(ctx, "+255700000003", false)
	if err != nil || ok || retry < 5*time.Hour {
		t.Errorf("fifth look-up of the day: %v, retry %v, %v; want refused for hours", ok, retry, err)
	}
	// All or nothing: the refused look-up was not counted by the hourly
	// rate, which still allows three once the day is forgotten.
	if err := rdb.Del(ctx, prefix+":{+255700000003}:lookups:public:4/d").Err(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if ok, _, err := l.AllowLookup(ctx, "+255700000003", false); !ok || err != nil {
			t.Fatalf("look-up %d of a new day refused: %v", i+1, err)
		}
	}
}

func TestLookupLimiterRedisDown(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	l := sessions.NewLookupLimiter(rdb, sessions.LookupLimits{Public: sessions.DefaultPublicLookups}, "")
	if ok, _, err := l.AllowLookup(context.Background(), "+255700000001", false); ok || err == nil {
		t.Errorf("Redis down: %v, %v; want an error, never an allowed look-up", ok, err)
	}
}
