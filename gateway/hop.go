package gateway

import (
	"context"
	"encoding/json"
	"errors"
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

// ussdHop is the handler of a provider's USSD callback.
func (s *Server) ussdHop(wire *providers.USSD) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hop, err := wire.Parse(r)
		if err != nil {
			rejectRequest(w, r, s.log, err)
			return
		}
		body := s.hops.serve(r.Context(), hop, func(rep providers.Reply) []byte { return wire.Render(hop, rep) })
		w.Header().Set("Content-Type", wire.ContentType)
		w.WriteHeader(http.StatusOK)
		w.Write(body) //nolint:errcheck // the aggregator hung up; nothing left to do
	}
}

// pipeline runs one USSD hop within the hop deadline: take the session
// (sessions: from memory, or load and lock), step the menu (menus), and save
// it (sessions: compare-and-set, or save and unlock).
type pipeline struct {
	sessions *sessions.Store
	menus    *menus.Engine
	deadline time.Duration
	cfg      map[string]ProviderConfig
	log      *slog.Logger
	metrics  *metrics
}

// hop outcomes, for logs and metrics.
const (
	outcomeAnswered    = "answered"
	outcomeReplayed    = "replayed"
	outcomeRefused     = "refused"
	outcomeEnded       = "ended"
	outcomeUnavailable = "unavailable"
)

// serve always returns a well-formed reply, also when Redis or PostgreSQL
// fail, the deadline passes or a bug panics: aggregators end the session on
// anything else (protocols.md §1.3).
func (p *pipeline) serve(ctx context.Context, hop providers.Hop, render func(providers.Reply) []byte) (body []byte) {
	start := time.Now()
	outcome, lang, node := outcomeUnavailable, "", ""
	defer func() {
		if v := recover(); v != nil {
			p.log.Error("panic in hop", "req", middleware.GetReqID(ctx), "panic", fmt.Sprint(v),
				"at", panicSite())
			outcome, body = outcomeUnavailable, render(screenReply(p.menus.Unavailable(lang)))
		}
		took := time.Since(start)
		p.metrics.observeHop(hop.Provider, outcome, took)
		if p.log.Enabled(ctx, slog.LevelInfo) {
			p.log.LogAttrs(ctx, slog.LevelInfo, "hop",
				slog.String("req", middleware.GetReqID(ctx)),
				slog.String("provider", hop.Provider),
				slog.String("session", hop.SessionID),
				slog.String("phone", maskPhone(hop.Phone)),
				slog.String("outcome", outcome),
				slog.String("node", node),
				slog.Duration("took", took),
			)
		}
	}()

	// Everything below shares one deadline; a small reserve is kept so that
	// the reply still goes out in time when a dependency hangs to the end.
	ctx, cancel := context.WithTimeout(ctx, p.deadline-p.deadline/10)
	defer cancel()

	var err error
	outcome, node, body, err = p.step(ctx, hop, render, &lang)
	if err != nil {
		p.log.Warn("hop failed", "req", middleware.GetReqID(ctx), "provider", hop.Provider,
			"session", hop.SessionID, "err", err)
		return render(screenReply(p.menus.Unavailable(lang)))
	}
	return body
}

func (p *pipeline) step(ctx context.Context, hop providers.Hop, render func(providers.Reply) []byte, lang *string) (outcome, node string, body []byte, err error) {
	// End-of-session signals only clean up; they never step a menu or write
	// (protocols.md §5.4).
	if hop.End {
		if err := p.sessions.End(ctx, hop.Provider, hop.SessionID); err != nil {
			p.log.Warn("end session", "provider", hop.Provider, "session", hop.SessionID, "err", err)
		}
		return outcomeEnded, "", render(providers.Reply{End: true}), nil
	}
	if err := hop.Bound(); err != nil {
		return p.endOversized(ctx, hop, render, lang)
	}
	if hop.ServiceCode == "" {
		hop.ServiceCode = p.cfg[hop.Provider].ServiceCode
	}

	key, counted := hop.ReplayKey, hop.ReplayKey == ""
	if counted {
		// The aggregator numbers nothing: the key comes from the session's
		// count of answered hops (providers.Hop.KeyAt).
		key = hop.Text
	}
	// The usual hop: one round trip, from the record this instance saved last
	// (sessions.Store.Optimistic). Only an answer that was stored stands; a
	// refusal, a replay or a conflict is decided again the locked way.
	guess, ok := p.sessions.Optimistic(hop.Provider, hop.SessionID, key, counted, startsSession(hop))
	if ok {
		outcome, node, body, err = p.answer(ctx, hop, guess, render, lang)
		if errors.Is(err, sessions.ErrConflict) {
			p.metrics.conflicts.Inc()
		} else if !errors.Is(err, errNotOptimistic) {
			return outcome, node, body, err
		}
	}

	var lease *sessions.Lease
	switch {
	case ok:
		lease, err = p.sessions.AcquireAfter(ctx, guess)
	case counted:
		lease, err = p.sessions.AcquireCounted(ctx, hop.Provider, hop.SessionID, key)
	default:
		lease, err = p.sessions.Acquire(ctx, hop.Provider, hop.SessionID, key)
	}
	if err != nil {
		return outcomeUnavailable, "", nil, err
	}
	// A no-op once saved; on every other way out (refusal, failure, panic)
	// it frees the session at once rather than after the lock's TTL.
	defer p.release(ctx, lease)
	return p.answer(ctx, hop, lease, render, lang)
}

