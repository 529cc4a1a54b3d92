// Package sessions keeps USSD sessions in Redis: the record a menu needs to take its next step, a
// per-session lock so two concurrent hops of one session never both advance it, and the exact bytes
// last answered so that a retried hop is replayed byte for byte (docs/providers.md, "Replay keys").
//
// A hop begins (Begin), steps its menu from the record it was given, and commits what it made of it
// (Commit), or releases the session on any other way out (Release). Begin chooses one of two ways,
// and Commit finishes it:
//
//   - Locked, two round trips: Begin loads the record and takes the lock in one Lua script, Commit
//     stores the new record and releases the lock in another. A replayed hop costs one (Begin
//     alone, read-only).
//   - From memory, one round trip: when this process saved the session last (it remembers the
//     record it wrote and that write's revision), or the aggregator marks the hop as a session
//     start, Begin hands out the record without asking Redis (a guess, Tx.Guessed), and Commit
//     stores the new one only if the session is still at that revision and unlocked: a
//     compare-and-set. Anything else (another instance or a racing retry got there first) stores
//     nothing and Commit says so, and the hop is answered again the locked way (Lock), which sees
//     the truth and replays or waits as usual.
//
// With one gateway instance, or aggregators that keep a session on one instance, a hop goes from
// memory whenever this process still remembers its session (Options.Recent) and the hop is no step
// that writes (the gateway's rule: a guess decides no refusal and no write, see Tx.Guessed). The
// store works on any redis.UniversalClient: both keys of a session carry the same hash tag, so the
// scripts also run on Redis Cluster.
//
// Keys, for a provider "at" and a session "ATUid_1" under the default prefix:
//
//	imisgw:{at:ATUid_1}:s   hash {k: replay key of the last answered hop, r: Record as JSON,
//	                        h: hops answered, v: revision (token of the hop that saved it),
//	                        p: the revision a compare-and-set replaced, if the last save was one}; TTL
//	imisgw:{at:ATUid_1}:l   lock, holding the random token of the hop that owns it; LockTTL
package sessions

import (
	"cmp"
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

// ErrTooLarge reports a record that Commit refused to store: larger than MaxRecord.
var ErrTooLarge = errors.New("session record too large")

// ErrNotReplicated reports a save that matters (Tx.Durable, or a hop of a counted session) that fewer
// replicas acknowledged in time than Options.Durability asks: Redis holds it, but a failover may lose
// it, so the hop must not be answered as if it were safe.
var ErrNotReplicated = errors.New("session save not acknowledged by enough replicas")

// MaxRecord bounds a record as Commit stores it (JSON), in bytes. The gateway's records stay within a
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
	LastKey     string          `json:"k"`           // replay key of the last answered hop (Commit sets it)
	Reply       []byte          `json:"r"`           // the exact bytes last answered (replayed byte for byte)
	Hops        int             `json:"h"`           // hops answered (Commit counts them)
	Lang        string          `json:"l,omitempty"`
	State       json.RawMessage `json:"s,omitempty"` // menu state, opaque to this package
}

// Options tune a Store. Zero values take the defaults.
type Options struct {
	TTL      time.Duration // session lifetime after its last hop; default 5m
	LockTTL  time.Duration // lock expiry so a crashed process never blocks a session; default 10s
	LockWait time.Duration // poll interval while another hop of the session holds the lock; default 5ms
	Prefix   string        // key prefix, default "imisgw"
	// Recent is how many sessions this process remembers as it saved them, for hops from memory.
	// Zero takes DefaultRecent; a negative value turns hops from memory off.
	Recent int
	// RecentBytes bounds, approximately, the memory those sessions take: their records' strings
	// and a fixed cost per entry. Whichever of Recent and RecentBytes is reached first bounds the
	// cache. Zero or less takes DefaultRecentBytes.
	RecentBytes int64
	// Durability is how the saves that matter survive a failover (docs/design.md, "Redis
	// failover"). The zero value takes the client's, when NewClient made it from a URL (one
	// replica under Cluster and Sentinel), and waits for no replica otherwise.
	Durability Durability
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
	// node is the client rdb wraps, for saves that wait for replicas: WAIT must go down the
	// connection of the save it waits for.
	node redis.UniversalClient
	opt  Options

	// Script arguments that never change, boxed once.
	ttlArg, lockTTLArg any

	recent *recent
	// failing is set while Redis does not answer (a broken connection, a timeout) and cleared by
	// the next call that succeeds. Begin guesses nothing meanwhile, so that a hop fails at its
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
	node := rdb
	if c, ok := rdb.(*Client); ok {
		node = c.UniversalClient
		if opt.Durability == (Durability{}) {
			opt.Durability = c.Durability
		}
	}
	opt.Durability.Timeout = cmp.Or(opt.Durability.Timeout, DefaultWaitTimeout)
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics rather than return an error)
	return &Store{
		rdb:         rdb,
		node:        node,
		opt:         opt,
		ttlArg:      strconv.FormatInt(max(opt.TTL.Milliseconds(), 1), 10),
		lockTTLArg:  strconv.FormatInt(max(opt.LockTTL.Milliseconds(), 1), 10),
		tokenPrefix: hex.EncodeToString(b[:]) + "-",
		recent:      newRecent(opt.Recent, opt.RecentBytes, opt.TTL),
	}
}

