// Package menus runs the USSD state machines and the SMS command grammar:
// pure logic over the interfaces it declares, with no HTTP and no knowledge
// of aggregators.
//
// A menu is a set of nodes (name → view and input handler) plus the list of
// main-menu items; the SMS grammar is a list of commands. Adding a screen is
// adding a node to Engine.nodes, a main-menu entry a menuItem to
// Engine.items, an SMS command an smsCommand to Engine.commands (all in New).
//
// Every text comes from the message catalogs (messages.go) in the session's
// language, and every screen is laid out within its budget (fit.go).
package menus

import (
	"context"
	"strings"
	"time"

	"github.com/openimis/imis-gateway/openimis"
)

// CoverageSource is what the membership check needs from the policy store.
type CoverageSource interface {
	// Coverage returns what is known about the insurance number on the
	// scheme-local calendar date today (UTC midnight of that date), or an
	// error wrapping openimis.ErrInsureeNotFound.
	Coverage(ctx context.Context, chfid string, today time.Time) (openimis.Coverage, error)
}

// ClaimsSource is what "Claim status" needs from the policy store.
type ClaimsSource interface {
	// Claims returns the insuree's latest claims, newest first, at most
	// limit, and whom they belong to, or an error wrapping
	// openimis.ErrInsureeNotFound.
	Claims(ctx context.Context, chfid string, limit int) (openimis.ClaimList, error)
}

// OfficerDirectory recognises enrolment officers by their phone.
type OfficerDirectory interface {
	// OfficerByPhone returns the current enrolment officer whose phone is
	// phone (as the aggregator sent it) and who still works on today (the
	// scheme-local date); ok is false for anyone else. It must be cheap:
	// the main menu asks on every render.
	OfficerByPhone(ctx context.Context, phone string, today time.Time) (openimis.Officer, bool, error)
}

// RenewalService quotes and writes policy renewals (docs/renewals.md, "Two steps: the quote, then the write").
// Refusals are errors wrapping a *openimis.RefusalError.
type RenewalService interface {
	// RenewalQuote is the renewal officer (as OfficerByPhone found it) would
	// write today; a family outside the officer's area is refused
	// (openimis.ReasonOutsideArea), without its names.
	RenewalQuote(ctx context.Context, officer openimis.Officer, chfid, productCode string, today time.Time) (openimis.RenewalQuote, error)
	// Renew writes a confirmed renewal once: the same RequestKey, or the
	// same receipt for the same family and product, returns the earlier
	// result with Repeated set. Its confirmation SMS are worded by
	// req.Messages, which the engine always sets (confirmations).
	Renew(ctx context.Context, req openimis.RenewalRequest) (openimis.RenewalResult, error)
}

// RenewalsDue lists the families due for renewal (SMS DUE).
type RenewalsDue interface {
	// FamiliesDue returns the policies due for renewal from today in the
	// officer's area, expiry first, and the last day of the renewal
	// interval, by which they are due.
	FamiliesDue(ctx context.Context, officer openimis.Officer, today time.Time) (due []openimis.PolicyDue, until time.Time, err error)
}

// LanguageStore remembers the language each phone number chose. Phone
// numbers are E.164 strings ("+255712345678").
type LanguageStore interface {
	// Language returns the phone's language; ok is false when it chose none.
	Language(ctx context.Context, phone string) (lang string, ok bool, err error)
	SetLanguage(ctx context.Context, phone, lang string) error
}

// Screen is what the phone shows after a hop.
type Screen struct {
	Text string
	End  bool // the session ends with this screen
}

// Caller is who dialled, and through what.
type Caller struct {
	Phone string // as the aggregator sent it
	Lang  string // the phone's language (LanguageOf); empty means the engine's default
	// Budget is the longest screen the caller's aggregator carries; zero
	// means Options.Budget.
	Budget Budget
	// Session is "<provider>:<aggregator session id>", unique per USSD
	// session: a renewal confirmed in it is written once under the key
	// "ussd:"+Session, however often the confirming hop is retried. Empty
	// means no key (the receipt alone then makes the renewal idempotent).
	Session string
	// Provider is the aggregator ("africastalking", ...): the renewal's
	// confirmation SMS go out through it.
	Provider string
}

