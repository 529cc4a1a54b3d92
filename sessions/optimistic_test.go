package sessions_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/sessions"
	"github.com/openimis/imis-gateway/sessions/redistest"
)

// instances returns two Stores on the same Redis keys: two gateway processes.
func instances(t *testing.T) (*fixture, *sessions.Store) {
	t.Helper()
	f := newFixture(t, sessions.Options{})
	return f, sessions.New(f.rdb, sessions.Options{Prefix: f.prefix})
}

// optimisticHop answers one hop from an optimistic lease, as the gateway does.
func optimisticHop(t *testing.T, s *sessions.Store, id, key string, start bool) (*sessions.Tx, error) {
	t.Helper()
	l, ok := s.Optimistic("at", id, key, false, start)
	if !ok {
		t.Fatalf("hop %q: no optimistic lease", key)
	}
	rec := l.Record
	rec.LastKey = l.Key
	rec.Hops++
	rec.Reply = fmt.Appendf(nil, "CON hop %d", rec.Hops)
	return l, s.Save(testContext(t), l, rec)
}

func TestOptimisticHopsTakeOneRoundTripEach(t *testing.T) {
	s, counter := countingStore(t)
	// Warm Redis's script cache (the first EVALSHA falls back to EVAL).
	if _, err := optimisticHop(t, s, "warm", "", true); err != nil {
		t.Fatal(err)
	}

	before := counter.n.Load()
	if _, ok := s.Optimistic("at", "s", "", false, false); ok {
		t.Fatal("an optimistic lease on a session this process never saw, for a hop not marked as a start")
	}
	l, err := optimisticHop(t, s, "s", "", true)
	if err != nil || l.Found {
		t.Fatalf("start: found %v, err %v", l.Found, err)
	}
	for i, key := range []string{"1", "1*2"} {
		l, err := optimisticHop(t, s, "s", key, false)
		if err != nil || !l.Found || l.Record.Hops != i+1 {
			t.Fatalf("hop %q: %+v, %v", key, l.Record, err)
		}
	}
	if got := counter.n.Load() - before; got != 3 {
		t.Errorf("three optimistic hops took %d round trips, want 3", got)
	}
	// Redis holds what the hops saved: the locked way sees it.
	l, err = s.Acquire(testContext(t), "at", "s", "1*2")
	if err != nil || !l.Replay || string(l.Record.Reply) != "CON hop 3" {
		t.Fatalf("replay of the last hop: %+v, %v", l, err)
	}
}

func TestOptimisticLeaseIsRefusedWhenItCouldBeAReplay(t *testing.T) {
	f, _ := instances(t)
	if _, err := optimisticHop(t, f.store, "s", "", true); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.store.Optimistic("at", "s", "", false, true); ok {
		t.Error("a retried start got an optimistic lease: replays come from Redis")
	}
	// Counted keys derive from the hops answered, as AcquireCounted's do.
	l, ok := f.store.Optimistic("at", "s", "98", true, false)
	if !ok || l.Key != "n:1:98" {
		t.Fatalf("counted key: %+v, %v", l, ok)
	}
}

// TestOptimisticSaveConflicts: whenever the session is not as this process
// left it, an optimistic Save stores nothing and says ErrConflict; the locked
// way then answers from what Redis holds.
func TestOptimisticSaveConflicts(t *testing.T) {
	ctx := testContext(t)
	for name, interfere := range map[string]func(t *testing.T, other *sessions.Store){
		"another instance answered a hop": func(t *testing.T, other *sessions.Store) {
			l, err := other.Acquire(ctx, "at", "s", "1")
			if err != nil {
				t.Fatal(err)
			}
			if err := other.Save(ctx, l, sessions.Record{LastKey: "1", Hops: 2, Reply: []byte("CON there")}); err != nil {
				t.Fatal(err)
			}
		},
		"another instance holds the lock": func(t *testing.T, other *sessions.Store) {
			if _, err := other.Acquire(ctx, "at", "s", "1"); err != nil {
				t.Fatal(err)
			}
		},
		"the session ended": func(t *testing.T, other *sessions.Store) {
			if err := other.End(ctx, "at", "s"); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			f, other := instances(t)
			if _, err := optimisticHop(t, f.store, "s", "", true); err != nil {
				t.Fatal(err)
			}
			interfere(t, other)
			want, _ := f.rdb.HGetAll(ctx, f.sessionKey("s")).Result()

			if _, err := optimisticHop(t, f.store, "s", "1", false); !errors.Is(err, sessions.ErrConflict) {
				t.Fatalf("save over a changed session: %v, want ErrConflict", err)
			}
			if got, _ := f.rdb.HGetAll(ctx, f.sessionKey("s")).Result(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("a conflicting save changed the session:\n got %v\nwant %v", got, want)
			}
			// The conflict also forgot the guess: the next try goes the locked way.
			if _, ok := f.store.Optimistic("at", "s", "1", false, false); ok {
				t.Error("an optimistic lease right after a conflict")
			}
		})
	}
}

