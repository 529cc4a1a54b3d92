package menus

import "context"

// Resuming a dropped session (README.md, "Resuming a dropped session"): when the caller's last
// session ended on a screen that was no end, the gateway keeps its state, and the caller's next
// session opens on an offer: continue where it was, or start over. Which screens are worth it, and
// the few words that say where the caller was, are the menus' to say.

// whereMsgs names, for each screen worth resuming, where the caller was. A screen is worth it when
// it holds what the caller typed: an insurance number, a receipt, an amount. The screens one key
// from the main menu (asking for the first number, the Language menu) are not: the main menu is as
// near, and an offer would only stand in the way; nor is the offer itself.
var whereMsgs = map[string]msg{
	NodeClaimsList:   msgWhereClaimsList,
	NodeRenewReceipt: msgWhereRenewReceipt,
	NodeRenewAmount:  msgWhereRenewAmount,
	NodeRenewConfirm: msgWhereRenewConfirm,
}

// Resumable reports whether a session left at st (on a screen that does not end it) is worth
// offering to resume: a screen of this engine's that holds what the caller typed (whereMsgs).
func (e *Engine) Resumable(st State) bool {
	_, where := whereMsgs[st.Node]
	_, known := e.nodes[st.Node]
	return where && known
}

// Offering reports whether st is the offer to resume a dropped session, not yet answered.
func (st State) Offering() bool { return st.Node == NodeResume }

// Offer begins a session on the offer to resume the dropped session left at saved (Resumable),
// in saved's language: "1" continues on saved's screen as it was, with what had been typed; "2"
// starts over at the main menu. Continuing never answers a screen, it shows it: a renewal left on
// its summary shows the summary again, to be confirmed again.
func (e *Engine) Offer(ctx context.Context, caller Caller, saved State) (State, Screen, error) {
	lang := saved.Lang
	if !Supported(lang) {
		lang = caller.Lang
	}
	c := e.newCall(ctx, caller, lang)
	return e.render(c, State{Node: NodeResume, Lang: c.lang, Resume: &saved}, "")
}

func (e *Engine) resumeView(c *call, st *State) (view, error) {
	if st.Resume == nil || !e.Resumable(*st.Resume) {
		// An offer of nothing to resume (a state crafted, or from another configuration) is the
		// main menu.
		*st = home(*st)
		return e.mainView(c, st)
	}
	where := whereMsgs[st.Resume.Node]
	return view{title: c.t(msgResumeTitle, nil), body: lines(
		c.item(1, c.t(msgResumeContinue, vars{"Where": c.t(where, nil)})),
		c.item(2, c.t(msgResumeRestart, nil)))}, nil
}

func (e *Engine) resumeInput(c *call, st State, in string) (step, error) {
	switch menuChoice(in) {
	case 1:
		if st.Resume != nil && e.Resumable(*st.Resume) {
			return step{resume: true}, nil
		}
		return step{home: true}, nil
	case 2:
		return step{home: true}, nil
	}
	return step{notice: c.t(msgInvalidChoice, nil)}, nil
}
