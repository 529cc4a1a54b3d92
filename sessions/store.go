// Package sessions keeps USSD sessions in Redis: the record a menu needs to take its next step, a
// per-session lock so two concurrent hops of one session never both advance it, and the exact bytes
// last answered so that a retried hop is replayed byte for byte (protocols.md §5.4).
//
// A hop takes one of two ways:
//
//   - Locked, two round trips: Acquire loads the record and takes the lock in one Lua script, Save
//     stores the new record and releases the lock in another. A replayed hop costs one (Acquire
//     alone, read-only).
//   - Optimistic, one round trip: when this process saved the session last (it remembers the record
//     it wrote and that write's revision), or the aggregator marks the hop as a session start,
//     Optimistic hands out the record without asking Redis, and Save stores the new one only if
//     the session is still at that revision and unlocked: a compare-and-set. Anything else (another
//     instance or a racing retry got there first) is ErrConflict, and the hop is answered again the
//     locked way, which sees the truth and replays or waits as usual.
//
// With one gateway instance, or aggregators that keep a session on one instance, a hop is optimistic
// whenever this process still remembers its session (Options.Recent) and the hop is no step that
// writes (the gateway's rule). The store works on any redis.UniversalClient: both keys of a
// session carry the same hash tag, so the scripts also run on Redis Cluster.
//
// Keys, for a provider "at" and a session "ATUid_1" under the default prefix:
//
//	imisgw:{at:ATUid_1}:s   hash {k: replay key of the last answered hop, r: Record as JSON,
//	                        h: hops answered, v: revision (token of the hop that saved it),
//	                        p: the revision an optimistic save replaced, if the last save was one}; TTL
//	imisgw:{at:ATUid_1}:l   lock, holding the random token of the hop that owns it; LockTTL
package sessions

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/openimis/imis-gateway/providers"
)

// ErrLockLost reports that a hop held its session's lock longer than LockTTL and another hop took it
// over: the hop's result was not stored and the caller must not answer as if it had been.
var ErrLockLost = errors.New("session lock lost")

// ErrConflict reports that an optimistic lease's Save found the session changed, locked or gone
// since the record the lease was given: nothing was stored, and the hop must be answered again from
// Acquire.
var ErrConflict = errors.New("session changed since it was last seen here")

// ErrTooLarge reports a record that Save refused to store: larger than MaxRecord.
var ErrTooLarge = errors.New("session record too large")

// MaxRecord bounds a record as Save stores it (JSON), in bytes. The gateway's records stay within a
// few kilobytes: the providers bound what a hop may add (an input of 182 characters, a transcript of
// 2 KiB) and a screen is a few hundred bytes. A larger record would be a bug; it is refused, with
// ErrTooLarge, so that nothing can grow Redis by accident.
const MaxRecord = 16 << 10

// Record is what the gateway remembers of a USSD session between hops.
type Record struct {
	Provider    string          `json:"p"`
	Phone       string          `json:"ph"` // first phone number of the session (sessions are bound to it)
	ServiceCode string          `json:"sc"`
	Transcript  string          `json:"t,omitempty"` // the accumulated input text last answered (AT)
	LastKey     string          `json:"k"`           // replay key of the last answered hop
	Reply       []byte          `json:"r"`           // the exact bytes last answered (replayed byte for byte)
	Hops        int             `json:"h"`
	Lang        string          `json:"l,omitempty"`
	State       json.RawMessage `json:"s,omitempty"` // menu state, opaque to this package
}

// Options tune a Store. Zero values take the defaults.
type Options struct {
	TTL      time.Duration // session lifetime after its last hop; default 5m
	LockTTL  time.Duration // lock expiry so a crashed process never blocks a session; default 10s
	LockWait time.Duration // poll interval while another hop of the session holds the lock; default 5ms
	Prefix   string        // key prefix, default "imisgw"
	// Recent is how many sessions this process remembers as it saved them, for Optimistic. Zero
	// takes DefaultRecent; a negative value turns optimistic hops off.
	Recent int
	// RecentBytes bounds, approximately, the memory those sessions take: their records' strings
	// and a fixed cost per entry. Whichever of Recent and RecentBytes is reached first bounds the
	// cache. Zero or less takes DefaultRecentBytes.
	RecentBytes int64
}