// State is a session's position in the menu tree. It is stored by the
// gateway between hops (JSON), so it stays small.
type State struct {
	Node string   `json:"n"`           // current node, e.g. "main", "membership.ask"
	Back []string `json:"b,omitempty"` // nodes to return to on "0"
	// Lang is the session's language: the caller's at the start, then what
	// the Language menu chose, so that a change applies at once.
	Lang string `json:"l,omitempty"`
	ID   string `json:"id,omitempty"` // the insurance number a paged list shows
	Page int    `json:"pg,omitempty"` // the page of that list, from 0
	// Renew is what an officer entered so far in "Renew policy".
	Renew Renewal `json:"r,omitzero"`
	// Resume is, on the offer to resume a dropped session (NodeResume), the state it was left at.
	Resume *State `json:"rs,omitempty"`
}

// Renewal is a renewal being entered, step by step. Names and dates are
// not kept: the screen that shows them asks the store again.
type Renewal struct {
	CHFID   string `json:"c,omitempty"` // as entered: any family member's
	Product string `json:"p,omitempty"` // the product renewed into, as quoted
	Due     int64  `json:"d,omitempty"` // the amount due, in cents, as quoted
	Receipt string `json:"r,omitempty"`
	Amount  int64  `json:"a,omitempty"` // the amount paid, in cents
}

// Node names. They are stored in sessions (State.Node, State.Back), so a
// rename strands live sessions on the main menu; keep them stable.
const (
	NodeMain          = "main"
	NodeMembershipAsk = "membership.ask"
	NodeClaimsAsk     = "claims.ask"
	NodeClaimsList    = "claims.list"
	NodeRenewAsk      = "renew.ask"     // insurance number of any family member
	NodeRenewReceipt  = "renew.receipt" // the quote (head, product, previous expiry, due); receipt number
	NodeRenewAmount   = "renew.amount"  // amount paid
	NodeRenewConfirm  = "renew.confirm" // summary; 1 confirms and ends the session
	NodeLanguage      = "language"
	NodeResume        = "resume" // the offer to resume a dropped session (resume.go)
)

// Writes reports whether the step from st may write: confirm a renewal, or
// remember a language. Such a step must start from the session as stored,
// never from a copy that may be stale.
func (st State) Writes() bool { return st.Node == NodeRenewConfirm || st.Node == NodeLanguage }

// Navigation keys (docs/providers.md, "Navigation keys"). Never '*': it separates inputs in
// Africa's Talking's accumulated transcript.
const (
	keyBack = "0"
	keyHome = "00"
	keyMore = "98"
)

const (
	// maxBack bounds State.Back; the menu tree is shallow, so hitting it
	// means a loop, and the oldest entries go.
	maxBack = 8
	// maxRoute bounds how many pre-dialled inputs Begin applies: every
	// insurance number in a route may cost a database query.
	maxRoute = 8
)