// endOversized answers a hop whose transcript no real session reaches
// (providers.ErrTooLong): the session ends with the session-error screen, in
// the caller's language, and what Redis held of it goes too, so that none of
// the text is kept.
func (p *pipeline) endOversized(ctx context.Context, hop providers.Hop, render func(providers.Reply) []byte, lang *string) (outcome, node string, body []byte, err error) {
	p.log.Warn("transcript too long: session ended", "req", middleware.GetReqID(ctx), "provider", hop.Provider,
		"session", hop.SessionID, "phone", maskPhone(hop.Phone), "bytes", len(hop.Text))
	if err := p.sessions.End(ctx, hop.Provider, hop.SessionID); err != nil {
		p.log.Warn("end session", "provider", hop.Provider, "session", hop.SessionID, "err", err)
	}
	// A preference, not worth a failed answer: on error the default applies.
	*lang, _ = p.menus.LanguageOf(ctx, hop.Phone)
	return outcomeRefused, "", render(screenReply(p.menus.SessionError(*lang))), nil
}

// errNotOptimistic: an optimistic lease led to an answer that only the stored
// record may decide: a refusal, a replay, or a step that writes (a renewal
// confirmed from a stale copy would be written with stale amounts).
var errNotOptimistic = errors.New("answer needs the stored session")

// startsSession reports whether hop is, as far as the wire tells, the first
// of its session: marked so by the aggregator, or Africa's Talking's first
// hop (nothing typed yet).
func startsSession(hop providers.Hop) bool {
	return hop.Start || (hop.Accumulated && hop.Text == "")
}

// answer steps the menu from lease's record and saves the result.
func (p *pipeline) answer(ctx context.Context, hop providers.Hop, lease *sessions.Lease, render func(providers.Reply) []byte, lang *string) (outcome, node string, body []byte, err error) {
	rec := lease.Record
	*lang = rec.Lang
	first := !lease.Found
	refuse := func() (string, string, []byte, error) {
		if lease.Optimistic() {
			return "", "", nil, errNotOptimistic
		}
		return outcomeRefused, "", render(screenReply(p.menus.SessionError(rec.Lang))), nil
	}
	// A session stays bound to the phone and service code it began with.
	if !first && !hop.BoundTo(rec.Phone, rec.ServiceCode) {
		return refuse()
	}
	if lease.Replay {
		return outcomeReplayed, "", rec.Reply, nil
	}
	inputs, err := hop.Inputs(rec.Transcript, first)
	if err != nil || (!first && hop.Stale(rec.Hops)) {
		// A late or reordered hop: answer it, but leave the session as the
		// newer hop left it.
		return refuse()
	}
	if first && len(inputs) > 0 && lease.Optimistic() {
		return "", "", nil, errNotOptimistic // a pre-dialled route may walk into a step that writes
	}

	caller := menus.Caller{Phone: hop.Phone, Lang: rec.Lang, Budget: p.cfg[hop.Provider].Budget,
		Session: hop.Provider + ":" + hop.SessionID, Provider: hop.Provider}
	if first {
		// A preference, not worth a failed session: on error the default applies.
		if caller.Lang, err = p.menus.LanguageOf(ctx, hop.Phone); err != nil {
			p.log.Warn("language of caller", "provider", hop.Provider, "session", hop.SessionID, "err", err)
		}
	}
	var (
		st     menus.State
		screen menus.Screen
	)
	if first {
		st, screen, err = p.menus.Begin(ctx, caller, inputs)
	} else {
		if err = json.Unmarshal(rec.State, &st); err != nil {
			return outcomeUnavailable, "", nil, fmt.Errorf("decode menu state: %w", err)
		}
		if lease.Optimistic() && st.Writes() {
			return "", "", nil, errNotOptimistic
		}
		st, screen, err = p.menus.Next(ctx, caller, st, inputs[0])
	}
	if err != nil {
		return outcomeUnavailable, st.Node, nil, err
	}

	body = render(screenReply(screen))
	state, err := json.Marshal(st)
	if err != nil {
		return outcomeUnavailable, st.Node, nil, fmt.Errorf("encode menu state: %w", err)
	}
	if first {
		rec.Provider, rec.Phone, rec.ServiceCode = hop.Provider, hop.Phone, hop.ServiceCode
	}
	if hop.Accumulated {
		rec.Transcript = hop.Text
	}
	rec.LastKey = lease.Key
	rec.Lang = st.Lang
	rec.Reply = body
	rec.Hops++
	rec.State = state
	// Final screens are saved too, so that a retried last hop replays them.
	if err := p.sessions.Save(ctx, lease, rec); err != nil {
		return outcomeUnavailable, st.Node, nil, err
	}
	return outcomeAnswered, st.Node, body, nil
}

// release gives the session lock back; a failure only delays the next hop
// until the lock expires, so it is logged, not returned.
//
// It runs on its own short deadline: after a hop that used up its own, the
// lock must still go, or the caller's next try would wait for its expiry.
func (p *pipeline) release(ctx context.Context, lease *sessions.Lease) {
	if !lease.Held() {
		return // saved, or a replay: the usual way out costs nothing
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	if err := p.sessions.Release(ctx, lease); err != nil {
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
