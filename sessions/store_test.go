package sessions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/sessions"
	"github.com/openimis/imis-gateway/sessions/redistest"
)

// fixture is a Store under a test-unique prefix with direct access to its keys.
type fixture struct {
	rdb    redis.UniversalClient
	store  *sessions.Store
	prefix string
}

func newFixture(t *testing.T, opt sessions.Options) *fixture {
	t.Helper()
	f := &fixture{rdb: redistest.Client(t), prefix: redistest.Prefix(t)}
	opt.Prefix = f.prefix
	f.store = redistest.NewStore(t, f.rdb, opt)
	return f
}

func (f *fixture) sessionKey(id string) string { return f.prefix + ":{at:" + id + "}:s" }
func (f *fixture) lockKey(id string) string    { return f.prefix + ":{at:" + id + "}:l" }

func (f *fixture) locked(t *testing.T, id string) bool {
	t.Helper()
	n, err := f.rdb.Exists(context.Background(), f.lockKey(id)).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// hop plays one navigation hop the way the gateway does: acquire, and unless it is a replay, answer
// and save. It returns the reply the caller would send.
func (f *fixture) hop(ctx context.Context, id, key string) (reply []byte, advanced bool, err error) {
	l, err := f.store.Acquire(ctx, "at", id, key)
	if err != nil {
		return nil, false, err
	}
	if l.Replay {
		return l.Record.Reply, false, nil
	}
	rec := l.Record
	if !l.Found {
		rec = sessions.Record{Provider: "at", Phone: "+255700000001", ServiceCode: "*384*1#"}
	}
	rec.LastKey, rec.Transcript = key, key
	rec.Hops++
	rec.Reply = fmt.Appendf(nil, "CON hop %d for %q", rec.Hops, key)
	if err := f.store.Save(ctx, l, rec); err != nil {
		return nil, false, err
	}
	return rec.Reply, true, nil
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// lockFree reports whether a hop with a never-answered key gets the session's lock at once.
func (f *fixture) lockFree(t *testing.T, id string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	l, err := f.store.Acquire(ctx, "at", id, "probe-never-answered")
	if errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if err != nil {
		t.Fatalf("probe acquire: %v", err)
	}
	if err := f.store.Release(context.Background(), l); err != nil {
		t.Fatalf("probe release: %v", err)
	}
	return true
}

func TestAcquire(t *testing.T) {
	state := json.RawMessage(`{"menu":"renew.amount","chfid":"070707070"}`)
	saved := sessions.Record{
		Provider: "at", Phone: "+255700000001", ServiceCode: "*384*1#",
		Transcript: "1*070707070", LastKey: "1*070707070",
		Reply: []byte("CON Amount due: 10,000 TZS\n\x00\xff binary-safe \r\n"), Hops: 2, Lang: "sw", State: state,
	}
	firstHop := sessions.Record{Provider: "at", LastKey: "", Reply: []byte("CON Welcome"), Hops: 1}

	tests := []struct {
		name       string
		saved      *sessions.Record // stored before the hop, nil for none
		key        string
		wantFound  bool
		wantReplay bool
		want       sessions.Record
	}{
		{name: "new session", key: "", wantFound: false},
		{name: "new session, first key not empty", key: "1", wantFound: false},
		{name: "same key replays", saved: &saved, key: "1*070707070", wantFound: true, wantReplay: true, want: saved},
		{name: "new key advances", saved: &saved, key: "1*070707070*5000", wantFound: true, want: saved},
		{name: "previous key is not replayed", saved: &saved, key: "1", wantFound: true, want: saved},
		{name: "empty first-hop key replays", saved: &firstHop, key: "", wantFound: true, wantReplay: true, want: firstHop},
	}
	f := newFixture(t, sessions.Options{})
	ctx := testContext(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "s" + strconv.Itoa(i)
			if tt.saved != nil {
				l, err := f.store.Acquire(ctx, "at", id, "setup")
				if err != nil {
					t.Fatal(err)
				}
				if err := f.store.Save(ctx, l, *tt.saved); err != nil {
					t.Fatal(err)
				}
			}

			l, err := f.store.Acquire(ctx, "at", id, tt.key)
			if err != nil {
				t.Fatalf("Acquire: %v", err)
			}
			if l.Found != tt.wantFound || l.Replay != tt.wantReplay {
				t.Fatalf("Found, Replay = %v, %v; want %v, %v", l.Found, l.Replay, tt.wantFound, tt.wantReplay)
			}
			if !equalRecords(l.Record, tt.want) {
				t.Errorf("record = %+v\nwant %+v", l.Record, tt.want)
			}
			if tt.wantReplay && !bytes.Equal(l.Record.Reply, tt.saved.Reply) {
				t.Errorf("replayed %q, want %q", l.Record.Reply, tt.saved.Reply)
			}
			wantLocked := !tt.wantReplay
			if got := f.locked(t, id); got != wantLocked {
				t.Errorf("lock key exists = %v, want %v", got, wantLocked)
			}
			if got := f.lockFree(t, id); got == wantLocked {
				t.Errorf("another hop got the lock at once = %v, want %v", got, !wantLocked)
			}

			// Releasing gives the lock back and leaves the record as it was.
			if err := f.store.Release(ctx, l); err != nil {
				t.Fatalf("Release: %v", err)
			}
			if !f.lockFree(t, id) {
				t.Error("lock still held after Release")
			}
			again, err := f.store.Acquire(ctx, "at", id, "another")
			if err != nil {
				t.Fatal(err)
			}
			defer f.store.Release(ctx, again)
			if again.Found != tt.wantFound || !equalRecords(again.Record, tt.want) {
				t.Errorf("after Release: Found %v, record %+v; want %v, %+v", again.Found, again.Record, tt.wantFound, tt.want)
			}
		})
	}
}

