package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/openimis/imis-gateway/menus"
	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/sessions"
)

// hopHandler answers a provider's USSD callback: each request is one hop.
func (s *Server) hopHandler(wire *providers.USSD) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hop, err := wire.Parse(r)
		if err != nil {
			rejectRequest(w, r, s.log, err)
			return
		}
		body := s.ussd.serve(r.Context(), hop, func(rep providers.Reply) []byte { return wire.Render(hop, rep) })
		w.Header().Set("Content-Type", wire.ContentType)
		w.WriteHeader(http.StatusOK)
		w.Write(body) //nolint:errcheck // the aggregator hung up; nothing left to do
	}
}

// ussdPipeline runs one USSD hop within the hop deadline: take the session
// (sessions.Store.Begin), step the menu (menus), and save what the hop made of
// it (sessions.Store.Commit).
type ussdPipeline struct {
	sessions *sessions.Store
	menus    *menus.Engine
	deadline time.Duration
	cfg      map[string]ProviderConfig
	log      *slog.Logger
	metrics  *Metrics
	trace    *Tracer
}

// hop outcomes, for logs and metrics.
const (
	outcomeAnswered    = "answered"
	outcomeReplayed    = "replayed"
	outcomeRefused     = "refused"
	outcomeEnded       = "ended"
	outcomeLost        = "lost" // a hop of a session Redis no longer holds
	outcomeUnavailable = "unavailable"
)

// result is what a hop came to: the reply, and what the log and the metrics
// say of it.
type result struct {
	outcome string
	node    string // the menu node the hop left the session on, if it got that far
	body    []byte
	began   bool // the hop is its session's first
	end     bool // the reply ends the session
	// asked is the node whose question input answered ("" on a session's
	// first hop, whose input is the pre-dialled route), for the trace.
	asked, input string
}

// renderFunc renders a reply in the provider's wire format.
type renderFunc func(providers.Reply) []byte

// serve always returns a well-formed reply, also when Redis or PostgreSQL
// fail, the deadline passes or a bug panics: aggregators end the session on
// anything else (docs/providers.md, "Africa's Talking USSD hop").
func (p *ussdPipeline) serve(ctx context.Context, hop providers.Hop, render renderFunc) []byte {
	start := time.Now()
	// Everything below shares one deadline; a small reserve is kept so that
	// the reply still goes out in time when a dependency hangs to the end.
	ctx, cancel := context.WithTimeout(ctx, p.deadline-p.deadline/10)
	defer cancel()

	var shown providers.Reply
	res := p.run(ctx, hop, func(r providers.Reply) []byte { shown = r; return render(r) })

	took := time.Since(start)
	p.metrics.observeHop(hop.Provider, res, took)
	p.trace.hop(start, hop, res, shown, took)
	// An ordinary hop is a debug line: at the default level a line per hop
	// cost about a sixth of the gateway's CPU, and the metrics count them.
	level := slog.LevelDebug
	if res.outcome == outcomeRefused || res.outcome == outcomeUnavailable || res.outcome == outcomeLost {
		level = slog.LevelInfo
	}
	if p.log.Enabled(ctx, level) {
		p.log.LogAttrs(ctx, level, "hop",
			slog.String("req", middleware.GetReqID(ctx)),
			slog.String("provider", hop.Provider),
			slog.String("session", hop.SessionID),
			slog.String("phone", maskPhone(hop.Phone)),
			slog.String("outcome", res.outcome),
			slog.String("node", res.node),
			slog.Duration("took", took),
		)
	}
	return res.body
}

