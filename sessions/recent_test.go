package sessions

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestRecentKeepsLiveSessionsAndDropsOldOnes(t *testing.T) {
	c := newRecent(4, time.Minute) // two generations of two
	c.put("live", Record{Hops: 1}, "r1")
	for i := range 6 {
		c.put("other"+strconv.Itoa(i), Record{}, "r")
		if _, _, ok := c.get("live"); !ok { // touched every time: survives rotations
			t.Fatalf("live session dropped after %d others", i+1)
		}
	}
	if _, _, ok := c.get("other0"); ok {
		t.Error("the oldest session survived two rotations")
	}
	if n := len(c.cur) + len(c.old); n > 2*c.half {
		t.Errorf("%d entries, limit %d", n, 2*c.half)
	}
	c.put("live", Record{Hops: 2}, "r2")
	if rec, rev, ok := c.get("live"); !ok || rec.Hops != 2 || rev != "r2" {
		t.Errorf("after an update: %+v %q %v", rec, rev, ok)
	}
	c.forget("live")
	if _, _, ok := c.get("live"); ok {
		t.Error("forgotten session still there")
	}
}

func TestRecentExpires(t *testing.T) {
	c := newRecent(10, time.Millisecond)
	c.put("s", Record{}, "r")
	time.Sleep(5 * time.Millisecond)
	if _, _, ok := c.get("s"); ok {
		t.Error("an entry older than the session TTL")
	}
	if newRecent(0, time.Minute) != nil || newRecent(-1, time.Minute) != nil {
		t.Error("a cache without room")
	}
}

// TestCommitSurvivesRetries: the compare-and-set, run twice as go-redis does
// after a lost reply, succeeds twice and stores once.
func TestCommitSurvivesRetries(t *testing.T) {
	s, rdb := internalStore(t)
	ctx := context.Background()
	l, ok := s.Optimistic("at", "s", "", false, true)
	if !ok {
		t.Fatal("no optimistic start")
	}
	for range 2 {
		n, err := commitScript.Run(ctx, rdb, l.keys[:], l.rev, l.token, "", `{"h":1}`, s.ttlArg, 1).Int()
		if err != nil || n != 1 {
			t.Fatalf("commit: %d, %v", n, err)
		}
	}
	// A different hop with the same stale guess does not.
	other, _ := s.Optimistic("at", "s", "", false, true)
	if n, err := commitScript.Run(ctx, rdb, other.keys[:], "", other.token, "", `{"h":1}`, s.ttlArg, 1).Int(); err != nil || n != 0 {
		t.Fatalf("second start: %d, %v; want 0", n, err)
	}
}

func TestRecentIsSafeForConcurrentUse(t *testing.T) {
	c := newRecent(8, time.Minute)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				key := strconv.Itoa((g + i) % 20)
				c.put(key, Record{Hops: i}, "r")
				c.get(key)
				if i%7 == 0 {
					c.forget(key)
				}
			}
		})
	}
	wg.Wait()
	if n := len(c.cur) + len(c.old); n > 2*c.half {
		t.Errorf("%d entries, limit %d", n, 2*c.half)
	}
}