const (
	DefaultTTL      = 5 * time.Minute
	DefaultLockTTL  = 10 * time.Second
	DefaultLockWait = 5 * time.Millisecond
	DefaultPrefix   = "imisgw"
	// DefaultRecent sessions remembered, about a kilobyte each: the sessions open at some hundreds
	// of new sessions a second, each taking a minute of the caller's time.
	DefaultRecent = 20000
	// DefaultRecentBytes leaves DefaultRecent sessions of a usual size (some hundred bytes) room,
	// and holds the cache to a few thousand sessions of the largest size the providers allow.
	DefaultRecentBytes = 16 << 20
)

// Store is the Redis session store. It is safe for concurrent use.
type Store struct {
	rdb redis.UniversalClient
	opt Options

	// Script arguments that never change, boxed once.
	ttlArg, lockTTLArg any

	recent *recent
	// failing is set while Redis does not answer (a broken connection, a timeout) and cleared by
	// the next call that succeeds. Optimistic offers nothing meanwhile, so that a hop fails at its
	// first call, before its menu step does any work, as on the locked way: a renewal is not
	// written for a hop whose session cannot be saved.
	failing atomic.Bool

	tokenPrefix string
	tokenSeq    atomic.Uint64
}

// New returns a Store on rdb. It does not contact Redis; use Ping for that.
func New(rdb redis.UniversalClient, opt Options) *Store {
	if opt.TTL <= 0 {
		opt.TTL = DefaultTTL
	}
	if opt.LockTTL <= 0 {
		opt.LockTTL = DefaultLockTTL
	}
	if opt.LockWait <= 0 {
		opt.LockWait = DefaultLockWait
	}
	if opt.Prefix == "" {
		opt.Prefix = DefaultPrefix
	}
	if opt.Recent == 0 {
		opt.Recent = DefaultRecent
	}
	if opt.RecentBytes <= 0 {
		opt.RecentBytes = DefaultRecentBytes
	}
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics rather than return an error)
	return &Store{
		rdb:         rdb,
		opt:         opt,
		ttlArg:      strconv.FormatInt(max(opt.TTL.Milliseconds(), 1), 10),
		lockTTLArg:  strconv.FormatInt(max(opt.LockTTL.Milliseconds(), 1), 10),
		tokenPrefix: hex.EncodeToString(b[:]) + "-",
		recent:      newRecent(opt.Recent, opt.RecentBytes, opt.TTL),
	}
}

// Lease is one hop's hold on a session: the record as loaded, and for a non-replay lease the lock,
// which the hop gives back with Save or Release. An optimistic lease (Optimistic) holds no lock: its
// record is a guess that its Save checks. A Lease belongs to one goroutine.
type Lease struct {
	Record Record
	Found  bool // a record existed (always true for a replay)
	Replay bool // the hop was answered before: Record.Reply is the answer; no lock is held
	// Key is the hop's replay key: the one given to Acquire, or the one AcquireCounted derived. Save
	// it as the record's LastKey.
	Key string

	sessionID string
	keys      [2]string // session hash, lock
	token     string    // the lock's token, and the revision Save writes
	done      bool      // the lock was released (or lost); Save and Release have nothing left to do

	optimistic bool
	rev        string // the revision an optimistic lease expects; "" for no session at all
	counted    bool   // an optimistic lease of a counted hop (AcquireCounted) ...
	input      string // ... for this input
}

// The scripts below are the only writers of session keys besides End. Each runs in one round trip and
// touches only the two keys of one session, which share a hash slot.
//
// Every script is safe to run twice with the same arguments: go-redis retries a command whose reply
// was lost to a broken connection, after Redis may already have executed it.

// acquireScript: KEYS = session, lock; ARGV = replay key, token, lock TTL (ms), counted, seen, base.
// With counted = "1", ARGV[1] is the hop's input and the replay key is derived from it and the number
// of hops the session has answered: "n:<hops>:<input>" (AcquireCounted). A non-empty seen is the key
// an optimistic lease on revision base gave the hop (AcquireAfter): a session last answered under
// that key by an optimistic save from that same revision was answered by a copy of this very hop.
// Returns {1, record, key} for a replay, {2, record or "", key} when the lock is ours, {0, "", key}
// while another hop holds it.
var acquireScript = redis.NewScript(`
local s = redis.call('HMGET', KEYS[1], 'k', 'r', 'h', 'p')
if ARGV[5] ~= '' and s[1] == ARGV[5] and s[4] == ARGV[6] then
	return {1, s[2] or '', ARGV[5]}
end
local key = ARGV[1]
if ARGV[4] == '1' then
	key = 'n:' .. (s[3] or '0') .. ':' .. ARGV[1]
end
if s[1] == key then
	return {1, s[2] or '', key}
end
if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) or redis.call('GET', KEYS[2]) == ARGV[2] then
	return {2, s[2] or '', key}
end
return {0, '', key}
`)