func TestOptimisticStartOfAnExistingSessionConflicts(t *testing.T) {
	f, other := instances(t)
	if _, err := optimisticHop(t, other, "s", "", true); err != nil {
		t.Fatal(err)
	}
	// This instance never saw the session: a start marked by the aggregator
	// is guessed new, and the guess fails.
	if _, err := optimisticHop(t, f.store, "s", "", true); !errors.Is(err, sessions.ErrConflict) {
		t.Fatalf("optimistic start over an existing session: %v, want ErrConflict", err)
	}
}

// TestConcurrentOptimisticHopsStoreOnce: copies of one hop racing from the
// same guess: exactly one stores; the others conflict.
func TestConcurrentOptimisticHopsStoreOnce(t *testing.T) {
	f, _ := instances(t)
	if _, err := optimisticHop(t, f.store, "s", "", true); err != nil {
		t.Fatal(err)
	}
	leases := make([]*sessions.Tx, 20)
	for i := range leases {
		l, ok := f.store.Optimistic("at", "s", "1", false, false)
		if !ok {
			t.Fatal("no optimistic lease")
		}
		leases[i] = l
	}
	var (
		wg                  sync.WaitGroup
		mu                  sync.Mutex
		stored, conflicting int
	)
	for i, l := range leases {
		wg.Go(func() {
			err := f.store.Save(testContext(t), l, sessions.Record{LastKey: "1", Hops: 2, Reply: fmt.Appendf(nil, "copy %d", i)})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				stored++
			case errors.Is(err, sessions.ErrConflict):
				conflicting++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if stored != 1 || conflicting != len(leases)-1 {
		t.Errorf("%d stored, %d conflicted; want 1 and %d", stored, conflicting, len(leases)-1)
	}
}

func TestOptimisticHopsCanBeTurnedOff(t *testing.T) {
	f := newFixture(t, sessions.Options{Recent: -1})
	if _, ok := f.store.Optimistic("at", "s", "", false, true); ok {
		t.Fatal("an optimistic start with Recent < 0")
	}
	if _, _, err := f.hop(testContext(t), "s", ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.store.Optimistic("at", "s", "1", false, false); ok {
		t.Fatal("an optimistic hop with Recent < 0")
	}
}

// TestNoOptimisticHopsWhileRedisFails: once a call finds Redis gone, hops go
// the locked way, which fails at its first call, until Redis answers again.
func TestNoOptimisticHopsWhileRedisFails(t *testing.T) {
	srv := redistest.StartServer(t)
	rdb, err := sessions.NewClient(srv.URL() + "?dial_timeout=200ms&max_retries=-1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	s := sessions.New(rdb, sessions.Options{})
	if _, err := optimisticHop(t, s, "s", "", true); err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	if _, err := optimisticHop(t, s, "s", "1", false); err == nil || errors.Is(err, sessions.ErrConflict) {
		t.Fatalf("save with Redis down: %v", err)
	}
	if _, ok := s.Optimistic("at", "other", "", false, true); ok {
		t.Fatal("an optimistic lease while Redis is down")
	}

	srv.Start()
	l, err := s.Acquire(testContext(t), "at", "s", "1")
	if err != nil {
		t.Fatalf("acquire after Redis came back: %v", err)
	}
	if err := s.Release(testContext(t), l); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Optimistic("at", "other", "", false, true); !ok {
		t.Error("no optimistic lease once Redis answers again")
	}
}

// TestCountedCopyRacingFromMemoryIsReplayed: two copies of a counted hop
// ("98", no key of the aggregator's) start from the same memory; the second
// to save conflicts and, taken the locked way, is replayed, although the
// session's count has moved on.
func TestCountedCopyRacingFromMemoryIsReplayed(t *testing.T) {
	f, _ := instances(t)
	ctx := testContext(t)
	start, ok := f.store.Optimistic("at", "s", "", true, true)
	if !ok {
		t.Fatal("no optimistic start")
	}
	if err := f.store.Save(ctx, start, sessions.Record{LastKey: start.Key, Hops: 1, Reply: []byte("menu")}); err != nil {
		t.Fatal(err)
	}
	var copies [2]*sessions.Tx
	for i := range copies {
		if copies[i], ok = f.store.Optimistic("at", "s", "98", true, false); !ok || copies[i].Key != "n:1:98" {
			t.Fatalf("copy %d: %+v", i, copies[i])
		}
	}
	if err := f.store.Save(ctx, copies[0], sessions.Record{LastKey: copies[0].Key, Hops: 2, Reply: []byte("page 2")}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Save(ctx, copies[1], sessions.Record{LastKey: copies[1].Key, Hops: 2, Reply: []byte("page 2 again")}); !errors.Is(err, sessions.ErrConflict) {
		t.Fatalf("second copy: %v, want ErrConflict", err)
	}
	l, err := copies[1], f.store.Lock(ctx, copies[1])
	if err != nil || !l.Replay || string(l.Record.Reply) != "page 2" {
		t.Fatalf("second copy the locked way: %+v, %v; want the replay of page 2", l, err)
	}
	// The user typing "98" again is a new hop.
	again, err := f.store.AcquireCounted(ctx, "at", "s", "98")
	if err != nil || again.Replay || again.Key != "n:2:98" {
		t.Fatalf("repeated input: %+v %v", again, err)
	}
	if err := f.store.Release(ctx, again); err != nil {
		t.Fatal(err)
	}
}

// TestCommitRefusesARecordSavedWithoutRevision: during an upgrade, a gateway
// of the earlier release saves hops without touching the revision; the count
// of hops still tells this one that its memory is stale.
func TestCommitRefusesARecordSavedWithoutRevision(t *testing.T) {
	f, _ := instances(t)
	ctx := testContext(t)
	if _, err := optimisticHop(t, f.store, "s", "", true); err != nil {
		t.Fatal(err)
	}
	if err := f.rdb.HSet(ctx, f.sessionKey("s"), "k", "1", "r", `{"k":"1","h":2}`, "h", 2).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := optimisticHop(t, f.store, "s", "1", false); !errors.Is(err, sessions.ErrConflict) {
		t.Fatalf("commit over a hop saved by an earlier release: %v, want ErrConflict", err)
	}
}

// TestDeliberateRepeatOnAStaleInstanceIsANewHop: the user presses "98"
// twice; the first went to another instance, the second reaches one whose
// memory predates the first. It is a new hop, not a copy: only a save made
// from the same memory makes the locked way replay it.
func TestDeliberateRepeatOnAStaleInstanceIsANewHop(t *testing.T) {
	f, other := instances(t)
	ctx := testContext(t)
	start, _ := f.store.Optimistic("at", "s", "", true, true)
	if err := f.store.Save(ctx, start, sessions.Record{LastKey: start.Key, Hops: 1, Reply: []byte("menu")}); err != nil {
		t.Fatal(err)
	}
	first, err := other.AcquireCounted(ctx, "at", "s", "98")
	if err != nil || first.Key != "n:1:98" {
		t.Fatalf("first 98 on the other instance: %+v %v", first, err)
	}
	if err := other.Save(ctx, first, sessions.Record{LastKey: first.Key, Hops: 2, Reply: []byte("page 2")}); err != nil {
		t.Fatal(err)
	}
	second, ok := f.store.Optimistic("at", "s", "98", true, false)
	if !ok || second.Key != "n:1:98" {
		t.Fatalf("second 98 from a stale memory: %+v", second)
	}
	if err := f.store.Save(ctx, second, sessions.Record{LastKey: second.Key, Hops: 2}); !errors.Is(err, sessions.ErrConflict) {
		t.Fatalf("save from a stale memory: %v, want ErrConflict", err)
	}
	l, err := second, f.store.Lock(ctx, second)
	if err != nil || l.Replay || l.Key != "n:2:98" {
		t.Fatalf("second 98 the locked way: %+v, %v; want a new hop n:2:98", l, err)
	}
	if err := f.store.Release(ctx, l); err != nil {
		t.Fatal(err)
	}
}

// TestAHangingRedisCountsAsFailing: a Redis that accepts connections but
// never answers is failing, as one that refuses them; a hop that gives up
// first (its own deadline) says nothing about Redis.
func TestAHangingRedisCountsAsFailing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() }) // accepts nothing: the kernel completes the handshakes
	rdb, err := sessions.NewClient("redis://" + ln.Addr().String() + "/0?read_timeout=300ms&max_retries=-1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	s := sessions.New(rdb, sessions.Options{})

	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Acquire(short, "at", "s", ""); err == nil {
		t.Fatal("acquire from a Redis that never answers")
	}
	if _, ok := s.Optimistic("at", "s", "", false, true); !ok {
		t.Fatal("a hop that gave up marked Redis as failing")
	}
	if _, err := s.Acquire(context.Background(), "at", "s", ""); err == nil {
		t.Fatal("acquire from a Redis that never answers")
	}
	if _, ok := s.Optimistic("at", "s", "", false, true); ok {
		t.Fatal("an optimistic lease after Redis timed out")
	}
}