// Request names the session a hop belongs to, and tells the hop from a retry of it.
type Request struct {
	Provider, SessionID string
	// Key is the hop's replay key: equal for a retried hop and different for every new one. The
	// empty key is a valid key.
	Key string
	// Counted is for aggregators that give a hop no key of its own (Nalo, Arkesel, Infobip and Beem
	// after their start). Key is then the hop's input, and the replay key is "n:<hops>:<input>", with
	// the number of hops the session had answered when this one arrived, read in the same round trip
	// and kept while the hop waits for the lock. A retry that arrives while its original is being
	// answered saw the same count, waits, and is replayed; the user's next input can only come after
	// that answer, so it sees a higher count and is new even when it repeats the same text ("98",
	// "98"). A retry that arrives after its original was answered cannot be told from a deliberate
	// repeat; it is applied as new, and business writes stay single through their own idempotency
	// keys.
	Counted bool
	// Start is set when the aggregator marks the hop as its session's first: a session this process
	// knows nothing of is then guessed new.
	Start bool
}

// Tx is one hop's hold on its session, from Begin to Commit or Release: the record the hop steps
// from, and what the store needs to save what the hop makes of it. Its record is either the session
// as stored, loaded under the session's lock (a replay takes no lock), or a guess: the record this
// process saved last, handed out without a round trip, which only Commit confirms (Guessed). A Tx
// belongs to one goroutine.
type Tx struct {
	Record Record
	Found  bool // a record existed (always true for a replay)
	Replay bool // the hop was answered before: Record.Reply is the answer; no lock is held
	// Key is the hop's replay key: Request.Key, or the key derived for a counted hop. Commit stores
	// it as the record's LastKey.
	Key string
	// Durable marks a save that matters: the session it leaves leads to a write (a confirmation
	// screen). Commit then waits for the replicas Options.Durability asks for, as it always does
	// for a counted hop, whose next key a lost save would repeat.
	Durable bool

	sessionID string
	keys      [2]string // session hash, lock
	token     string    // the lock's token, and the revision Commit writes
	done      bool      // the lock was released (or lost); Commit and Release have nothing left to do

	guessed bool
	rev     string // the revision a guess expects; "" for no session at all
	counted bool   // a counted hop (Request.Counted) ...
	input   string // ... for this input
}

// The scripts below are the only writers of session keys besides End. Each runs in one round trip and
// touches only the two keys of one session, which share a hash slot.
//
// Every script is safe to run twice with the same arguments: go-redis retries a command whose reply
// was lost to a broken connection, after Redis may already have executed it.

// acquireScript: KEYS = session, lock; ARGV = replay key, token, lock TTL (ms), counted, seen, base.
// With counted = "1", ARGV[1] is the hop's input and the replay key is derived from it and the number
// of hops the session has answered: "n:<hops>:<input>" (Request.Counted). A non-empty seen is the key
// a guess on revision base gave the hop (Lock): a session last answered under that key by a
// compare-and-set from that same revision was answered by a copy of this very hop.
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

// commitScript, the compare-and-set of a guess: KEYS = session, lock; ARGV = expected revision (""
// for no session), new revision, replay key, record, TTL (ms), hops answered, expected hops
// answered. Returns 1 when the record is stored (by this call or an earlier run of it), 0 when the
// session is locked or not as expected. The count of hops is compared too because a gateway of an
// earlier release, still running beside this one during an upgrade, saves without a revision.
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