// saveScript: KEYS = session, lock; ARGV = token, replay key, record, TTL (ms), hops answered.
// Returns 1 when the record is stored (by this call or by an earlier run of the same save), 0 when
// the lock belongs to someone else. The token becomes the session's revision.
var saveScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) == ARGV[1] then
	redis.call('HSET', KEYS[1], 'k', ARGV[2], 'r', ARGV[3], 'h', ARGV[5], 'v', ARGV[1])
	redis.call('HDEL', KEYS[1], 'p')
	redis.call('PEXPIRE', KEYS[1], ARGV[4])
	redis.call('DEL', KEYS[2])
	return 1
end
if redis.call('HGET', KEYS[1], 'r') == ARGV[3] then
	return 1
end
return 0
`)

// commitScript, the compare-and-set of an optimistic lease: KEYS = session, lock; ARGV = expected
// revision ("" for no session), new revision, replay key, record, TTL (ms), hops answered, expected
// hops answered. Returns 1 when the record is stored (by this call or an earlier run of it), 0 when
// the session is locked or not as expected. The count of hops is compared too because a gateway of
// an earlier release, still running beside this one during an upgrade, saves without a revision.
var commitScript = redis.NewScript(`
local s = redis.call('HMGET', KEYS[1], 'v', 'h')
if s[1] == ARGV[2] then
	return 1
end
if redis.call('EXISTS', KEYS[2]) == 1 then
	return 0
end
if ARGV[1] == '' then
	if redis.call('EXISTS', KEYS[1]) == 1 then
		return 0
	end
elseif s[1] ~= ARGV[1] or s[2] ~= ARGV[7] then
	return 0
end
redis.call('HSET', KEYS[1], 'k', ARGV[3], 'r', ARGV[4], 'h', ARGV[6], 'v', ARGV[2], 'p', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`)

// releaseScript: KEYS = lock; ARGV = token. Deletes the lock only if it is still ours.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0
`)

const (
	statusBusy   = 0
	statusReplay = 1
	statusLocked = 2
)

// Acquire loads the session (provider, sessionID) in one round trip.
//   - If the stored record's LastKey equals replayKey, it returns a Lease with Replay=true and the
//     record, without taking the lock: the reply is already stored and replaying it is read-only.
//   - Otherwise it takes the session's lock and returns the record (Found=false when there is none).
//     While another hop holds the lock it polls every LockWait until the lock frees (then checks the
//     replay condition again: the holder may have just answered this very hop) or ctx ends, and then
//     returns an error wrapping ctx's; callers answer "please retry".
//
// The empty replayKey is a valid key (AT's first hop has an empty transcript).
func (s *Store) Acquire(ctx context.Context, provider, sessionID, replayKey string) (*Lease, error) {
	keys, err := s.keyNames(provider, sessionID)
	if err != nil {
		return nil, fmt.Errorf("acquire session %q: %w", sessionID, err)
	}
	return s.acquire(ctx, keys, sessionID, replayKey, false, nil)
}

// AcquireCounted is Acquire for aggregators that give a hop no key of its own (protocols.md §5.4:
// Nalo, Arkesel, Infobip and Beem after their start): the replay key is "n:<hops>:<input>", with the
// number of hops the session had answered when this one arrived, read in the same round trip and
// kept while the hop waits for the lock. A retry that arrives while its original is being answered
// saw the same count, waits, and is replayed; the user's next input can only come after that answer,
// so it sees a higher count and is new even when it repeats the same text ("98", "98"). A retry that
// arrives after its original was answered cannot be told from a deliberate repeat; it is applied as
// new, and business writes stay single through their own idempotency keys.
func (s *Store) AcquireCounted(ctx context.Context, provider, sessionID, input string) (*Lease, error) {
	keys, err := s.keyNames(provider, sessionID)
	if err != nil {
		return nil, fmt.Errorf("acquire session %q: %w", sessionID, err)
	}
	return s.acquire(ctx, keys, sessionID, input, true, nil)
}