// run answers hop: begin (take the session), step the menu, commit (save the
// session), with the reply rendered on the way. It recovers from a panic, and
// answers any failure with the "temporarily unavailable" screen.
func (p *ussdPipeline) run(ctx context.Context, hop providers.Hop, render renderFunc) (res result) {
	var tx *sessions.Tx
	defer func() {
		if v := recover(); v != nil {
			p.log.Error("panic in hop", "req", middleware.GetReqID(ctx), "panic", fmt.Sprint(v),
				"at", panicSite())
			res = p.unavailable(render, tx)
		}
	}()

	// End-of-session signals only clean up; they never step a menu or write
	// (docs/providers.md, "Replay keys").
	if hop.End {
		if err := p.sessions.End(ctx, hop.Provider, hop.SessionID); err != nil {
			p.log.Warn("end session", "provider", hop.Provider, "session", hop.SessionID, "err", err)
		}
		return result{outcome: outcomeEnded, body: render(providers.Reply{End: true})}
	}
	if err := hop.Bound(); err != nil {
		return p.endOversized(ctx, hop, render)
	}
	if hop.ServiceCode == "" {
		hop.ServiceCode = p.cfg[hop.Provider].ServiceCode
	}

	// The usual hop takes one round trip: the session is taken from the
	// record this instance saved last, and the commit compare-and-sets it.
	tx, err := p.sessions.Begin(ctx, sessionRequest(hop))
	if err != nil {
		return p.failed(ctx, hop, render, tx, "", err)
	}
	// A no-op once committed; on every other way out (refusal, failure,
	// panic) it frees the session at once rather than after the lock's TTL.
	defer p.release(ctx, tx)

	// The loop runs at most twice: once from a guess, and once from the
	// session as stored (Lock), which is no guess.
	for {
		a, err := p.step(ctx, hop, tx, render)
		if err != nil {
			return p.failed(ctx, hop, render, tx, a.node, err)
		}
		switch {
		case a.needsStored:
			// Only an answer that is stored stands on a guess.
		case a.outcome != outcomeAnswered:
			tx.Resume = a.resume // a refusal forgets it as the lock is released
			return a.result      // a replay or a refusal: nothing to store
		default:
			tx.Durable, tx.Resume = a.durable, a.resume
			stored, err := p.sessions.Commit(ctx, tx, a.save)
			if err != nil {
				return p.failed(ctx, hop, render, tx, a.node, err)
			}
			if stored {
				return a.result
			}
			// The guess was wrong: another instance or a copy of this hop
			// got there first.
			p.metrics.conflicts.Inc()
		}
		if err := p.sessions.Lock(ctx, tx); err != nil {
			return p.failed(ctx, hop, render, tx, "", err)
		}
	}
}

// sessionRequest names hop's session and tells hop from a retry of it.
func sessionRequest(hop providers.Hop) sessions.Request {
	r := sessions.Request{Provider: hop.Provider, SessionID: hop.SessionID, Key: hop.ReplayKey,
		Start: startsSession(hop)}
	if hop.ReplayKey == "" {
		// The aggregator numbers nothing: the key comes from the session's
		// count of answered hops (providers.Hop.KeyAt).
		r.Key, r.Counted = hop.Text, true
	}
	return r
}

// startsSession reports whether hop is, as far as the wire tells, the first
// of its session: marked so by the aggregator, or Africa's Talking's first
// hop (nothing typed yet).
func startsSession(hop providers.Hop) bool {
	return hop.Start || (hop.Accumulated && hop.Text == "")
}

// answer is what the menu made of a hop, before the session is saved.
type answer struct {
	result
	// save is the session as an answered hop (outcomeAnswered) leaves it,
	// for Commit.
	save sessions.Record
	// durable: save leads to a write (a confirmation screen), so it must
	// survive a Redis failover (sessions.Tx.Durable).
	durable bool
	// needsStored: the hop may only be answered from the session as stored,
	// and the tx holds a guess. A refusal or a replay decided on a guess must
	// be confirmed; a step that writes (a renewal confirmed from a stale
	// copy would be written with stale amounts), or a pre-dialled route,
	// which may walk into one, must start from the truth.
	needsStored bool
	// resume is what the hop does to its caller's resume point (resume.go).
	resume sessions.Resume
}

