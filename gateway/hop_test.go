package gateway_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/openimis/imis-gateway/sessions"
	"github.com/openimis/imis-gateway/sessions/redistest"
)

// roundTrips counts the commands and pipelines a Redis client sends.
type roundTrips struct{ n atomic.Int64 }

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}
func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// countingClient is a client of the test Redis whose round trips are counted.
func countingClient(t *testing.T) (redis.UniversalClient, *roundTrips) {
	t.Helper()
	rdb, err := sessions.NewClient(redistest.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	counter := &roundTrips{}
	if cluster, ok := rdb.UniversalClient.(*redis.ClusterClient); ok {
		// Counted on the nodes: saves that wait for a replica go to their
		// master's client directly.
		cluster.OnNewNode(func(node *redis.Client) { node.AddHook(counter) })
	} else {
		rdb.AddHook(counter)
	}
	return rdb, counter
}

// TestRedisRoundTripsPerHop counts what each way through the hop pipeline
// costs in Redis round trips, on two instances of one deployment: the usual
// hop, from memory, is one; the first hop of a session adds the caller's
// language (cached in Redis); a stale memory, a refusal, a step that writes
// and a pre-dialled route go the locked way.
func TestRedisRoundTripsPerHop(t *testing.T) {
	rdbA, countA := countingClient(t)
	rdbB, countB := countingClient(t)
	a := newGateway(t, harness{redis: rdbA})
	b := newGateway(t, harness{redis: rdbB, databaseURL: a.databaseURL, prefix: a.prefix})
	ctx := context.Background()
	tooLong := strings.Repeat("1*", 1100)

	// The scenario runs twice: the first run fills Redis's script cache,
	// the second is counted. A caller's language costs no round trip.
	for _, run := range []string{"warm", "counted"} {
		s, fresh := "ATUid_rt_"+run, "ATUid_rt_fresh_"+run
		hubtel, nalo := phone(t, a, "hubtel"), phone(t, a, "nalo")
		must := screenOf(t)
		steps := []struct {
			name string
			hop  func()
			want int64
		}{
			{"AT first hop: a compare-and-set (the language is in memory)", func() { mustCON(t, a.hop(s, stranger, "")) }, 1},
			{"AT retry: replay", func() { mustCON(t, a.hop(s, stranger, "")) }, 1},
			{"AT hop from memory", func() { mustCON(t, a.hop(s, stranger, "1")) }, 1},
			{"AT hop on an instance that never saw the session", func() { mustCON(t, b.hop(s, stranger, "1*0")) }, 2},
			{"AT hop from a stale memory: conflict, then locked", func() { mustCON(t, a.hop(s, stranger, "1*0*1")) }, 3},
			{"AT divergent hop from memory: refused the locked way", func() { mustEND(t, a.hop(s, stranger, "2*5")) }, 2},
			{"AT back, from memory", func() { mustCON(t, a.hop(s, stranger, "1*0*1*0")) }, 1},
			{"AT language menu, from memory", func() { mustCON(t, a.hop(s, stranger, "1*0*1*0*3")) }, 1},
			{"AT language chosen: a step that writes, locked", func() { mustCON(t, a.hop(s, stranger, "1*0*1*0*3*1")) }, 2},
			{"AT end of session", func() {
				a.post("/ussd/africastalking/"+token+"/events", "application/x-www-form-urlencoded", "sessionId="+s+"&status=Success")
			}, 1},
			{"AT pre-dialled route", func() { mustCON(t, a.hop(fresh, stranger, "1*0")) }, 2},
			{"AT transcript too long", func() { mustEND(t, a.hop(fresh, stranger, tooLong)) }, 1},
			{"Hubtel start", func() { must(hubtel.Dial(ctx, "")) }, 1},
			{"Hubtel retried start", func() { must(hubtel.Retry(ctx)) }, 1},
			{"Hubtel hop from memory", func() { must(hubtel.Send(ctx, "1")) }, 1},
			{"Hubtel start with a pre-dialled route", func() { must(hubtel.Dial(ctx, "1*0")) }, 2},
			{"Nalo start", func() { must(nalo.Dial(ctx, "")) }, 1},
			{"Nalo counted hop from memory", func() { must(nalo.Send(ctx, "1")) }, 1},
			{"Nalo retry after the answer: a new hop from memory", func() { must(nalo.Retry(ctx)) }, 1},
			{"Hubtel end of session", func() {
				if err := hubtel.Hangup(ctx); err != nil {
					t.Fatal(err)
				}
			}, 1},
		}
		for _, step := range steps {
			before := countA.n.Load() + countB.n.Load()
			step.hop()
			if got := countA.n.Load() + countB.n.Load() - before; run == "counted" && got != step.want {
				t.Errorf("%s: %d round trips, want %d", step.name, got, step.want)
			}
		}
	}
}
