package gateway

import (
	"sync"
	"time"
)

// doorbell wakes a polling worker before its next poll. Rings that come
// while the worker is busy merge into one, and ringing never blocks the
// webhook that rings.
type doorbell chan struct{}

func newDoorbell() doorbell { return make(doorbell, 1) }

func (d doorbell) ring() {
	select {
	case d <- struct{}{}:
	default:
	}
}

// quietErrors lets a worker log a failing store at most once per interval:
// a database that is down for an hour writes a line a minute, not one per
// poll.
type quietErrors struct {
	mu   sync.Mutex
	last time.Time
}

// due reports whether an error at now may be logged, every apart.
func (q *quietErrors) due(now time.Time, every time.Duration) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if now.Sub(q.last) < every {
		return false
	}
	q.last = now
	return true
}