// AcquireAfter is Acquire, or AcquireCounted, for the hop an optimistic lease was given for, once
// that lease's Save returned ErrConflict or its answer needed the stored session. A session last
// answered under the key the lease carried, by an optimistic save from the revision the lease was
// given, is a replay whatever its count of hops says now: a copy of this hop, racing it from the
// same memory, stored its answer first.
func (s *Store) AcquireAfter(ctx context.Context, guess *Lease) (*Lease, error) {
	if guess.counted {
		return s.acquire(ctx, guess.keys, guess.sessionID, guess.input, true, guess)
	}
	return s.acquire(ctx, guess.keys, guess.sessionID, guess.Key, false, nil)
}

// acquire takes the session for a hop; guess, when not nil, is the optimistic lease the hop had.
func (s *Store) acquire(ctx context.Context, keys [2]string, sessionID, replayKey string, counted bool, guess *Lease) (*Lease, error) {
	l := &Lease{sessionID: sessionID, keys: keys, token: s.newToken()}
	var wait *time.Timer
	for {
		status, raw, key, err := s.tryAcquire(ctx, l, replayKey, counted, guess)
		if err != nil {
			if mayHaveRun(err) {
				s.releaseLater(ctx, l)
			}
			return nil, fmt.Errorf("acquire session %q: %w", sessionID, err)
		}
		// Later polls check the key derived now, from the count before the wait.
		l.Key, replayKey, counted = key, key, false
		if status != statusBusy {
			l.Replay = status == statusReplay
			l.done = l.Replay
			if raw == "" && !l.Replay {
				return l, nil
			}
			if err := decodeRecord(raw, &l.Record); err != nil {
				if !l.Replay {
					_ = s.Release(ctx, l)
				}
				return nil, fmt.Errorf("acquire session %q: %w", sessionID, err)
			}
			l.Found = true
			return l, nil
		}

		if wait == nil {
			wait = time.NewTimer(s.opt.LockWait)
			defer wait.Stop()
		} else {
			wait.Reset(s.opt.LockWait)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("acquire session %q: another hop holds the lock: %w", sessionID, context.Cause(ctx))
		case <-wait.C:
		}
	}
}

// Optimistic returns a lease on the session without a round trip when this process can tell what
// Redis most likely holds: the record it saved there last, or, for a hop the aggregator marks as
// a session's start (start), no session at all. replayKey and counted are as for Acquire and
// AcquireCounted. The lease holds no lock; its Save stores only if the guess still holds, and
// returns ErrConflict otherwise, after which the hop must be answered again from Acquire. A hop
// answered from an optimistic lease must be one that Save records: a refusal or a replay decided
// on a guess must be confirmed the locked way.
//
// ok is false when there is nothing to go on, and for a hop whose key is that of the last one
// saved here: a retry is replayed from Redis, never from memory.
func (s *Store) Optimistic(provider, sessionID, replayKey string, counted, start bool) (*Lease, bool) {
	keys, err := s.keyNames(provider, sessionID)
	if err != nil || s.failing.Load() {
		return nil, false // Acquire reports it
	}
	rec, rev, found := s.recent.get(keys[0])
	if !found && (!start || s.recent == nil) {
		return nil, false
	}
	l := &Lease{Record: rec, Found: found, Key: replayKey, sessionID: sessionID, keys: keys,
		token: s.newToken(), optimistic: true, rev: rev}
	if counted {
		l.counted, l.input = true, replayKey
		l.Key = "n:" + strconv.Itoa(rec.Hops) + ":" + replayKey
	}
	if found && rec.LastKey == l.Key {
		return nil, false
	}
	return l, true
}