func equalRecords(a, b sessions.Record) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func TestSaveThenAcquire(t *testing.T) {
	f := newFixture(t, sessions.Options{})
	ctx := testContext(t)

	reply1, advanced, err := f.hop(ctx, "s", "")
	if err != nil || !advanced {
		t.Fatalf("first hop: advanced %v, err %v", advanced, err)
	}
	if f.locked(t, "s") {
		t.Fatal("lock held after Save")
	}
	replay, advanced, err := f.hop(ctx, "s", "")
	if err != nil || advanced || !bytes.Equal(replay, reply1) {
		t.Fatalf("retried first hop: reply %q, advanced %v, err %v; want %q replayed", replay, advanced, err, reply1)
	}
	if _, advanced, err := f.hop(ctx, "s", "1"); err != nil || !advanced {
		t.Fatalf("second hop: advanced %v, err %v", advanced, err)
	}
	l, err := f.store.Acquire(ctx, "at", "s", "1*2")
	if err != nil {
		t.Fatal(err)
	}
	defer f.store.Release(ctx, l)
	if l.Record.Hops != 2 || l.Record.LastKey != "1" || l.Record.Phone != "+255700000001" {
		t.Fatalf("record after two hops: %+v", l.Record)
	}
}

func TestTTL(t *testing.T) {
	const ttl = 3 * time.Second
	f := newFixture(t, sessions.Options{TTL: ttl, LockTTL: 2 * time.Second})
	ctx := testContext(t)

	l, err := f.store.Acquire(ctx, "at", "s", "")
	if err != nil {
		t.Fatal(err)
	}
	if d := f.rdb.PTTL(ctx, f.lockKey("s")).Val(); d <= time.Second || d > 2*time.Second {
		t.Errorf("lock PTTL = %v, want (1s, 2s]", d)
	}
	if err := f.store.Save(ctx, l, sessions.Record{LastKey: "", Reply: []byte("CON a")}); err != nil {
		t.Fatal(err)
	}
	first := f.rdb.PTTL(ctx, f.sessionKey("s")).Val()
	if first <= ttl-500*time.Millisecond || first > ttl {
		t.Fatalf("session PTTL after Save = %v, want close to %v", first, ttl)
	}

	time.Sleep(300 * time.Millisecond)
	if _, _, err := f.hop(ctx, "s", ""); err != nil { // a replay does not refresh
		t.Fatal(err)
	}
	before := f.rdb.PTTL(ctx, f.sessionKey("s")).Val()
	if before > first-200*time.Millisecond {
		t.Fatalf("PTTL %v after 300ms and a replay, was %v: want it to run down", before, first)
	}
	if _, _, err := f.hop(ctx, "s", "1"); err != nil {
		t.Fatal(err)
	}
	if after := f.rdb.PTTL(ctx, f.sessionKey("s")).Val(); after <= before+200*time.Millisecond || after > ttl {
		t.Fatalf("PTTL after a new hop = %v (was %v), want refreshed to about %v", after, before, ttl)
	}
}

