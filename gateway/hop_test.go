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

// roundTrips counts the commands and pipelines a Redis client sends for
// hops. A Cluster client's own reloads of the slot map (CLUSTER SLOTS, sent
// on a node's client when its map is old or a node did not answer, as on a
// loaded machine) are go-redis's, not a hop's, and are not counted.
type roundTrips struct{ n atomic.Int64 }

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() != "cluster" {
			h.n.Add(1)
		}
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
// hop, from memory, is one; the first hop of a session without a route adds
// the read of its caller's resume point; a stale memory, a refusal, a step
// that writes and a pre-dialled route go the locked way. A hop that writes its
// caller's resume point sends it in the round trip of its save (pipelined);
// on Redis Cluster the point's key may live on another master, which the
// pipeline reaches at the same time: a second round trip, in parallel.
func TestRedisRoundTripsPerHop(t *testing.T) {
	rdbA, countA := countingClient(t)
	rdbB, countB := countingClient(t)
	a := newGateway(t, harness{redis: rdbA})
	b := newGateway(t, harness{redis: rdbB, databaseURL: a.databaseURL, prefix: a.prefix})
	ctx := context.Background()
	tooLong := strings.Repeat("1*", 1100)
	// apart is the round trip a resume point's write adds to a save of
	// session: one on Redis Cluster when the two keys live on two masters.
	apart := func(session string) int64 {
		cluster, ok := rdbA.(*sessions.Client).UniversalClient.(*redis.ClusterClient)
		if !ok {
			return 0
		}
		save, err1 := cluster.MasterForKey(ctx, a.prefix+":{africastalking:"+session+"}:s")
		point, err2 := cluster.MasterForKey(ctx, a.prefix+":{"+headA+"}:resume:*384*1234#")
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if save.String() == point.String() {
			return 0
		}
		return 1
	}

	// The scenario runs twice: the first run fills Redis's script cache,
	// the second is counted. A caller's language costs no round trip.
	for _, run := range []string{"warm", "counted"} {
		s, fresh, dropped, resumed := "ATUid_rt_"+run, "ATUid_rt_fresh_"+run, "ATUid_rt_dropped_"+run, "ATUid_rt_resumed_"+run
		hubtel, nalo := phone(t, a, "hubtel"), phone(t, a, "nalo")
		must := screenOf(t)
		steps := []struct {
			name string
			hop  func()
			want int64
		}{
			{"AT first hop: the resume point read, a compare-and-set (the language is in memory)", func() { mustCON(t, a.hop(s, stranger, "")) }, 2},
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
			{"AT another caller's first hop", func() { mustCON(t, a.hop(dropped, headA, "")) }, 2},
			{"AT claim status, from memory", func() { mustCON(t, a.hop(dropped, headA, "2")) }, 1},
			{"AT list of claims from memory: the resume point kept with the save", func() {
				if list := mustCON(t, a.hop(dropped, headA, "2*101203401")); !strings.Contains(list, "Latest 5 claims") {
					t.Errorf("list of claims: %q", list)
				}
			}, 1 + apart(dropped)},
			{"AT next session: the resume point read, the offer compare-and-set", func() { mustCON(t, a.hop(resumed, headA, "")) }, 2},
			{"AT offer answered from memory: the resume point kept with the save", func() {
				if list := mustCON(t, a.hop(resumed, headA, "1")); !strings.Contains(list, "Latest 5 claims") {
					t.Errorf("resumed list of claims: %q", list)
				}
			}, 1 + apart(resumed)},
			{"AT main menu from memory: the resume point forgotten with the save", func() {
				if menu := mustCON(t, a.hop(resumed, headA, "1*00")); !strings.Contains(menu, "1. Check membership") {
					t.Errorf("main menu: %q", menu)
				}
			}, 1 + apart(resumed)},
			{"AT transcript too long", func() { mustEND(t, a.hop(fresh, stranger, tooLong)) }, 1},
			{"Hubtel start: the resume point read, a compare-and-set", func() { must(hubtel.Dial(ctx, "")) }, 2},
			{"Hubtel retried start", func() { must(hubtel.Retry(ctx)) }, 1},
			{"Hubtel hop from memory", func() { must(hubtel.Send(ctx, "1")) }, 1},
			{"Hubtel start with a pre-dialled route", func() { must(hubtel.Dial(ctx, "1*0")) }, 2},
			{"Nalo start: the resume point read, a compare-and-set", func() { must(nalo.Dial(ctx, "")) }, 2},
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
