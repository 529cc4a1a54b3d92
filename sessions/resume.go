package sessions

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// A resume point is where a caller whose session dropped (the network timed out, the aggregator
// ended it, the caller stopped answering) may pick it up again, on a new session of the same phone
// and service code, within Options.ResumeWindow of its last answered hop (docs/design.md, "Resume
// points"). It is kept apart from the session, under the phone, because the new session has another
// id:
//
//	imisgw:{+255712345678}:resume:*384*1234#   hash {s: "<provider>:<session id>" that wrote it,
//	                                           h: that session's hops answered when it did,
//	                                           p: the point as JSON, "" once forgotten}; ResumeWindow
//
// The gateway says on each Tx what the hop does to it (Tx.Resume), and Commit writes it in the
// round trip of the save, pipelined: no round trip of its own. Only the first hop of a session reads
// it (ResumePointOf), one round trip. A write carries its session's count of hops, and never
// replaces a point of the same session written at a later hop: a guess that lost its
// compare-and-set, or a late copy of a hop, cannot bring back an older screen or a forgotten point.

// DefaultResumeWindow is how long after its last answered hop a dropped session may be resumed.
const DefaultResumeWindow = 3 * time.Minute

// Resume is what a hop does to its caller's resume point, when Commit stores the hop (or Release
// ends a refused one).
type Resume int8

const (
	// ResumeUnchanged leaves the point as it is.
	ResumeUnchanged Resume = iota
	// ResumeKeep makes the session as committed the point: provider, language and menu state.
	ResumeKeep
	// ResumeForget forgets the point: the session reached a final screen, was refused, or is back
	// where resuming would gain nothing.
	ResumeForget
)

// ResumePoint is where a dropped session may be resumed.
type ResumePoint struct {
	Provider  string          `json:"p"`
	SessionID string          `json:"-"` // of the session that left it (from the hash's s)
	Lang      string          `json:"l,omitempty"`
	State     json.RawMessage `json:"s"` // menu state, opaque to this package
}

// resumeScript: KEYS = resume point; ARGV = session, hops answered, point ("" forgets), TTL (ms).
// Returns 1 when written, 0 when the key holds the same session at a later hop. Safe to run twice.
var resumeScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 's', 'h')
if cur[1] == ARGV[1] and tonumber(cur[2]) > tonumber(ARGV[2]) then
	return 0
end
redis.call('HSET', KEYS[1], 's', ARGV[1], 'h', ARGV[2], 'p', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`)

// resumeWrite is the resume script's call for one hop; a nil *resumeWrite writes nothing.
type resumeWrite struct {
	key  []string
	args []any
}

func (w *resumeWrite) evalSha(ctx context.Context, p redis.Pipeliner) *redis.Cmd {
	return resumeScript.EvalSha(ctx, p, w.key, w.args...)
}

// ResumeWindow is how long a dropped session may be resumed; 0 when resume points are off.
func (s *Store) ResumeWindow() time.Duration { return max(s.opt.ResumeWindow, 0) }

// resumeKey returns the key of the resume point of phone and serviceCode, hash-tagged on the phone;
// ok is false when either cannot be one (a phone or code no aggregator sends).
func (s *Store) resumeKey(phone, serviceCode string) (string, bool) {
	if phone == "" || len(phone) > maxResumePhone || len(serviceCode) > maxResumeCode {
		return "", false
	}
	return s.opt.Prefix + ":{" + phone + "}:resume:" + serviceCode, true
}

// Bounds on the parts of a resume point's key: E.164 numbers have 15 digits, service codes some 20
// characters. Longer ones are not keyed at all rather than grow Redis.
const (
	maxResumePhone = 32
	maxResumeCode  = 64
)

// resumeWriteFor returns what committing rec (with its Hops counted) does to its resume point, or
// nil for nothing.
func (s *Store) resumeWriteFor(tx *Tx, rec Record) (*resumeWrite, error) {
	if tx.Resume == ResumeUnchanged || s.opt.ResumeWindow <= 0 {
		return nil, nil
	}
	key, ok := s.resumeKey(rec.Phone, rec.ServiceCode)
	if !ok {
		return nil, nil
	}
	point := ""
	if tx.Resume == ResumeKeep {
		data, err := json.Marshal(ResumePoint{Provider: rec.Provider, Lang: rec.Lang, State: rec.State})
		if err != nil {
			return nil, fmt.Errorf("encode resume point: %w", err)
		}
		point = string(data)
	}
	return &resumeWrite{key: []string{key},
		args: []any{rec.Provider + ":" + tx.sessionID, rec.Hops, point, s.resumeTTLArg}}, nil
}

// ResumePointOf returns the resume point of phone and serviceCode, in one round trip; ok is false
// when there is none (never written, forgotten, or older than the window), and without a round
// trip when resume points are off.
func (s *Store) ResumePointOf(ctx context.Context, phone, serviceCode string) (ResumePoint, bool, error) {
	key, ok := s.resumeKey(phone, serviceCode)
	if s.opt.ResumeWindow <= 0 || !ok {
		return ResumePoint{}, false, nil
	}
	got, err := s.rdb.HMGet(ctx, key, "s", "p").Result()
	if err != nil {
		return ResumePoint{}, false, fmt.Errorf("resume point: %w", err)
	}
	session, _ := got[0].(string)
	raw, _ := got[1].(string)
	if raw == "" {
		return ResumePoint{}, false, nil
	}
	var point ResumePoint
	if err := json.Unmarshal([]byte(raw), &point); err != nil {
		return ResumePoint{}, false, fmt.Errorf("resume point: %w", err)
	}
	_, point.SessionID, _ = strings.Cut(session, ":")
	return point, true, nil
}

// pipelineScripts runs the script calls queue adds (EVALSHA) in one pipeline on c, and returns
// them: each command has its own reply or error. On NOSCRIPT (a Redis that restarted or failed
// over, or a Cluster node that never ran them) it loads the scripts and runs the whole pipeline
// again: every script is safe to run twice. The error is that of loading them.
func pipelineScripts(ctx context.Context, c redis.Cmdable, queue func(redis.Pipeliner) []*redis.Cmd, scripts ...*redis.Script) ([]*redis.Cmd, error) {
	var cmds []*redis.Cmd
	run := func(p redis.Pipeliner) error { cmds = queue(p); return nil }
	_, _ = c.Pipelined(ctx, run) // each command keeps its own error
	if !slices.ContainsFunc(cmds, func(cmd *redis.Cmd) bool { return redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") }) {
		return cmds, nil
	}
	for _, script := range scripts {
		if err := script.Load(ctx, c).Err(); err != nil {
			return cmds, err
		}
	}
	_, _ = c.Pipelined(ctx, run)
	return cmds, nil
}