// step answers hop from the session in tx: it checks that hop may go on
// with the session, and steps the menu.
func (p *ussdPipeline) step(ctx context.Context, hop providers.Hop, tx *sessions.Tx, render renderFunc) (answer, error) {
	rec := tx.Record
	first := !tx.Found
	refuse := func() (answer, error) {
		if tx.Guessed() {
			return answer{needsStored: true}, nil
		}
		return answer{result: result{outcome: outcomeRefused, body: render(screenReply(p.menus.SessionError(rec.Lang)))}}, nil
	}
	// A session stays bound to the phone and service code it began with.
	if !first && !hop.BoundTo(rec.Phone, rec.ServiceCode) {
		return refuse()
	}
	if tx.Replay {
		return answer{result: result{outcome: outcomeReplayed, body: rec.Reply}}, nil
	}
	if first && !startsSession(hop) && !hop.Accumulated {
		// The aggregator's session goes on, but Redis has no record of it:
		// it expired, or a failover lost it. Its input was typed on a
		// screen this hop cannot know, so it is applied to none, and the
		// caller is told to dial again. A preference, not worth a failed
		// answer: on error the default language applies.
		lang, _ := p.menus.LanguageOf(ctx, hop.Phone)
		return answer{result: result{outcome: outcomeLost, body: render(screenReply(p.menus.SessionError(lang)))}}, nil
	}
	inputs, err := hop.Inputs(rec.Transcript, first)
	if err != nil || (!first && hop.Stale(rec.Hops)) {
		// A late or reordered hop: answer it, but leave the session as the
		// newer hop left it, and not to be resumed.
		a, err := refuse()
		a.resume = sessions.ResumeForget
		return a, err
	}
	if first && len(inputs) > 0 && tx.Guessed() {
		return answer{needsStored: true}, nil
	}

	caller := menus.Caller{Phone: hop.Phone, Lang: rec.Lang, Budget: p.cfg[hop.Provider].Budget,
		Session: hop.Provider + ":" + hop.SessionID, Provider: hop.Provider}
	var (
		from   menus.State // the state the hop steps from; none for a first hop
		st     menus.State
		screen menus.Screen
	)
	if first {
		// A preference, not worth a failed session: on error the default applies.
		if caller.Lang, err = p.menus.LanguageOf(ctx, hop.Phone); err != nil {
			p.log.Warn("language of caller", "provider", hop.Provider, "session", hop.SessionID, "err", err)
		}
		st, screen, err = p.begin(ctx, hop, caller, inputs)
	} else {
		if err = json.Unmarshal(rec.State, &from); err != nil {
			return answer{}, fmt.Errorf("decode menu state: %w", err)
		}
		if tx.Guessed() && from.Writes() {
			return answer{needsStored: true}, nil
		}
		st, screen, err = p.menus.Next(ctx, caller, from, inputs[0])
	}
	if err != nil {
		return answer{result: result{node: st.Node}}, err
	}

	body := render(screenReply(screen))
	state, err := json.Marshal(st)
	if err != nil {
		return answer{result: result{node: st.Node}}, fmt.Errorf("encode menu state: %w", err)
	}
	if first {
		rec.Provider, rec.Phone, rec.ServiceCode = hop.Provider, hop.Phone, hop.ServiceCode
	}
	if hop.Accumulated {
		rec.Transcript = hop.Text
	}
	rec.Lang = st.Lang
	rec.Reply = body
	rec.State = state
	// Final screens are saved too, so that a retried last hop replays them.
	return answer{result: result{outcome: outcomeAnswered, node: st.Node, body: body, began: first, end: screen.End,
		asked: from.Node, input: strings.Join(inputs, "*")}, save: rec, durable: st.Writes(),
		resume: p.resumeAfter(from, st, screen)}, nil
}

// endOversized answers a hop whose transcript no real session reaches
// (providers.ErrTooLong): the session ends with the session-error screen, in
// the caller's language, and what Redis held of it goes too, so that none of
// the text is kept.
func (p *ussdPipeline) endOversized(ctx context.Context, hop providers.Hop, render renderFunc) result {
	p.log.Warn("transcript too long: session ended", "req", middleware.GetReqID(ctx), "provider", hop.Provider,
		"session", hop.SessionID, "phone", maskPhone(hop.Phone), "bytes", len(hop.Text))
	if err := p.sessions.End(ctx, hop.Provider, hop.SessionID); err != nil {
		p.log.Warn("end session", "provider", hop.Provider, "session", hop.SessionID, "err", err)
	}
	// A preference, not worth a failed answer: on error the default applies.
	lang, _ := p.menus.LanguageOf(ctx, hop.Phone)
	return result{outcome: outcomeRefused, body: render(screenReply(p.menus.SessionError(lang)))}
}

// failed answers a hop that could not be answered: the "temporarily
// unavailable" screen. The error is logged, not shown.
func (p *ussdPipeline) failed(ctx context.Context, hop providers.Hop, render renderFunc, tx *sessions.Tx, node string, err error) result {
	p.log.Warn("hop failed", "req", middleware.GetReqID(ctx), "provider", hop.Provider,
		"session", hop.SessionID, "err", err)
	res := p.unavailable(render, tx)
	res.node = node
	return res
}

// unavailable is the "temporarily unavailable" screen, in the language of
// the session in tx as far as it is known.
func (p *ussdPipeline) unavailable(render renderFunc, tx *sessions.Tx) result {
	lang := ""
	if tx != nil {
		lang = tx.Record.Lang
	}
	return result{outcome: outcomeUnavailable, body: render(screenReply(p.menus.Unavailable(lang)))}
}

// release gives the session lock back, if the hop still holds it; a failure
// only delays the next hop until the lock expires, so it is logged, not
// returned.
func (p *ussdPipeline) release(ctx context.Context, tx *sessions.Tx) {
	if err := p.sessions.Release(ctx, tx); err != nil {
		p.log.Warn("release session lock", "err", err)
	}
}

func screenReply(s menus.Screen) providers.Reply {
	return providers.Reply{Text: s.Text, End: s.End}
}

// panicSite names the function and line that panicked, for a one-line log
// entry instead of a stack dump.
func panicSite() string {
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(1, pcs)])
	afterPanic := false
	for {
		f, more := frames.Next()
		if afterPanic && !strings.HasPrefix(f.Function, "runtime.") {
			return fmt.Sprintf("%s (%s:%d)", f.Function, f.File, f.Line)
		}
		if f.Function == "runtime.gopanic" {
			afterPanic = true
		}
		if !more {
			return "unknown"
		}
	}
}
