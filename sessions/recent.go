package sessions

import (
	"sync"
	"time"
	"unsafe"
)

// recent remembers the sessions this process saved last, each with the revision it wrote, so that
// the next hop of a session can start from memory (Store.Begin) instead of a round trip. It is
// a hint, never the truth: Commit of a guess stores only if Redis still holds that revision.
//
// It holds at most limit sessions taking at most about limitBytes, in two generations of half as
// much: when the newer one reaches half the count or half the bytes, the older one is dropped whole.
// A session touched in the last generation is kept, so live sessions survive and ended or abandoned
// ones age out, without a per-entry list or sweeper. The byte bound is what holds when sessions are
// large: a count alone would let a few thousand records of some kilobytes each take hundreds of MB.
type recent struct {
	mu        sync.Mutex
	cur, old  map[string]recentEntry
	half      int   // entries per generation
	halfBytes int64 // bytes per generation
	curBytes  int64 // what cur's entries take (entrySize)
	ttl       time.Duration
}

type recentEntry struct {
	rec     Record
	rev     string
	expires time.Time
	size    int64 // entrySize, kept so that removing the entry gives back what adding it took
}

// entryOverhead is what an entry takes besides the bytes of its strings: the entry itself and its
// key's header, in a map slot.
const entryOverhead = int64(unsafe.Sizeof(recentEntry{}) + unsafe.Sizeof(""))

// entrySize approximates the memory a cached session holds: its key, its revision and every
// variable-length field of its record, plus entryOverhead.
func entrySize(key string, rec Record, rev string) int64 {
	n := len(key) + len(rev) + len(rec.Provider) + len(rec.Phone) + len(rec.ServiceCode) +
		len(rec.Transcript) + len(rec.LastKey) + len(rec.Reply) + len(rec.Lang) + len(rec.State)
	return int64(n) + entryOverhead
}

func newRecent(limit int, limitBytes int64, ttl time.Duration) *recent {
	if limit <= 0 {
		return nil
	}
	return &recent{cur: make(map[string]recentEntry), half: max(limit/2, 1),
		halfBytes: max(limitBytes/2, 1), ttl: ttl}
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
		c.removeLocked(key)
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
	e := recentEntry{rec: rec, rev: rev, expires: time.Now().Add(c.ttl), size: entrySize(key, rec, rev)}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(key)
	c.putLocked(key, e)
}

// putLocked adds e, which is in neither generation, to the newer one, and starts a new generation
// when that one is full by count or by bytes.
func (c *recent) putLocked(key string, e recentEntry) {
	c.cur[key] = e
	c.curBytes += e.size
	if len(c.cur) >= c.half || c.curBytes >= c.halfBytes {
		c.old, c.cur, c.curBytes = c.cur, make(map[string]recentEntry, c.half), 0
	}
}

func (c *recent) forget(key string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(key)
}

// removeLocked deletes the session from both generations.
func (c *recent) removeLocked(key string) {
	if e, ok := c.cur[key]; ok {
		c.curBytes -= e.size
		delete(c.cur, key)
	}
	delete(c.old, key)
}