func TestLockExpiry(t *testing.T) {
	const lockTTL = 150 * time.Millisecond
	f := newFixture(t, sessions.Options{LockTTL: lockTTL})
	ctx := testContext(t)

	stuck, err := f.store.Acquire(ctx, "at", "s", "") // a hop whose process hangs or dies
	if err != nil {
		t.Fatal(err)
	}
	// The next hop runs on an instance with a longer lock, so that its lock
	// outlives the checks below on a slow machine.
	patient := sessions.New(f.rdb, sessions.Options{Prefix: f.prefix, LockTTL: 30 * time.Second})
	start := time.Now()
	next, err := patient.Acquire(ctx, "at", "s", "1")
	if err != nil {
		t.Fatalf("Acquire after the lock expired: %v", err)
	}
	if waited := time.Since(start); waited < lockTTL-30*time.Millisecond || waited > lockTTL+500*time.Millisecond {
		t.Errorf("waited %v for an expiring lock of %v", waited, lockTTL)
	}
	if next.Found {
		t.Fatal("the stuck hop's session was found")
	}

	err = f.store.Save(ctx, stuck, sessions.Record{LastKey: "", Reply: []byte("CON late")})
	if !errors.Is(err, sessions.ErrLockLost) {
		t.Fatalf("Save after losing the lock: %v, want ErrLockLost", err)
	}
	if n := f.rdb.Exists(ctx, f.sessionKey("s")).Val(); n != 0 {
		t.Fatal("a Save that lost its lock stored the session")
	}
	if !f.locked(t, "s") {
		t.Fatal("the late Save released the new holder's lock")
	}
	if err := f.store.Release(ctx, stuck); err != nil { // nothing left to release
		t.Fatal(err)
	}
	if !f.locked(t, "s") {
		t.Fatal("releasing a lost lease released the new holder's lock")
	}
	if err := f.store.Save(ctx, next, sessions.Record{LastKey: "1", Reply: []byte("CON next")}); err != nil {
		t.Fatalf("Save by the new holder: %v", err)
	}
}

func TestConcurrentHops(t *testing.T) {
	const n = 50
	tests := []struct {
		name         string
		key          func(i int) string
		wantAdvanced int
	}{
		{name: "same key", key: func(int) string { return "1*070707070" }, wantAdvanced: 1},
		{name: "different keys", key: func(i int) string { return "1*" + strconv.Itoa(i) }, wantAdvanced: n},
	}
	f := newFixture(t, sessions.Options{})
	ctx := testContext(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.name
			var (
				wg       sync.WaitGroup
				advanced atomic.Int32
				replies  [n][]byte
				errs     [n]error
			)
			for i := range n {
				wg.Go(func() {
					var adv bool
					replies[i], adv, errs[i] = f.hop(ctx, id, tt.key(i))
					if adv {
						advanced.Add(1)
					}
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("hop %d: %v", i, err)
				}
			}
			if got := int(advanced.Load()); got != tt.wantAdvanced {
				t.Errorf("%d hops advanced the session, want %d", got, tt.wantAdvanced)
			}
			if tt.wantAdvanced == 1 {
				for i := range replies {
					if !bytes.Equal(replies[i], replies[0]) {
						t.Fatalf("hop %d answered %q, hop 0 %q", i, replies[i], replies[0])
					}
				}
			}
			l, err := f.store.Acquire(ctx, "at", id, "final")
			if err != nil {
				t.Fatal(err)
			}
			defer f.store.Release(ctx, l)
			if l.Record.Hops != tt.wantAdvanced {
				t.Errorf("Hops = %d, want %d (lost updates?)", l.Record.Hops, tt.wantAdvanced)
			}
		})
	}
}

