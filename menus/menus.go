// Package menus runs the USSD state machines: pure logic over the interfaces it
// declares, with no HTTP and no knowledge of aggregators.
//
// A menu is a set of nodes (name → prompt and input handler) plus the list of
// main-menu items. Adding a screen is adding a node to Engine.nodes; adding a
// main-menu entry is adding a menuItem to Engine.items (both in New).
package menus

import (
	"context"
	"strings"
	"time"

	"github.com/openimis/imis-gateway/policystore"
)

// CoverageSource is what the membership check needs from the policy store.
type CoverageSource interface {
	// Coverage returns what is known about the insurance number on the
	// scheme-local calendar date today (UTC midnight of that date), or an
	// error wrapping policystore.ErrInsureeNotFound.
	Coverage(ctx context.Context, chfid string, today time.Time) (policystore.Coverage, error)
}

// Screen is what the phone shows after a hop.
type Screen struct {
	Text string
	End  bool // the session ends with this screen
}

// Caller is who dialled.
type Caller struct {
	Phone string // as the aggregator sent it
	Lang  string // "en", "fr", "sw", "ne"; empty means the engine's default
}

// State is a session's position in the menu tree. It is stored by the
// gateway between hops (JSON), so it stays small.
type State struct {
	Node string   `json:"n"`           // current node, e.g. "main", "membership.ask"
	Back []string `json:"b,omitempty"` // nodes to return to on "0"
}

// Node names. They are stored in sessions (State.Node, State.Back), so a
// rename strands live sessions on the main menu; keep them stable.
const (
	NodeMain          = "main"
	NodeMembershipAsk = "membership.ask"
)

// Navigation keys (protocols.md §5.5). Never '*': it separates inputs in
// Africa's Talking's accumulated transcript.
const (
	keyBack = "0"
	keyHome = "00"
)

const (
	// screenBudget is the longest screen in characters: 160 GSM-7 septets
	// (protocols.md §5.1). English texts are plain ASCII, one septet each.
	screenBudget = 160
	// maxBack bounds State.Back; the menu tree is shallow, so hitting it
	// means a loop, and the oldest entries go.
	maxBack = 8
	// maxRoute bounds how many pre-dialled inputs Begin applies: every
	// insurance number in a route may cost a database query.
	maxRoute = 8
)

// Options configure an Engine. Zero values take the defaults.
type Options struct {
	Now         func() time.Time // default time.Now
	Location    *time.Location   // the scheme's time zone; "today" is computed in it (default time.UTC)
	PhoneRegion string           // ISO region for local phone numbers, default "TZ"
	CHFIDMaxLen int              // longest insurance number the database allows (12 in the openIMIS 1.4.2 dump, 50 after Django migration); default 12
	DefaultLang string           // default "en"
}

// Engine runs the USSD menu. It holds no per-session data and is safe for
// concurrent use.
type Engine struct {
	src   CoverageSource
	opt   Options
	nodes map[string]node
	items []menuItem
}

// node is one screen of the menu tree and what its inputs do.
type node struct {
	prompt func(h *hop) string
	// nav shows the "0 Back 00 Menu" line under the prompt.
	nav bool
	// input applies one trimmed input that is not a navigation key. An error
	// is an infrastructure failure, never a user mistake.
	input func(h *hop, in string) (step, error)
}

// step is what an input leads to.
type step struct {
	to     string // enter this node, remembering the current one for "0"; "" stays
	notice string // a line shown above the prompt (a mistake, a retry reason)
	end    string // when set, the session ends with this text
}

// menuItem is one main-menu entry, shown (and numbered) only where it applies.
type menuItem struct {
	label   msg
	applies func(Caller) bool
	node    string
}

// hop carries one Begin or Next call's context to the node handlers; it
// lives no longer than that call.
type hop struct {
	ctx    context.Context
	caller Caller
	lang   string
	phone  callerPhone
}

// New returns an Engine over src.
func New(src CoverageSource, opt Options) *Engine {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	if opt.PhoneRegion = strings.ToUpper(strings.TrimSpace(opt.PhoneRegion)); opt.PhoneRegion == "" {
		opt.PhoneRegion = "TZ"
	}
	if opt.CHFIDMaxLen <= 0 {
		opt.CHFIDMaxLen = 12
	}
	if !hasCatalog(opt.DefaultLang) {
		opt.DefaultLang = "en"
	}
	e := &Engine{src: src, opt: opt}
	e.nodes = map[string]node{
		NodeMain:          {prompt: e.mainPrompt, input: e.mainInput},
		NodeMembershipAsk: {prompt: e.membershipPrompt, nav: true, input: e.membershipInput},
	}
	e.items = []menuItem{
		{label: msgItemCheck, applies: always, node: NodeMembershipAsk},
	}
	return e
}

