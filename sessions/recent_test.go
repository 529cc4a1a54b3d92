package sessions

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRecentKeepsLiveSessionsAndDropsOldOnes(t *testing.T) {
	c := newRecent(4, 1<<20, time.Minute) // two generations of two
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

// TestRecentIsBoundedByBytes: sessions of some kilobytes each fill the byte budget long before the
// count, and the cache then holds about the budget, however many of them are saved; the sessions
// touched meanwhile survive, and the count stays what bounds small sessions.
func TestRecentIsBoundedByBytes(t *testing.T) {
	const budget = 64 << 10
	c := newRecent(20000, budget, time.Minute)
	big := Record{Provider: "africastalking", Phone: "+255700000001", ServiceCode: "*384*1234#",
		Transcript: strings.Repeat("1*", 1000), LastKey: "t:" + strings.Repeat("1*", 1000),
		Reply: []byte("CON Invalid choice."), State: json.RawMessage(`{"n":"main"}`)}
	size := entrySize("s0", big, "r")
	c.put("live", big, "r")
	for i := range 1000 { // some 4 MB offered
		c.put("s"+strconv.Itoa(i), big, "r")
		if _, _, ok := c.get("live"); !ok {
			t.Fatalf("live session dropped after %d others", i+1)
		}
		if held := c.bytes(); held > budget+size {
			t.Fatalf("after %d sessions: %d bytes held, budget %d", i+1, held, budget)
		}
	}
	if n := len(c.cur) + len(c.old); n > 2*budget/int(size)+2 {
		t.Errorf("%d sessions of %d bytes held on a budget of %d", n, size, budget)
	}
	if _, _, ok := c.get("s0"); ok {
		t.Error("the oldest session survived")
	}

	// Updates and removals give back what an entry took.
	c = newRecent(20000, budget, time.Minute)
	c.put("a", big, "r1")
	c.put("a", Record{Hops: 2}, "r2")
	if got, want := c.curBytes, entrySize("a", Record{Hops: 2}, "r2"); got != want {
		t.Errorf("after an update: %d bytes accounted, want %d", got, want)
	}
	c.forget("a")
	if c.curBytes != 0 {
		t.Errorf("after forget: %d bytes accounted", c.curBytes)
	}

	// Small sessions: the count bounds them, as before.
	c = newRecent(4, budget, time.Minute)
	for i := range 10 {
		c.put("small"+strconv.Itoa(i), Record{Hops: 1}, "r")
	}
	if n := len(c.cur) + len(c.old); n > 4 {
		t.Errorf("%d small sessions held, limit 4", n)
	}
}

// bytes is what both generations hold, by entrySize.
func (c *recent) bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.curBytes
	for _, e := range c.old {
		n += e.size
	}
	return n
}

func TestRecentExpires(t *testing.T) {
	c := newRecent(10, 1<<20, time.Millisecond)
	c.put("s", Record{}, "r")
	time.Sleep(5 * time.Millisecond)
	if _, _, ok := c.get("s"); ok {
		t.Error("an entry older than the session TTL")
	}
	if newRecent(0, 1<<20, time.Minute) != nil || newRecent(-1, 1<<20, time.Minute) != nil {
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
	c := newRecent(8, 1<<20, time.Minute)
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