func (s *Store) tryAcquire(ctx context.Context, l *Lease, replayKey string, counted bool, guess *Lease) (status int64, raw, key string, err error) {
	countedArg, seen, base := "0", "", ""
	if counted {
		countedArg = "1"
	}
	if guess != nil {
		seen, base = guess.Key, guess.rev
	}
	res, err := acquireScript.Run(ctx, s.rdb, l.keys[:], replayKey, l.token, s.lockTTLArg, countedArg, seen, base).Slice()
	s.observe(ctx, err)
	if err != nil {
		return 0, "", "", err
	}
	if len(res) == 3 {
		status, ok1 := res[0].(int64)
		raw, ok2 := res[1].(string)
		key, ok3 := res[2].(string)
		if ok1 && ok2 && ok3 && status >= statusBusy && status <= statusLocked {
			return status, raw, key, nil
		}
	}
	return 0, "", "", fmt.Errorf("unexpected script reply %v", res)
}

func decodeRecord(raw string, rec *Record) error {
	if raw == "" {
		return errors.New("decode record: empty")
	}
	if err := json.Unmarshal([]byte(raw), rec); err != nil {
		return fmt.Errorf("decode record: %w", err)
	}
	return nil
}

// Save stores rec for TTL and releases the lock, in one round trip, if the lease still holds the lock.
// If the lock was lost (it expired and another hop took it), Save stores nothing and returns an error
// wrapping ErrLockLost. A record larger than MaxRecord is not stored either (ErrTooLarge); the lease
// keeps its lock for Release. For an optimistic lease it stores rec only if the session is still as the
// lease found it, and otherwise returns an error wrapping ErrConflict. rec.LastKey must be the
// replay key of the hop being answered.
func (s *Store) Save(ctx context.Context, l *Lease, rec Record) error {
	if l == nil || l.token == "" {
		return errors.New("save session: no lease")
	}
	if l.Replay {
		return fmt.Errorf("save session %q: a replay holds no lock", l.sessionID)
	}
	if l.done {
		return fmt.Errorf("save session %q: lease already saved or released", l.sessionID)
	}
	data, err := json.Marshal(&rec)
	if err != nil {
		return fmt.Errorf("save session %q: encode record: %w", l.sessionID, err)
	}
	if len(data) > MaxRecord {
		return fmt.Errorf("save session %q: %d bytes: %w", l.sessionID, len(data), ErrTooLarge)
	}
	if l.optimistic {
		return s.commit(ctx, l, rec, data)
	}
	n, err := saveScript.Run(ctx, s.rdb, l.keys[:], l.token, rec.LastKey, data, s.ttlArg, rec.Hops).Int()
	s.observe(ctx, err)
	if err != nil {
		s.recent.forget(l.keys[0])
		if mayHaveRun(err) {
			s.releaseLater(ctx, l)
		}
		return fmt.Errorf("save session %q: %w", l.sessionID, err)
	}
	l.done = true
	if n != 1 {
		s.recent.forget(l.keys[0])
		return fmt.Errorf("save session %q: %w", l.sessionID, ErrLockLost)
	}
	s.recent.put(l.keys[0], rec, l.token)
	return nil
}

// commit is Save for an optimistic lease: one compare-and-set round trip.
func (s *Store) commit(ctx context.Context, l *Lease, rec Record, data []byte) error {
	n, err := commitScript.Run(ctx, s.rdb, l.keys[:], l.rev, l.token, rec.LastKey, data, s.ttlArg, rec.Hops,
		l.Record.Hops).Int()
	s.observe(ctx, err)
	l.done = true
	if err != nil || n != 1 {
		s.recent.forget(l.keys[0])
		if err != nil {
			return fmt.Errorf("save session %q: %w", l.sessionID, err)
		}
		return fmt.Errorf("save session %q: %w", l.sessionID, ErrConflict)
	}
	s.recent.put(l.keys[0], rec, l.token)
	return nil
}

// Held reports whether the lease still holds its session's lock: neither a
// replay nor already saved or released.
func (l *Lease) Held() bool {
	return l != nil && !l.Replay && !l.done && !l.optimistic && l.token != ""
}

// Optimistic reports whether the lease came from Optimistic: its record is a
// guess that only its Save confirms.
func (l *Lease) Optimistic() bool { return l != nil && l.optimistic }

// Release gives the lock back without saving (a divergent hop, an error screen). It is a no-op for a
// replay lease and for a lease already saved or released, so `defer store.Release(ctx, lease)` is
// safe after Acquire. Releasing a lock that already expired is not an error.
func (s *Store) Release(ctx context.Context, l *Lease) error {
	if !l.Held() {
		return nil
	}
	if err := releaseScript.Run(ctx, s.rdb, l.keys[1:], l.token).Err(); err != nil {
		return fmt.Errorf("release session %q: %w", l.sessionID, err)
	}
	l.done = true
	return nil
}