// Options configure an Engine. Zero values take the defaults; a nil
// dependency hides the feature that needs it.
type Options struct {
	Now         func() time.Time // default time.Now
	Location    *time.Location   // the scheme's time zone; "today" is computed in it (default time.UTC)
	PhoneRegion string           // ISO region for local phone numbers, default "TZ"
	CHFIDMaxLen int              // longest insurance number the database allows (12 in the openIMIS 1.4.2 dump, 50 after Django migration); default 12
	DefaultLang string           // en, fr, sw or ne (Supported); default "en"

	Claims ClaimsSource // "Claim status" and SMS CLAIMS; nil hides them
	// ClaimsVisibleTo says who sees an insuree's claims; default
	// ClaimsToInsured (access.go).
	ClaimsVisibleTo ClaimsVisibility
	// Lookups limits each phone's look-ups of numbers outside its own
	// family (access.go); nil means no limit.
	Lookups   LookupLimiter
	Languages LanguageStore // the "Language" menu and SMS LANG; nil hides them
	// Officers and Renewals make "Renew policy" and SMS RENEW; the two go
	// together, and without either renewal is hidden.
	Officers OfficerDirectory
	Renewals RenewalService
	// Due makes SMS DUE, an officer's families due for renewal (with
	// Officers); nil hides it.
	Due RenewalsDue
	// SMSProvider sends the confirmation SMS of a renewal made by USSD (one
	// made by SMS is confirmed through the provider its RENEW came by): a
	// provider that can send SMS. Empty: the USSD session's own provider.
	SMSProvider string
	// Version is the gateway's version, written as "SourceVersion" on the
	// openIMIS rows of a renewal.
	Version string
	// AuditUserID is written as "AuditUserID" on the openIMIS rows of a
	// renewal (GATEWAY_AUDIT_USER_ID); 0 means openimis.DefaultAuditUserID (-1).
	AuditUserID int
	// MaxOverpayment is how much more than the amount due a renewal may be
	// paid (RENEWAL_MAX_OVERPAYMENT); 0 refuses any amount above it.
	MaxOverpayment openimis.Money

	// Catalog holds the messages; nil means the built-in catalogs.
	// LoadCatalog adds an implementer's overrides (MESSAGES_DIR).
	Catalog *Catalog
	// Budget is the longest screen; default DefaultBudget. Caller.Budget
	// overrides it per aggregator.
	Budget Budget
	// Transliterate lists the languages whose screens and SMS replace
	// accented letters GSM-7 lacks by their base letters (ê → e) when that
	// keeps a text in GSM-7, whose room is more than twice UCS-2's. Nil
	// means French only: its accents are readable without, and one ê
	// would otherwise cut a screen to 70 characters.
	Transliterate map[string]bool
	// Currency is written with amounts; default "TZS".
	Currency string
}

// Engine runs the USSD menu and answers SMS commands. It holds no
// per-session data and is safe for concurrent use.
type Engine struct {
	src      CoverageSource
	opt      Options
	cat      *Catalog
	nodes    map[string]node
	items    []menuItem
	commands []smsCommand
}

// node is one screen of the menu tree and what its inputs do.
type node struct {
	// view renders the screen of st, adjusting st.Page to an existing page.
	// An error is an infrastructure failure.
	view func(c *call, st *State) (view, error)
	// input applies one trimmed input that is not a navigation key. An error
	// is an infrastructure failure, never a user mistake.
	input func(c *call, st State, in string) (step, error)
	// paged nodes take "98" (next page) and, past the first page, "0"
	// (previous page).
	paged bool
}

// step is what an input leads to.
type step struct {
	to     string  // enter this node, remembering the current one for "0"; "" stays
	id     string  // State.ID of the node entered
	renew  Renewal // State.Renew of the node entered
	home   bool    // go to the main menu
	resume bool    // go back to the state the resume offer holds (State.Resume)
	notice string  // a line shown above the screen (a mistake, a retry reason, a confirmation)
	end    string  // when set, the session ends with this text
}

// menuItem is one main-menu entry, shown (and numbered) only where it
// applies to the call's caller. applies runs on every main-menu render and
// input, so it must be cheap (an in-memory look-up at most).
type menuItem struct {
	label   msg
	applies func(*call) bool
	node    string
}

// New returns an Engine over src. It panics when the built-in catalogs are
// broken, which the package's tests rule out.
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
	if !Supported(opt.DefaultLang) {
		opt.DefaultLang = "en"
	}
	opt.Budget = opt.Budget.orDefault(DefaultBudget)
	if opt.Transliterate == nil {
		opt.Transliterate = map[string]bool{"fr": true}
	}
	if opt.Currency = strings.TrimSpace(opt.Currency); opt.Currency == "" {
		opt.Currency = "TZS"
	}
	if opt.AuditUserID == 0 {
		opt.AuditUserID = openimis.DefaultAuditUserID
	}
	if opt.Catalog == nil {
		cat, err := builtinCatalog()
		if err != nil {
			panic(err)
		}
		opt.Catalog = cat
	}
	e := &Engine{src: src, opt: opt, cat: opt.Catalog}
	e.nodes = map[string]node{
		NodeMain:          {view: e.mainView, input: e.mainInput},
		NodeMembershipAsk: {view: e.askView, input: e.membershipInput},
	}
	e.items = []menuItem{{label: msgItemCheck, applies: always, node: NodeMembershipAsk}}
	if opt.Claims != nil {
		e.nodes[NodeClaimsAsk] = node{view: e.askView, input: e.claimsInput}
		e.nodes[NodeClaimsList] = node{view: e.claimsListView, input: stay, paged: true}
		e.items = append(e.items, menuItem{label: msgItemClaims, applies: always, node: NodeClaimsAsk})
	}
	if e.renewals() {
		e.nodes[NodeRenewAsk] = node{view: e.renewAskView, input: e.renewAskInput}
		e.nodes[NodeRenewReceipt] = node{view: e.renewReceiptView, input: e.renewReceiptInput}
		e.nodes[NodeRenewAmount] = node{view: e.renewAmountView, input: e.renewAmountInput}
		e.nodes[NodeRenewConfirm] = node{view: e.renewConfirmView, input: e.renewConfirmInput}
		e.items = append(e.items, menuItem{label: msgItemRenew, applies: officerCalls, node: NodeRenewAsk})
	}
	if opt.Languages != nil {
		e.nodes[NodeLanguage] = node{view: e.languageView, input: e.languageInput}
		e.items = append(e.items, menuItem{label: msgItemLanguage, applies: always, node: NodeLanguage})
	}
	e.nodes[NodeResume] = node{view: e.resumeView, input: e.resumeInput}
	e.commands = e.smsCommands()
	return e
}