// releaseTimeout bounds a lock's release, which runs apart from the hop's own deadline.
const releaseTimeout = time.Second

// Begin takes the session for one hop, the way the package comment describes:
//   - From memory, without a round trip (tx.Guessed()), when this process saved the session last,
//     or when r.Start marks a session this process knows nothing of. Not while Redis fails, and
//     never for a retry of the hop saved last: a retry is replayed from Redis.
//   - Otherwise in one round trip: if the stored record's LastKey equals the hop's replay key, tx
//     is a replay (tx.Replay) and no lock is taken, since replaying is read-only. If not, Begin
//     takes the session's lock and loads the record (tx.Found is false when there is none). While
//     another hop holds the lock it polls every LockWait until the lock frees (then checks the
//     replay condition again: the holder may have just answered this very hop) or ctx ends, and
//     then returns an error wrapping ctx's; callers answer "please retry".
func (s *Store) Begin(ctx context.Context, r Request) (*Tx, error) {
	keys, err := s.keyNames(r.Provider, r.SessionID)
	if err != nil {
		return nil, fmt.Errorf("acquire session %q: %w", r.SessionID, err)
	}
	if tx, ok := s.guess(r, keys); ok {
		return tx, nil
	}
	return s.acquire(ctx, keys, r.SessionID, r.Key, r.Counted, nil)
}

// guess returns a Tx on the record this process saved last, or on no session at all for a start,
// when it can tell what Redis most likely holds; ok is false when there is nothing to go on, and for
// a hop whose key is that of the last one saved here.
func (s *Store) guess(r Request, keys [2]string) (*Tx, bool) {
	if s.failing.Load() {
		return nil, false // the locked way reports it
	}
	rec, rev, found := s.recent.get(keys[0])
	if !found && (!r.Start || s.recent == nil) {
		return nil, false
	}
	key := r.Key
	if r.Counted {
		key = "n:" + strconv.Itoa(rec.Hops) + ":" + r.Key
	}
	if found && rec.LastKey == key {
		return nil, false
	}
	tx := &Tx{Record: rec, Found: found, Key: key, sessionID: r.SessionID, keys: keys,
		token: s.newToken(), guessed: true, rev: rev}
	if r.Counted {
		tx.counted, tx.input = true, r.Key
	}
	return tx, true
}

// Lock takes the session of a guessed tx the locked way, in one round trip, when the guess cannot
// decide the hop (a refusal, a replay or a step that writes is decided on the session as stored) or
// Commit found it wrong. tx then holds the stored record and the lock, or is a replay, as from
// Begin. A session last answered under the key the guess carried, by a compare-and-set from the
// revision the guess was given, is a replay whatever its count of hops says now: a copy of this hop,
// racing it from the same memory, stored its answer first. On error tx is left as it was. Locking a
// tx that is not a guess is an error.
func (s *Store) Lock(ctx context.Context, tx *Tx) error {
	if !tx.Guessed() {
		return errors.New("lock session: not a guess")
	}
	locked, err := s.acquireAfter(ctx, tx)
	if err != nil {
		return err
	}
	*tx = *locked
	return nil
}

// acquireAfter takes the session the locked way for the hop guess was given for.
func (s *Store) acquireAfter(ctx context.Context, guess *Tx) (*Tx, error) {
	if guess.counted {
		return s.acquire(ctx, guess.keys, guess.sessionID, guess.input, true, guess)
	}
	return s.acquire(ctx, guess.keys, guess.sessionID, guess.Key, false, nil)
}

