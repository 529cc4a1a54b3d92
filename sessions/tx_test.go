package sessions_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/openimis/imis-gateway/sessions"
)

// commitHop commits one answered hop of tx, as the gateway does.
func commitHop(t *testing.T, s *sessions.Store, tx *sessions.Tx) (bool, error) {
	t.Helper()
	rec := tx.Record
	rec.Reply = fmt.Appendf(nil, "CON after %q", tx.Key)
	return s.Commit(testContext(t), tx, rec)
}

// TestBeginChoosesTheWayAndCommitFinishesIt walks a session through Begin
// and Commit, counting round trips: the locked way for a session this process
// never saw, from memory afterwards, and a replay from Redis for a retry.
func TestBeginChoosesTheWayAndCommitFinishesIt(t *testing.T) {
	s, counter := countingStore(t)
	ctx := testContext(t)
	var (
		tx     *sessions.Tx
		err    error
		stored bool
	)
	count := func(name string, want int64, fn func()) {
		t.Helper()
		before := counter.n.Load()
		fn()
		if got := counter.n.Load() - before; got != want {
			t.Errorf("%s: %d round trips, want %d", name, got, want)
		}
	}
	begin := func(key string, start bool) func() {
		return func() {
			tx, err = s.Begin(ctx, sessions.Request{Provider: "at", SessionID: "s", Key: key, Start: start})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	commit := func() {
		if stored, err = commitHop(t, s, tx); err != nil || !stored {
			t.Fatalf("commit of %q: stored %v, %v", tx.Key, stored, err)
		}
	}
	// Warm Redis's script cache (the first EVALSHA of a script falls back to EVAL).
	for _, r := range []sessions.Request{{SessionID: "warm-guessed", Start: true}, {SessionID: "warm-locked"}, {SessionID: "warm-released"}} {
		r.Provider = "at"
		warm, err := s.Begin(ctx, r)
		if err == nil && r.SessionID == "warm-released" {
			err = s.Release(ctx, warm)
		} else if err == nil {
			_, err = commitHop(t, s, warm)
		}
		if err != nil {
			t.Fatal(err)
		}
	}

	count("Begin, a session never seen", 1, begin("", false))
	if tx.Guessed() || tx.Found || tx.Replay || tx.Key != "" {
		t.Fatalf("first hop: guessed %v, found %v, replay %v, key %q", tx.Guessed(), tx.Found, tx.Replay, tx.Key)
	}
	count("Commit, locked", 1, commit)
	count("Release after Commit", 0, func() { _ = s.Release(ctx, tx) })

	count("Begin, next hop", 0, begin("1", false))
	if !tx.Guessed() || !tx.Found || tx.Record.Hops != 1 || tx.Record.LastKey != "" {
		t.Fatalf("next hop: guessed %v, %+v", tx.Guessed(), tx.Record)
	}
	count("Commit, from memory", 1, commit)
	count("Release of a guess", 0, func() { _ = s.Release(ctx, tx) })

	count("Begin, retry", 1, begin("1", false))
	if tx.Guessed() || !tx.Replay || !bytes.Equal(tx.Record.Reply, []byte(`CON after "1"`)) {
		t.Fatalf("retry: guessed %v, replay %v, reply %q", tx.Guessed(), tx.Replay, tx.Record.Reply)
	}
	count("Commit of a replay", 0, func() {
		if _, err := commitHop(t, s, tx); err == nil {
			t.Error("Commit of a replay: no error")
		}
	})
	count("Lock of a tx that is no guess", 0, func() {
		if err := s.Lock(ctx, tx); err == nil {
			t.Error("Lock of a replay: no error")
		}
	})

	// Commit keeps the replay key and the count of hops itself.
	count("Begin, from memory again", 0, begin("1*2", false))
	if tx.Record.LastKey != "1" || tx.Record.Hops != 2 {
		t.Fatalf("record after two hops: %+v", tx.Record)
	}

	count("Begin, a start never seen", 0, func() {
		tx, err = s.Begin(ctx, sessions.Request{Provider: "at", SessionID: "new", Start: true})
	})
	if err != nil || !tx.Guessed() || tx.Found {
		t.Fatalf("a start: guessed %v, found %v, %v", tx.Guessed(), tx.Found, err)
	}
	count("Commit of a start", 1, commit)

	count("Begin, locked", 1, func() { tx, err = s.Begin(ctx, sessions.Request{Provider: "at", SessionID: "locked"}) })
	count("Release", 1, func() { err = s.Release(ctx, tx) })
	if err != nil || tx.Guessed() {
		t.Fatalf("locked hop: guessed %v, %v", tx.Guessed(), err)
	}
}

// TestCommitOfAWrongGuessThenLock: a guess that another instance made stale
// commits nothing and says so; Lock then gives the hop the session as stored,
// under its lock, and the hop's next Commit stores.
func TestCommitOfAWrongGuessThenLock(t *testing.T) {
	f, other := instances(t)
	ctx := testContext(t)
	if _, err := optimisticHop(t, f.store, "s", "", true); err != nil {
		t.Fatal(err)
	}
	tx, err := f.store.Begin(ctx, sessions.Request{Provider: "at", SessionID: "s", Key: "2"})
	if err != nil || !tx.Guessed() {
		t.Fatalf("Begin: guessed %v, %v", tx.Guessed(), err)
	}
	there, err := other.Begin(ctx, sessions.Request{Provider: "at", SessionID: "s", Key: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if stored, err := commitHop(t, other, there); !stored || err != nil {
		t.Fatalf("the other instance's hop: %v, %v", stored, err)
	}
	want, _ := f.rdb.HGetAll(ctx, f.sessionKey("s")).Result()

	if stored, err := commitHop(t, f.store, tx); stored || err != nil {
		t.Fatalf("commit of a stale guess: stored %v, %v; want false, nil", stored, err)
	}
	if got, _ := f.rdb.HGetAll(ctx, f.sessionKey("s")).Result(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("a wrong guess changed the session:\n got %v\nwant %v", got, want)
	}
	if err := f.store.Lock(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if tx.Guessed() || tx.Replay || tx.Record.LastKey != "1" || tx.Record.Hops != 2 || !f.locked(t, "s") {
		t.Fatalf("after Lock: guessed %v, replay %v, %+v, locked %v", tx.Guessed(), tx.Replay, tx.Record, f.locked(t, "s"))
	}
	if stored, err := commitHop(t, f.store, tx); !stored || err != nil {
		t.Fatalf("commit after Lock: %v, %v", stored, err)
	}
	if k, h := f.rdb.HGet(ctx, f.sessionKey("s"), "k").Val(), f.rdb.HGet(ctx, f.sessionKey("s"), "h").Val(); k != "2" || h != "3" || f.locked(t, "s") {
		t.Fatalf("after the commit: key %q, %s hops, locked %v", k, h, f.locked(t, "s"))
	}
}

// TestFailedLockKeepsTheGuess: Lock that cannot reach Redis leaves the tx as
// Begin gave it.
func TestFailedLockKeepsTheGuess(t *testing.T) {
	f := newFixture(t, sessions.Options{})
	if _, err := optimisticHop(t, f.store, "s", "", true); err != nil {
		t.Fatal(err)
	}
	tx, err := f.store.Begin(testContext(t), sessions.Request{Provider: "at", SessionID: "s", Key: "1"})
	if err != nil || !tx.Guessed() {
		t.Fatalf("Begin: guessed %v, %v", tx.Guessed(), err)
	}
	before := *tx
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.store.Lock(ctx, tx); err == nil {
		t.Fatal("Lock with a cancelled context: no error")
	}
	if !tx.Guessed() || fmt.Sprint(*tx) != fmt.Sprint(before) {
		t.Errorf("a failed Lock changed the tx:\n got %+v\nwant %+v", *tx, before)
	}
}

// TestReleaseOutlivesTheHopsDeadline: a hop that used up its deadline still
// gives its lock back.
func TestReleaseOutlivesTheHopsDeadline(t *testing.T) {
	f := newFixture(t, sessions.Options{})
	ctx, cancel := context.WithCancel(testContext(t))
	tx, err := f.store.Begin(ctx, sessions.Request{Provider: "at", SessionID: "s", Key: ""})
	if err != nil || !f.locked(t, "s") {
		t.Fatalf("Begin: %v, locked %v", err, f.locked(t, "s"))
	}
	cancel()
	if err := f.store.Release(ctx, tx); err != nil || f.locked(t, "s") {
		t.Fatalf("Release after the deadline: %v, locked %v", err, f.locked(t, "s"))
	}
}

func TestBeginRefusesInvalidKeys(t *testing.T) {
	s := newFixture(t, sessions.Options{}).store
	for _, r := range []sessions.Request{{Provider: "a:t", SessionID: "s", Start: true}, {Provider: "at", Start: true}} {
		if tx, err := s.Begin(testContext(t), r); err == nil {
			t.Errorf("Begin(%+v): %+v, no error", r, tx)
		}
	}
}