func always(*call) bool { return true }

// stay ignores an input a node has no use for, showing the same screen.
func stay(*call, State, string) (step, error) { return step{}, nil }

// Begin starts a session: the main menu, or, when the user pre-dialled a
// route (*384*1*<insurance no># arrives as route ["1", "<insurance no>"]),
// the route's inputs applied in order, stopping early if a screen ends the
// session. Inputs after the first eight (maxRoute) are ignored: each
// insurance number in a route may cost a database query.
func (e *Engine) Begin(ctx context.Context, caller Caller, route []string) (State, Screen, error) {
	c := e.newCall(ctx, caller, caller.Lang)
	st := State{Node: NodeMain, Lang: c.lang}
	if len(route) == 0 {
		return e.render(c, st, "")
	}
	if len(route) > maxRoute {
		route = route[:maxRoute]
	}
	var scr Screen
	for _, in := range route {
		var err error
		if st, scr, err = e.apply(c, st, in); err != nil || scr.End {
			return st, scr, err
		}
	}
	return st, scr, nil
}

// Next applies one input to a session, in the session's language
// (State.Lang, else the caller's).
func (e *Engine) Next(ctx context.Context, c Caller, st State, input string) (State, Screen, error) {
	lang := st.Lang
	if !Supported(lang) {
		lang = c.Lang
	}
	return e.apply(e.newCall(ctx, c, lang), st, input)
}

// Unavailable is the END screen the gateway shows when Redis or PostgreSQL
// fails or the hop deadline passes.
func (e *Engine) Unavailable(lang string) Screen {
	return e.endScreen(lang, msgUnavailable)
}

// SessionError is the END screen for a hop that cannot belong to the session
// (divergent transcript, changed phone).
func (e *Engine) SessionError(lang string) Screen {
	return e.endScreen(lang, msgSessionError)
}

func (e *Engine) endScreen(lang string, id msg) Screen {
	return e.newCall(context.Background(), Caller{}, lang).endScreen(id)
}

func (c *call) endScreen(id msg) Screen { return Screen{Text: c.fit.out(c.t(id, nil)), End: true} }

func (c *call) unavailable() Screen { return c.endScreen(msgUnavailable) }

// call carries one Begin, Next or SMS call's context to the handlers; it
// lives no longer than that call.
type call struct {
	ctx     context.Context
	e       *Engine
	caller  Caller
	lang    string
	fit     fitter
	phone   callerPhone
	claims  claimsCache
	officer officerCheck
	quote   quoteCache
	smsKey  string // SMSRequest.Key of an SMS call
}

func (e *Engine) newCall(ctx context.Context, caller Caller, lang string) *call {
	c := &call{ctx: ctx, e: e, caller: caller, phone: callerPhone{raw: caller.Phone, region: e.opt.PhoneRegion}}
	c.fit.budget = caller.Budget.orDefault(e.opt.Budget)
	c.setLang(lang)
	return c
}

// setLang switches the call to lang (the default language when lang is not
// supported).
func (c *call) setLang(lang string) {
	if !Supported(lang) {
		lang = c.e.opt.DefaultLang
	}
	c.lang = lang
	c.fit.transliterate = c.e.opt.Transliterate[lang]
}

