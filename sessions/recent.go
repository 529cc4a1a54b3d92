package sessions

import (
	"sync"
	"time"
)

// recent remembers the sessions this process saved last, each with the revision it wrote, so that
// the next hop of a session can start from memory (Store.Optimistic) instead of a round trip. It is
// a hint, never the truth: Save with an optimistic lease stores only if Redis still holds that
// revision.
//
// It holds at most limit sessions, in two generations of half as many: when the newer one fills up,
// the older one is dropped whole. A session touched in the last generation is kept, so live sessions
// survive and ended or abandoned ones age out, without a per-entry list or sweeper.
type recent struct {
	mu       sync.Mutex
	cur, old map[string]recentEntry
	half     int // entries per generation
	ttl      time.Duration
}

type recentEntry struct {
	rec     Record
	rev     string
	expires time.Time
}

func newRecent(limit int, ttl time.Duration) *recent {
	if limit <= 0 {
		return nil
	}
	return &recent{cur: make(map[string]recentEntry), half: max(limit/2, 1), ttl: ttl}
}

// get returns the session's record and revision as this process last saved them, unless the
// session has expired since.
func (c *recent) get(key string) (Record, string, bool) {
	if c == nil {
		return Record{}, "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, inCur := c.cur[key]
	inOld := false
	if !inCur {
		e, inOld = c.old[key]
	}
	switch {
	case !inCur && !inOld:
		return Record{}, "", false
	case time.Now().After(e.expires):
		delete(c.cur, key)
		delete(c.old, key)
		return Record{}, "", false
	case inOld: // touched: it moves to the newer generation
		delete(c.old, key)
		c.putLocked(key, e)
	}
	return e.rec, e.rev, true
}

func (c *recent) put(key string, rec Record, rev string) {
	if c == nil {
		return
	}
	e := recentEntry{rec: rec, rev: rev, expires: time.Now().Add(c.ttl)}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.old, key)
	c.putLocked(key, e)
}

func (c *recent) putLocked(key string, e recentEntry) {
	c.cur[key] = e
	if len(c.cur) >= c.half {
		c.old, c.cur = c.cur, make(map[string]recentEntry, c.half)
	}
}

func (c *recent) forget(key string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.cur, key)
	delete(c.old, key)
}
