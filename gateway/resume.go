package gateway

import (
	"context"
	"encoding/json"

	"github.com/openimis/imis-gateway/menus"
	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/sessions"
)

// Resuming a dropped session (README.md, "Resuming a dropped session"): every answered hop says
// what it does to its caller's resume point (sessions/resume.go), and the first hop of a new
// session without a pre-dialled route opens on the offer to resume, when there is a point.

// begin starts a session's menu: on the offer to resume the caller's dropped session, when the hop
// pre-dials no route and there is one to resume, else as the menus begin it.
func (p *ussdPipeline) begin(ctx context.Context, hop providers.Hop, caller menus.Caller, route []string) (menus.State, menus.Screen, error) {
	if len(route) == 0 {
		if saved, ok := p.dropped(ctx, hop); ok {
			return p.menus.Offer(ctx, caller, saved)
		}
	}
	return p.menus.Begin(ctx, caller, route)
}

// dropped returns the state hop's caller may resume: the resume point of their phone and service
// code, left by another session through the same aggregator, on a screen worth resuming. A
// convenience, not worth a failed answer: when Redis cannot say, there is none.
func (p *ussdPipeline) dropped(ctx context.Context, hop providers.Hop) (menus.State, bool) {
	point, ok, err := p.sessions.ResumePointOf(ctx, hop.Phone, hop.ServiceCode)
	if err != nil {
		p.log.Warn("resume point", "provider", hop.Provider, "session", hop.SessionID, "phone", maskPhone(hop.Phone), "err", err)
		return menus.State{}, false
	}
	if !ok || point.Provider != hop.Provider || point.SessionID == hop.SessionID {
		return menus.State{}, false
	}
	var saved menus.State
	if err := json.Unmarshal(point.State, &saved); err != nil || !p.menus.Resumable(saved) {
		return menus.State{}, false
	}
	return saved, true
}

// resumeAfter says what a hop that stepped the menu from state from to state to, showing screen,
// does to its caller's resume point: a screen worth resuming becomes it; the offer leaves it until
// it is answered (a retried first hop must not consume it); leaving a screen worth resuming, or the
// offer, for a final screen or the main menu forgets it.
func (p *ussdPipeline) resumeAfter(from, to menus.State, screen menus.Screen) sessions.Resume {
	switch {
	case to.Offering():
		return sessions.ResumeUnchanged
	case !screen.End && p.menus.Resumable(to):
		return sessions.ResumeKeep
	case p.menus.Resumable(from) || from.Offering():
		return sessions.ResumeForget
	}
	return sessions.ResumeUnchanged
}