// acquire takes the session for a hop; guess, when not nil, is the guess the hop had.
func (s *Store) acquire(ctx context.Context, keys [2]string, sessionID, replayKey string, counted bool, guess *Tx) (*Tx, error) {
	tx := &Tx{sessionID: sessionID, keys: keys, token: s.newToken(), counted: counted, input: replayKey}
	var wait *time.Timer
	for {
		status, raw, key, err := s.tryAcquire(ctx, tx, replayKey, counted, guess)
		if err != nil {
			if mayHaveRun(err) {
				s.releaseLater(ctx, tx)
			}
			return nil, fmt.Errorf("acquire session %q: %w", sessionID, err)
		}
		// Later polls check the key derived now, from the count before the wait.
		tx.Key, replayKey, counted = key, key, false
		if status != statusBusy {
			tx.Replay = status == statusReplay
			tx.done = tx.Replay
			if raw == "" && !tx.Replay {
				return tx, nil
			}
			if err := decodeRecord(raw, &tx.Record); err != nil {
				if !tx.Replay {
					_ = s.Release(ctx, tx)
				}
				return nil, fmt.Errorf("acquire session %q: %w", sessionID, err)
			}
			tx.Found = true
			return tx, nil
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

func (s *Store) tryAcquire(ctx context.Context, tx *Tx, replayKey string, counted bool, guess *Tx) (status int64, raw, key string, err error) {
	countedArg, seen, base := "0", "", ""
	if counted {
		countedArg = "1"
	}
	if guess != nil {
		seen, base = guess.Key, guess.rev
	}
	res, err := acquireScript.Run(ctx, s.rdb, tx.keys[:], replayKey, tx.token, s.lockTTLArg, countedArg, seen, base).Slice()
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

// Commit stores rec as the session after tx's hop, for TTL, in one round trip. It sets rec.LastKey
// to tx.Key and counts the hop in rec.Hops: those two fields are the store's.
//   - A locked tx saves and releases the lock. If the lock was lost (it expired and another hop
//     took it, or the session ended), nothing is stored and the error wraps ErrLockLost.
//   - A guessed tx stores rec only if the session is still as this process saved it and nobody
//     holds its lock: a compare-and-set. Otherwise nothing is stored and stored is false: the guess
//     was wrong, and the hop must be answered again from the session as stored (Lock).
//
// A record larger than MaxRecord is not stored either (ErrTooLarge); a locked tx keeps its lock for
// Release. Committing a replay, or a tx already committed or released, is an error.
func (s *Store) Commit(ctx context.Context, tx *Tx, rec Record) (stored bool, err error) {
	if tx != nil {
		rec.LastKey, rec.Hops = tx.Key, tx.Record.Hops+1
	}
	return s.store(ctx, tx, rec)
}

// store is Commit with rec's LastKey and Hops as given.
func (s *Store) store(ctx context.Context, tx *Tx, rec Record) (bool, error) {
	if tx == nil || tx.token == "" {
		return false, errors.New("save session: no session taken")
	}
	if tx.Replay {
		return false, fmt.Errorf("save session %q: a replay holds no lock", tx.sessionID)
	}
	if tx.done {
		return false, fmt.Errorf("save session %q: already saved or released", tx.sessionID)
	}
	data, err := json.Marshal(&rec)
	if err != nil {
		return false, fmt.Errorf("save session %q: encode record: %w", tx.sessionID, err)
	}
	if len(data) > MaxRecord {
		return false, fmt.Errorf("save session %q: %d bytes: %w", tx.sessionID, len(data), ErrTooLarge)
	}
	if tx.guessed {
		return s.compareAndSet(ctx, tx, rec, data)
	}
	n, err := s.runSave(ctx, tx, saveScript, tx.token, rec.LastKey, data, s.ttlArg, rec.Hops)
	s.observe(ctx, err)
	if errors.Is(err, ErrNotReplicated) {
		tx.done = true
		s.recent.forget(tx.keys[0])
		return false, fmt.Errorf("save session %q: %w", tx.sessionID, err)
	}
	if err != nil {
		s.recent.forget(tx.keys[0])
		if mayHaveRun(err) {
			s.releaseLater(ctx, tx)
		}
		return false, fmt.Errorf("save session %q: %w", tx.sessionID, err)
	}
	tx.done = true
	if n != 1 {
		s.recent.forget(tx.keys[0])
		return false, fmt.Errorf("save session %q: %w", tx.sessionID, ErrLockLost)
	}
	s.recent.put(tx.keys[0], rec, tx.token)
	return true, nil
}

// runSave runs a script that saves tx's session and returns its reply. When the save matters (Durable,
// or a counted hop) and Options.Durability asks for replicas, it waits for them with WAIT, on the
// connection of the save: WAIT counts the writes of its own connection. A save they did not
// acknowledge in time returns ErrNotReplicated with the script's reply.
func (s *Store) runSave(ctx context.Context, tx *Tx, script *redis.Script, args ...any) (int64, error) {
	want := s.opt.Durability.Replicas
	if want <= 0 || !(tx.Durable || tx.counted) {
		return script.Run(ctx, s.rdb, tx.keys[:], args...).Int64()
	}
	node, err := s.masterFor(ctx, tx.keys[0])
	if err != nil {
		return 0, err
	}
	var (
		saved *redis.Cmd
		acked *redis.Cmd
	)
	saveAndWait := func(p redis.Pipeliner) error {
		saved = script.EvalSha(ctx, p, tx.keys[:], args...)
		acked = p.Do(ctx, "wait", want, s.opt.Durability.Timeout.Milliseconds())
		return nil
	}
	_, err = node.Pipelined(ctx, saveAndWait)
	if redis.HasErrorPrefix(saved.Err(), "NOSCRIPT") {
		if err = script.Load(ctx, node).Err(); err == nil {
			_, err = node.Pipelined(ctx, saveAndWait)
		}
	}
	if err != nil {
		s.reloadClusterState(ctx)
		return 0, cmp.Or(saved.Err(), err)
	}
	n, _ := saved.Int64()
	if got, _ := acked.Int64(); got < int64(want) {
		return n, fmt.Errorf("%w: %d of %d within %v", ErrNotReplicated, got, want, s.opt.Durability.Timeout)
	}
	return n, nil
}

// masterFor returns the client of the master that holds key.
func (s *Store) masterFor(ctx context.Context, key string) (*redis.Client, error) {
	switch c := s.node.(type) {
	case *redis.Client:
		return c, nil
	case *redis.ClusterClient:
		node, err := c.MasterForKey(ctx, key)
		if err != nil {
			s.reloadClusterState(ctx)
		}
		return node, err
	}
	return nil, fmt.Errorf("waiting for replicas: not supported on a %T", s.node)
}

// reloadClusterState refreshes Redis Cluster's slot map after a save that went to a node directly
// failed (the cluster client's own calls do so through the hook NewClient installs).
func (s *Store) reloadClusterState(ctx context.Context) {
	if c, ok := s.node.(*redis.ClusterClient); ok {
		c.ReloadState(ctx)
	}
}

// compareAndSet is store for a guess.
func (s *Store) compareAndSet(ctx context.Context, tx *Tx, rec Record, data []byte) (bool, error) {
	n, err := s.runSave(ctx, tx, commitScript, tx.rev, tx.token, rec.LastKey, data, s.ttlArg, rec.Hops,
		tx.Record.Hops)
	s.observe(ctx, err)
	tx.done = true
	if err != nil || n != 1 {
		s.recent.forget(tx.keys[0])
		if err != nil {
			return false, fmt.Errorf("save session %q: %w", tx.sessionID, err)
		}
		return false, nil
	}
	s.recent.put(tx.keys[0], rec, tx.token)
	return true, nil
}

// Guessed reports whether tx's record is a guess from this process's memory, which only Commit
// confirms: a hop may be answered from it only with an answer that Commit stores. A refusal, a
// replay or a step that writes must be decided on the session as stored: Lock it first.
func (tx *Tx) Guessed() bool { return tx != nil && tx.guessed }

// held reports whether tx still holds its session's lock: neither a guess nor a replay, and
// neither committed nor released.
func (tx *Tx) held() bool {
	return tx != nil && !tx.Replay && !tx.done && !tx.guessed && tx.token != ""
}

// Release gives the lock back without storing anything, on every way out of a hop but Commit (a
// refusal, a failure, a panic). It is a no-op for a tx that holds no lock (a guess, a replay, a tx
// committed or released already), so `defer store.Release(ctx, tx)` is safe after Begin. It runs on
// a short deadline of its own, whatever is left of ctx's: a hop that used up its deadline must
// still free the lock, or the caller's retry would wait for the lock to expire. Releasing a lock
// that already expired is not an error.
func (s *Store) Release(ctx context.Context, tx *Tx) error {
	if !tx.held() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	if err := releaseScript.Run(ctx, s.rdb, tx.keys[1:], tx.token).Err(); err != nil {
		return fmt.Errorf("release session %q: %w", tx.sessionID, err)
	}
	tx.done = true
	return nil
}

// End deletes the session and its lock (end-of-session events). A session that does not exist is
// not an error. A hop still running on the session then gets ErrLockLost from Commit.
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

// releaseLater frees, in the background, a lock tx may hold after a call whose outcome is
// unknown, so that the user's retry need not wait out LockTTL. The token check makes it harmless if
// the lock is not ours.
func (s *Store) releaseLater(ctx context.Context, tx *Tx) {
	lock, token := tx.keys[1], tx.token
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
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