// t renders message id in the call's language.
func (c *call) t(id msg, v vars) string { return c.e.cat.text(c.lang, id, v) }

// tn renders the plural form of message id for count n.
func (c *call) tn(id msg, n int, v vars) string { return c.e.cat.plural(c.lang, id, n, v) }

func (c *call) date(d time.Time) string { return c.e.cat.date(c.lang, d) }

// amount writes a known amount: an unknown one takes a message of its own
// (claimStatus).
func (c *call) amount(a openimis.Amount) string { return c.money(openimis.Money(a.Cents)) }

func (e *Engine) apply(c *call, st State, input string) (State, Screen, error) {
	cur, ok := e.nodes[st.Node]
	if !ok {
		// A state from an older release, or none: the input was meant for a
		// screen that no longer exists, so show the main menu without it.
		return e.render(c, home(st), "")
	}
	// Navigation keys win over a node's own inputs: no menu item and no
	// insurance number is "0" or "00", and only paged nodes take "98".
	in := strings.TrimSpace(input)
	var next State
	switch {
	case in == keyHome:
		next = home(st)
	case in == keyBack && cur.paged && st.Page > 0:
		next = st
		next.Page--
	case in == keyBack:
		next = e.back(st)
	case in == keyMore && cur.paged:
		next = st
		next.Page++
	default:
		s, err := cur.input(c, st, in)
		if err != nil {
			return st, c.unavailable(), err
		}
		st.Lang = c.lang // the Language menu may have changed it
		switch {
		case s.end != "":
			return st, Screen{Text: c.fit.out(s.end), End: true}, nil
		case s.home:
			next = home(st)
		case s.resume:
			next = *st.Resume
		case s.to != "":
			next = push(st, s.to)
			next.ID, next.Renew = s.id, s.renew
		default:
			next = st
		}
		return e.renderOr(c, st, next, s.notice)
	}
	return e.renderOr(c, st, next, "")
}

// renderOr shows next, or, when that fails, the Unavailable screen with
// the session left at st.
func (e *Engine) renderOr(c *call, st, next State, notice string) (State, Screen, error) {
	next, scr, err := e.render(c, next, notice)
	if err != nil {
		return st, scr, err
	}
	return next, scr, nil
}

// render shows the CON screen of st.Node, with notice above it.
func (e *Engine) render(c *call, st State, notice string) (State, Screen, error) {
	v, err := e.nodes[st.Node].view(c, &st)
	if err != nil {
		return st, c.unavailable(), err
	}
	text := ""
	if v.layout != nil {
		text = v.layout(notice)
	} else {
		text = c.fit.screen(notice, v)
	}
	return st, Screen{Text: c.fit.out(text)}, nil
}

// home is the main menu, in the session's language.
func home(st State) State { return State{Node: NodeMain, Lang: st.Lang} }

// push enters node to, remembering the current node. It never appends to
// st.Back in place: the caller's State must not change under it.
func push(st State, to string) State {
	keep := st.Back
	if len(keep) >= maxBack {
		keep = keep[len(keep)-maxBack+1:]
	}
	back := make([]string, len(keep), len(keep)+1)
	copy(back, keep)
	return State{Node: to, Back: append(back, st.Node), Lang: st.Lang}
}

// back returns to the previous node; from the main menu (or an unknown
// previous node) it is the main menu. A renewal entered so far goes back
// with it (the officer corrects one step), but not to the main menu.
func (e *Engine) back(st State) State {
	if st.Node == NodeMain || len(st.Back) == 0 {
		return home(st)
	}
	prev := st.Back[len(st.Back)-1]
	if _, ok := e.nodes[prev]; !ok {
		return home(st)
	}
	rest := st.Back[:len(st.Back)-1]
	if len(rest) == 0 {
		rest = nil
	}
	next := State{Node: prev, Back: rest, Lang: st.Lang}
	if prev != NodeMain {
		next.Renew = st.Renew
	}
	return next
}

// today is the scheme-local calendar date, as UTC midnight (how pgx reads
// and writes a PostgreSQL date).
func (e *Engine) today() time.Time { return openimis.DateOf(e.opt.Now().In(e.opt.Location)) }