// End deletes the session and its lock (end-of-session events). A session that does not exist is
// not an error. A hop still running on the session then gets ErrLockLost from Save.
func (s *Store) End(ctx context.Context, provider, sessionID string) error {
	keys, err := s.keyNames(provider, sessionID)
	if err != nil {
		return fmt.Errorf("end session %q: %w", sessionID, err)
	}
	s.recent.forget(keys[0])
	if err := s.rdb.Del(ctx, keys[0], keys[1]).Err(); err != nil {
		return fmt.Errorf("end session %q: %w", sessionID, err)
	}
	return nil
}

// Ping checks that Redis answers, for readiness.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	return nil
}

// keyNames returns the session and lock keys: <prefix>:{<provider>:<sessionID>}:s and :l. The braces
// make Redis Cluster hash only the part between them, so both keys live in one slot. A provider name
// never contains ':', so distinct sessions never share a key; a '}' inside a session ID ends the hash
// tag early, but identically for both keys.
func (s *Store) keyNames(provider, sessionID string) ([2]string, error) {
	switch {
	case provider == "" || strings.ContainsAny(provider, ":{}"):
		return [2]string{}, fmt.Errorf("invalid provider name %q", provider)
	case sessionID == "":
		return [2]string{}, errors.New("empty session id")
	case len(sessionID) > providers.MaxSessionID: // they become part of Redis keys
		return [2]string{}, fmt.Errorf("session id longer than %d bytes", providers.MaxSessionID)
	}
	// Both keys in one allocation.
	var b strings.Builder
	n := len(s.opt.Prefix) + len(provider) + len(sessionID) + len(":{:}:s")
	b.Grow(2 * n)
	for _, suffix := range [2]string{"}:s", "}:l"} {
		b.WriteString(s.opt.Prefix)
		b.WriteString(":{")
		b.WriteString(provider)
		b.WriteByte(':')
		b.WriteString(sessionID)
		b.WriteString(suffix)
	}
	both := b.String()
	return [2]string{both[:n], both[n:]}, nil
}

// newToken returns a lock token unique to this hop: a random per-Store prefix and a sequence number.
func (s *Store) newToken() string {
	return s.tokenPrefix + strconv.FormatUint(s.tokenSeq.Add(1), 36)
}

// observe keeps failing up to date with the outcome of a call to Redis made with ctx.
func (s *Store) observe(ctx context.Context, err error) {
	switch {
	case err == nil:
		if s.failing.Load() {
			s.failing.Store(false)
		}
	case ctx.Err() != nil || deadlinePassed(ctx):
		// The hop gave up (a slow step, an aggregator that hung up), not Redis.
		// go-redis reads up to the context's deadline, so its timeout may come
		// a moment before ctx.Err() says so.
	case mayHaveRun(err):
		s.failing.Store(true)
	}
}

func deadlinePassed(ctx context.Context) bool {
	deadline, ok := ctx.Deadline()
	return ok && !time.Now().Before(deadline)
}

// mayHaveRun reports whether a failed script call may nevertheless have run in Redis: anything but an
// error reply from Redis itself (the connection broke, or the caller's deadline passed first).
func mayHaveRun(err error) bool {
	var rerr redis.Error
	return !errors.As(err, &rerr)
}

// releaseLater frees, in the background, a lock the lease may hold after a call whose outcome is
// unknown, so that the user's retry need not wait out LockTTL. The token check makes it harmless if
// the lock is not ours.
func (s *Store) releaseLater(ctx context.Context, l *Lease) {
	lock, token := l.keys[1], l.token
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = releaseScript.Run(ctx, s.rdb, []string{lock}, token).Err()
	}()
}

// Active reports whether the session exists (Infobip asks).
func (s *Store) Active(ctx context.Context, provider, sessionID string) (bool, error) {
	keys, err := s.keyNames(provider, sessionID)
	if err != nil {
		return false, fmt.Errorf("session status %q: %w", sessionID, err)
	}
	n, err := s.rdb.Exists(ctx, keys[0]).Result()
	if err != nil {
		return false, fmt.Errorf("session status %q: %w", sessionID, err)
	}
	return n == 1, nil
}