func always(Caller) bool { return true }

// Begin starts a session: the main menu, or, when the user pre-dialled a
// route (*384*1*<insurance no># arrives as route ["1", "<insurance no>"]),
// the route's inputs applied in order, stopping early if a screen ends the
// session. Inputs after the first eight (maxRoute) are ignored: each
// insurance number in a route may cost a database query.
func (e *Engine) Begin(ctx context.Context, c Caller, route []string) (State, Screen, error) {
	h := e.newHop(ctx, c)
	st := State{Node: NodeMain}
	if len(route) == 0 {
		return st, e.show(h, st, ""), nil
	}
	if len(route) > maxRoute {
		route = route[:maxRoute]
	}
	var scr Screen
	for _, in := range route {
		var err error
		if st, scr, err = e.apply(h, st, in); err != nil || scr.End {
			return st, scr, err
		}
	}
	return st, scr, nil
}

// Next applies one input to a session.
func (e *Engine) Next(ctx context.Context, c Caller, st State, input string) (State, Screen, error) {
	return e.apply(e.newHop(ctx, c), st, input)
}

// Unavailable is the END screen the gateway shows when Redis or PostgreSQL
// fails or the hop deadline passes.
func (e *Engine) Unavailable(lang string) Screen {
	return Screen{Text: t(e.lang(lang), msgUnavailable), End: true}
}

// SessionError is the END screen for a hop that cannot belong to the session
// (divergent transcript, changed phone).
func (e *Engine) SessionError(lang string) Screen {
	return Screen{Text: t(e.lang(lang), msgSessionError), End: true}
}

func (e *Engine) lang(l string) string {
	if hasCatalog(l) {
		return l
	}
	return e.opt.DefaultLang
}

func (e *Engine) newHop(ctx context.Context, c Caller) *hop {
	return &hop{ctx: ctx, caller: c, lang: e.lang(c.Lang), phone: callerPhone{raw: c.Phone, region: e.opt.PhoneRegion}}
}

func (e *Engine) apply(h *hop, st State, input string) (State, Screen, error) {
	cur, ok := e.nodes[st.Node]
	if !ok {
		// A state from an older release, or none: the input was meant for a
		// screen that no longer exists, so show the main menu without it.
		st = State{Node: NodeMain}
		return st, e.show(h, st, ""), nil
	}
	// Navigation keys win over a node's own inputs: no menu item and no
	// insurance number is "0" or "00".
	in := strings.TrimSpace(input)
	switch in {
	case keyHome:
		st = State{Node: NodeMain}
		return st, e.show(h, st, ""), nil
	case keyBack:
		st = e.back(st)
		return st, e.show(h, st, ""), nil
	}
	s, err := cur.input(h, in)
	if err != nil {
		return st, e.Unavailable(h.lang), err
	}
	if s.end != "" {
		return st, Screen{Text: clip(s.end, screenBudget), End: true}, nil
	}
	if s.to != "" {
		st = push(st, s.to)
	}
	return st, e.show(h, st, s.notice), nil
}

// show renders the CON screen of st.Node, with notice above the prompt.
func (e *Engine) show(h *hop, st State, notice string) Screen {
	n := e.nodes[st.Node]
	text := n.prompt(h)
	if notice != "" {
		text = notice + "\n" + text
	}
	if n.nav {
		text += "\n" + t(h.lang, msgNav)
	}
	return Screen{Text: clip(text, screenBudget)}
}

// push enters node to, remembering the current node. It never appends to
// st.Back in place: the caller's State must not change under it.
func push(st State, to string) State {
	keep := st.Back
	if len(keep) >= maxBack {
		keep = keep[len(keep)-maxBack+1:]
	}
	back := make([]string, len(keep), len(keep)+1)
	copy(back, keep)
	return State{Node: to, Back: append(back, st.Node)}
}

// back returns to the previous node; from the main menu (or an unknown
// previous node) it is the main menu.
func (e *Engine) back(st State) State {
	if st.Node == NodeMain || len(st.Back) == 0 {
		return State{Node: NodeMain}
	}
	prev := st.Back[len(st.Back)-1]
	if _, ok := e.nodes[prev]; !ok {
		return State{Node: NodeMain}
	}
	rest := st.Back[:len(st.Back)-1]
	if len(rest) == 0 {
		rest = nil
	}
	return State{Node: prev, Back: rest}
}

// today is the scheme-local calendar date, as UTC midnight (how pgx reads
// and writes a PostgreSQL date).
func (e *Engine) today() time.Time {
	y, m, d := e.opt.Now().In(e.opt.Location).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