func TestAcquireDeadlineWhileLocked(t *testing.T) {
	f := newFixture(t, sessions.Options{})
	ctx := testContext(t)
	held, err := f.store.Acquire(ctx, "at", "s", "")
	if err != nil {
		t.Fatal(err)
	}
	defer f.store.Release(ctx, held)

	wctx, cancel := context.WithTimeout(ctx, 80*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = f.store.Acquire(wctx, "at", "s", "1")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire while locked: %v, want DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 80*time.Millisecond+100*time.Millisecond {
		t.Errorf("Acquire returned %v after an 80ms deadline", took)
	}
}

func TestRedisDown(t *testing.T) {
	srv := redistest.StartServer(t)
	rdb, err := sessions.NewClient(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	f := &fixture{rdb: rdb, store: sessions.New(rdb, sessions.Options{}), prefix: sessions.DefaultPrefix}
	ctx := testContext(t)
	if _, _, err := f.hop(ctx, "s", ""); err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	// Enough failed hops to trip go-redis's dial circuit breaker (PoolSize dial errors), as an outage
	// under load does.
	const deadline = 300 * time.Millisecond
	for i := range 10 {
		dctx, cancel := context.WithTimeout(ctx, deadline)
		start := time.Now()
		if i%2 == 0 {
			_, err = f.store.Acquire(dctx, "at", "s", "1")
		} else {
			err = f.store.Ping(dctx)
		}
		took := time.Since(start)
		cancel()
		if err == nil {
			t.Fatalf("call %d with Redis down: no error", i)
		}
		// The bound catches a hang, not slowness: a loaded CI machine may add a second.
		if took > deadline+2*time.Second {
			t.Errorf("call %d with Redis down took %v, deadline %v", i, took, deadline)
		}
		if i < 2 {
			t.Logf("with Redis down: %v after %v", err, took)
		}
	}

	srv.Start() // empty: no persistence
	// go-redis probes a tripped pool once a second; the first hops after Redis returns may still fail.
	start := time.Now()
	var reply []byte
	for {
		var advanced bool
		reply, advanced, err = f.hop(ctx, "s", "1")
		if err == nil {
			if !advanced {
				t.Fatal("first hop after the restart was a replay")
			}
			break
		}
		if time.Since(start) > 3*time.Second {
			t.Fatalf("hops still fail %v after Redis came back: %v", time.Since(start), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("first hop succeeded %v after Redis came back", time.Since(start).Round(time.Millisecond))
	if again, _, err := f.hop(ctx, "s", "1"); err != nil || !bytes.Equal(again, reply) {
		t.Fatalf("replay after Redis came back: %q, %v", again, err)
	}
}

func TestEnd(t *testing.T) {
	f := newFixture(t, sessions.Options{})
	ctx := testContext(t)
	if err := f.store.End(ctx, "at", "never-existed"); err != nil {
		t.Fatalf("End of an absent session: %v", err)
	}
	if _, _, err := f.hop(ctx, "s", ""); err != nil {
		t.Fatal(err)
	}
	running, err := f.store.Acquire(ctx, "at", "s", "1")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.End(ctx, "at", "s"); err != nil {
		t.Fatal(err)
	}
	if n := f.rdb.Exists(ctx, f.sessionKey("s"), f.lockKey("s")).Val(); n != 0 {
		t.Fatalf("%d keys left after End", n)
	}
	if err := f.store.Save(ctx, running, sessions.Record{LastKey: "1"}); !errors.Is(err, sessions.ErrLockLost) {
		t.Fatalf("Save of a hop running across End: %v, want ErrLockLost", err)
	}
	if n := f.rdb.Exists(ctx, f.sessionKey("s")).Val(); n != 0 {
		t.Fatal("an ended session came back")
	}
}

func TestLeaseMisuse(t *testing.T) {
	f := newFixture(t, sessions.Options{})
	ctx := testContext(t)
	if _, _, err := f.hop(ctx, "s", ""); err != nil {
		t.Fatal(err)
	}
	replay, err := f.store.Acquire(ctx, "at", "s", "")
	if err != nil || !replay.Replay {
		t.Fatalf("replay: %+v, %v", replay, err)
	}
	if err := f.store.Save(ctx, replay, replay.Record); err == nil {
		t.Error("Save of a replay lease: no error")
	}
	if err := f.store.Release(ctx, replay); err != nil {
		t.Errorf("Release of a replay lease: %v", err)
	}

	l, err := f.store.Acquire(ctx, "at", "s", "1")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Save(ctx, l, sessions.Record{LastKey: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Save(ctx, l, sessions.Record{LastKey: "1"}); err == nil || errors.Is(err, sessions.ErrLockLost) {
		t.Errorf("second Save of one lease: %v, want a usage error", err)
	}
	if err := f.store.Release(ctx, l); err != nil {
		t.Errorf("Release after Save: %v", err)
	}
	if err := f.store.Save(ctx, nil, sessions.Record{}); err == nil {
		t.Error("Save(nil): no error")
	}
	if err := f.store.Release(ctx, nil); err != nil {
		t.Errorf("Release(nil): %v", err)
	}

	bad := sessions.Record{LastKey: "2", State: json.RawMessage(`{not json`)}
	l, err = f.store.Acquire(ctx, "at", "s", "2")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Save(ctx, l, bad); err == nil {
		t.Error("Save of invalid State JSON: no error")
	}
	if err := f.store.Release(ctx, l); err != nil || !f.lockFree(t, "s") {
		t.Errorf("Release after a failed Save: %v", err)
	}
}

func TestInvalidKeys(t *testing.T) {
	f := newFixture(t, sessions.Options{})
	ctx := testContext(t)
	long := string(bytes.Repeat([]byte("x"), providers.MaxSessionID+1))
	for _, tt := range []struct{ provider, id string }{
		{"", "s"}, {"a:t", "s"}, {"a{t", "s"}, {"at", ""}, {"at", long},
	} {
		if _, err := f.store.Acquire(ctx, tt.provider, tt.id, ""); err == nil {
			t.Errorf("Acquire(%q, %.10q): no error", tt.provider, tt.id)
		}
		if err := f.store.End(ctx, tt.provider, tt.id); err == nil {
			t.Errorf("End(%q, %.10q): no error", tt.provider, tt.id)
		}
	}
	// Hash-tag and glob characters in a session ID are just bytes.
	for _, id := range []string{"a}b", "{x}", "*", "ATUid_0a1b2c3d"} {
		if _, _, err := f.hop(ctx, id, ""); err != nil {
			t.Errorf("hop on session %q: %v", id, err)
		}
	}
}

// roundTrips counts the commands and pipelines that reach the network.
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

// countingStore returns a Store on a client of its own whose round trips are counted.
func countingStore(t *testing.T) (*sessions.Store, *roundTrips) {
	t.Helper()
	rdb, err := sessions.NewClient(redistest.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	counter := &roundTrips{}
	rdb.AddHook(counter)
	return redistest.NewStore(t, rdb, sessions.Options{}), counter
}

func TestRoundTrips(t *testing.T) {
	store, counter := countingStore(t)
	ctx := testContext(t)
	var err error

	count := func(name string, want int64, fn func() error) {
		t.Helper()
		before := counter.n.Load()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := counter.n.Load() - before; got != want {
			t.Errorf("%s: %d round trips, want %d", name, got, want)
		}
	}
	// Warm up: the scripts may not be in Redis's script cache yet (EVALSHA falls back to EVAL).
	var l *sessions.Tx
	for _, key := range []string{"", "1"} {
		if l, err = store.Acquire(ctx, "at", "warm", key); err != nil {
			t.Fatal(err)
		}
		if err := store.Save(ctx, l, sessions.Record{LastKey: key}); err != nil {
			t.Fatal(err)
		}
	}
	if l, err = store.Acquire(ctx, "at", "warm", "2"); err != nil {
		t.Fatal(err)
	}
	if err := store.Release(ctx, l); err != nil {
		t.Fatal(err)
	}

	count("Acquire, new session", 1, func() (err error) { l, err = store.Acquire(ctx, "at", "s", ""); return err })
	count("Save", 1, func() error { return store.Save(ctx, l, sessions.Record{LastKey: "", Reply: []byte("CON a")}) })
	count("Release after Save", 0, func() error { return store.Release(ctx, l) })
	count("Acquire, replay", 1, func() (err error) { l, err = store.Acquire(ctx, "at", "s", ""); return err })
	count("Release of a replay", 0, func() error { return store.Release(ctx, l) })
	count("Acquire, next hop", 1, func() (err error) { l, err = store.Acquire(ctx, "at", "s", "1"); return err })
	count("Release", 1, func() error { return store.Release(ctx, l) })
	count("End", 1, func() error { return store.End(ctx, "at", "s") })
	count("Ping", 1, func() error { return store.Ping(ctx) })
}

// TestAcquireCountedKeysByHopsAnswered: without an aggregator key, a retry
// racing its original replays, while the same input typed again after the
// answer is a new hop.
func TestAcquireCountedKeysByHopsAnswered(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t)

	first, err := s.AcquireCounted(ctx, "nalo", "S1", "")
	if err != nil || first.Found || first.Key != "n:0:" {
		t.Fatalf("first hop: %+v %v", first, err)
	}
	if err := s.Save(ctx, first, sessions.Record{LastKey: first.Key, Hops: 1, Reply: []byte("menu")}); err != nil {
		t.Fatal(err)
	}

	l, err := s.AcquireCounted(ctx, "nalo", "S1", "98")
	if err != nil || l.Replay || l.Key != "n:1:98" {
		t.Fatalf("second hop: %+v %v", l, err)
	}
	// A retry of "98" while it is being answered waits, then replays.
	retried := make(chan *sessions.Tx, 1)
	go func() {
		r, err := s.AcquireCounted(ctx, "nalo", "S1", "98")
		if err != nil {
			t.Error(err)
		}
		retried <- r
	}()
	time.Sleep(20 * time.Millisecond)
	if err := s.Save(ctx, l, sessions.Record{LastKey: l.Key, Hops: 2, Reply: []byte("page 2")}); err != nil {
		t.Fatal(err)
	}
	if r := <-retried; r == nil || !r.Replay || string(r.Record.Reply) != "page 2" {
		t.Fatalf("racing retry: %+v", r)
	}

	// The user typing "98" again after the answer is a new hop.
	again, err := s.AcquireCounted(ctx, "nalo", "S1", "98")
	if err != nil || again.Replay || again.Key != "n:2:98" {
		t.Fatalf("repeated input: %+v %v", again, err)
	}
	if err := s.Release(ctx, again); err != nil {
		t.Fatal(err)
	}
}

// TestSaveRefusesAnOversizedRecord: a record larger than MaxRecord is not stored, by the locked or
// the optimistic way; the session stays as it was, and its lock can be given back at once.
func TestSaveRefusesAnOversizedRecord(t *testing.T) {
	f := newFixture(t, sessions.Options{})
	ctx := testContext(t)
	if _, _, err := f.hop(ctx, "big", "t:"); err != nil {
		t.Fatal(err)
	}
	huge := bytes.Repeat([]byte("x"), sessions.MaxRecord)

	l, err := f.store.Acquire(ctx, "at", "big", "t:1")
	if err != nil {
		t.Fatal(err)
	}
	rec := l.Record
	rec.LastKey, rec.Reply, rec.Hops = "t:1", huge, rec.Hops+1
	if err := f.store.Save(ctx, l, rec); !errors.Is(err, sessions.ErrTooLarge) {
		t.Fatalf("locked save of %d bytes: %v, want ErrTooLarge", len(huge), err)
	}
	if err := f.store.Release(ctx, l); err != nil || f.locked(t, "big") {
		t.Fatalf("release after a refused save: %v, locked %v", err, f.locked(t, "big"))
	}

	if o, ok := f.store.Optimistic("at", "big", "t:1", false, false); ok {
		rec := o.Record
		rec.LastKey, rec.Reply, rec.Hops = "t:1", huge, rec.Hops+1
		if err := f.store.Save(ctx, o, rec); !errors.Is(err, sessions.ErrTooLarge) {
			t.Fatalf("optimistic save: %v, want ErrTooLarge", err)
		}
	} else {
		t.Fatal("no optimistic lease after a save from this process")
	}

	stored, err := f.rdb.HGet(ctx, f.sessionKey("big"), "k").Result()
	if err != nil || stored != "t:" {
		t.Fatalf("stored key %q, %v: the session moved", stored, err)
	}
	if n, err := f.rdb.MemoryUsage(ctx, f.sessionKey("big")).Result(); err != nil || n > 2<<10 {
		t.Fatalf("the session takes %d bytes in Redis (%v)", n, err)
	}
}
