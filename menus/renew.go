package menus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/openimis/imis-gateway/openimis"
)

// "Renew policy" (README.md, "The USSD menu", docs/renewals.md, "Two steps: the quote, then the write"): an enrolment officer
// enters the insurance number of any family member (renew.ask), sees the
// family head, the previous policy's product and expiry and the amount due,
// and enters the receipt number (renew.receipt), then the amount paid
// (renew.amount), and confirms (renew.confirm). The renewal service writes
// it once (RenewalService.Renew) and the session ends with the new
// period and status, or exactly why it was refused. SMS RENEW (sms.go) is
// the same renewal in one message.
//
// Only a current officer's phone sees the menu item, and every step asks
// again (from the directory's memory, no SQL): a stale state or a crafted
// input from any other phone is refused politely before an insurance
// number is looked up. Renew checks the officer once more in its
// transaction.

const (
	receiptMax = 50 // "tblPremium"."Receipt" is varchar(50)
	// productCodeMax bounds a product code typed in RENEW ("ProductCode"
	// is 8 characters in openIMIS 1.4.2, 50 after the Django migration).
	productCodeMax = 50
	shownCodeMax   = 20 // a product code on a screen
	// nameKeep is the shortest cut of a head's name worth showing: less
	// says too little to tell one family from another.
	nameKeep = 12
)

// renewals reports whether renewal is offered: it needs both the officer
// directory and the renewal service.
func (e *Engine) renewals() bool { return e.opt.Officers != nil && e.opt.Renewals != nil }

// officerCalls is the main-menu test of "Renew policy". A failing look-up
// hides the item rather than failing the menu everyone uses: the directory
// answers from memory and fails only when it never loaded, when no renewal
// could be written anyway.
func officerCalls(c *call) bool {
	ok, err := c.isOfficer()
	return ok && err == nil
}

// officerCheck is the call's officer look-up, done at most once per call.
type officerCheck struct {
	done, ok bool
	officer  openimis.Officer // whose area a quote is asked for
	err      error
}

// isOfficer reports whether the caller's phone is a current enrolment
// officer's, today in the scheme's time zone.
func (c *call) isOfficer() (bool, error) {
	if c.e.opt.Officers == nil {
		return false, nil
	}
	if !c.officer.done {
		o, ok, err := c.e.opt.Officers.OfficerByPhone(c.ctx, c.caller.Phone, c.e.today())
		if err != nil {
			err = fmt.Errorf("officer look-up: %w", err)
		}
		c.officer = officerCheck{done: true, ok: ok && err == nil, officer: o, err: err}
	}
	return c.officer.ok, c.officer.err
}

// officerRecord is the caller's officer record; false for anyone who is no
// current officer, or when the look-up failed.
func (c *call) officerRecord() (openimis.Officer, bool) {
	ok, err := c.isOfficer()
	return c.officer.officer, ok && err == nil
}

// officerOnly ends the session of anyone but an officer with a polite
// refusal; ok is true for an officer.
func (c *call) officerOnly() (s step, ok bool, err error) {
	switch ok, err = c.isOfficer(); {
	case err != nil:
		return step{}, false, err
	case !ok:
		return step{end: c.t(msgRenewNotOfficer, nil)}, false, nil
	}
	return step{}, true, nil
}

// officerOnlyView is what a renewal screen shows anyone but an officer (a
// crafted state reached with "0"); ok is true for an officer.
func (c *call) officerOnlyView() (v view, ok bool, err error) {
	switch ok, err = c.isOfficer(); {
	case err != nil:
		return view{}, false, err
	case !ok:
		return c.notice(msgRenewNotOfficer), false, nil
	}
	return view{}, true, nil
}

// notice is a screen of one message and the navigation line.
func (c *call) notice(id msg) view {
	return view{body: c.t(id, nil), nav: c.t(msgNav, nil)}
}

// renewLost leaves a renewal screen whose state lacks what it needs (a
// state from an older release, or crafted) for the main menu.
func (c *call) renewLost() step { return step{home: true, notice: c.t(msgRenewLost, nil)} }

func (e *Engine) renewAskView(c *call, _ *State) (view, error) {
	if v, ok, err := c.officerOnlyView(); !ok {
		return v, err
	}
	title, ask, nav := c.t(msgItemRenew, nil), c.t(msgRenewAsk, nil), c.t(msgNav, nil)
	return view{title: title, body: ask, nav: nav, layout: func(notice string) string {
		// Why a number was refused matters more than the question, which
		// the officer has just answered once.
		const noticeL, titleL, askL, navL = 0, 1, 2, 3
		return c.fit.layout([]string{notice, title, ask, nav},
			give{titleL, 0}, give{navL, 0}, give{askL, 0}, give{noticeL, minCut})
	}}, nil
}

func (e *Engine) renewAskInput(c *call, _ State, in string) (step, error) {
	if s, ok, err := c.officerOnly(); !ok {
		return s, err
	}
	if !validCHFID(in, e.opt.CHFIDMaxLen) {
		return step{notice: c.chfidFormat()}, nil
	}
	q, err := c.loadQuote(in, "")
	if text, over, err := c.countRenewalLookup(err); over || err != nil {
		return step{end: text}, err
	}
	// The number echoed shortens only for the question under it: the
	// title and the navigation line give way first.
	if text, refused := c.refusal(err, Renewal{CHFID: in}, "\n"+c.t(msgRenewAsk, nil)); refused {
		return step{notice: text}, nil
	}
	if err != nil {
		return step{}, err
	}
	return step{to: NodeRenewReceipt, renew: Renewal{CHFID: in, Product: strings.TrimSpace(q.ProductCode), Due: int64(q.Value)}}, nil
}

// renewReceiptView shows the quote and asks for the receipt number. The
// quote is asked again (for the product quoted before): the family's
// names and dates are not kept in the session, and what the officer sees
// is what the store would write now.
func (e *Engine) renewReceiptView(c *call, st *State) (view, error) {
	if v, ok, err := c.officerOnlyView(); !ok {
		return v, err
	}
	r := st.Renew
	if r.CHFID == "" {
		return c.notice(msgRenewLost), nil
	}
	q, err := c.loadQuote(r.CHFID, r.Product)
	nav := c.t(msgNav, nil)
	if text, refused := c.refusal(err, r, "\n"+nav); refused {
		// Renewed, or changed, since the number was entered.
		return view{body: text, nav: nav}, nil
	}
	if err != nil {
		return view{}, err
	}
	name := truncate(clean(q.HeadName), nameMax)
	previous := q.PreviousProductCode
	if previous == "" {
		previous = q.ProductCode
	}
	policy := shownCode(previous)
	if !q.PreviousExpiry.IsZero() {
		id := msgRenewExpires
		if cmpDate(q.PreviousExpiry, e.today()) < 0 {
			id = msgRenewExpired
		}
		policy = c.t(id, vars{"Product": policy, "Date": c.date(q.PreviousExpiry)})
	}
	due := c.t(msgRenewDue, vars{"Amount": c.money(q.Value)})
	if q.Converted {
		due = c.t(msgRenewDueFor, vars{"Product": shownCode(q.ProductCode), "Amount": c.money(q.Value)})
	}
	ask := c.t(msgRenewReceiptAsk, nil)
	return view{body: lines(name, policy, due, ask), nav: nav, layout: func(notice string) string {
		// The question stays whole; the head's name gives way first, then
		// the navigation line, the previous policy, and, for a notice,
		// the amount due (the next screen shows it again).
		const noticeL, nameL, policyL, dueL, navL = 0, 1, 2, 3, 5
		return c.fit.layout([]string{notice, name, policy, due, ask, nav},
			give{nameL, nameKeep}, give{navL, 0}, give{nameL, 0}, give{policyL, 0}, give{dueL, 0}, give{noticeL, minCut})
	}}, nil
}

func (e *Engine) renewReceiptInput(c *call, st State, in string) (step, error) {
	if s, ok, err := c.officerOnly(); !ok {
		return s, err
	}
	r := st.Renew
	if r.CHFID == "" {
		return c.renewLost(), nil
	}
	if !validReceipt(in) {
		return step{notice: c.t(msgRenewReceiptFormat, vars{"Max": receiptMax})}, nil
	}
	r.Receipt = in
	return step{to: NodeRenewAmount, renew: r}, nil
}

func (e *Engine) renewAmountView(c *call, st *State) (view, error) {
	if v, ok, err := c.officerOnlyView(); !ok {
		return v, err
	}
	r := st.Renew
	if r.CHFID == "" || r.Receipt == "" {
		return c.notice(msgRenewLost), nil
	}
	receipt := c.t(msgRenewReceipt, vars{"Receipt": r.Receipt})
	due := c.t(msgRenewDue, vars{"Amount": c.money(openimis.Money(r.Due))})
	ask := c.t(msgRenewAmountAsk, nil)
	nav := c.t(msgNav, nil)
	return view{body: lines(receipt, due, ask), nav: nav, layout: func(notice string) string {
		const noticeL, receiptL, navL = 0, 1, 4
		return c.fit.layout([]string{notice, receipt, due, ask, nav},
			give{receiptL, 0}, give{navL, 0}, give{noticeL, minCut})
	}}, nil
}

func (e *Engine) renewAmountInput(c *call, st State, in string) (step, error) {
	if s, ok, err := c.officerOnly(); !ok {
		return s, err
	}
	r := st.Renew
	if r.CHFID == "" || r.Receipt == "" {
		return c.renewLost(), nil
	}
	amount, problem := c.parseAmount(in)
	if problem != "" {
		return step{notice: c.t(problem, nil)}, nil
	}
	// Renew refuses it too, against the value as it is then; saying so
	// here keeps the officer on the step where the amount is corrected.
	if due := openimis.Money(r.Due); amount > due+e.opt.MaxOverpayment {
		return step{notice: c.amountTooHigh(amount, due)}, nil
	}
	r.Amount = int64(amount)
	return step{to: NodeRenewConfirm, renew: r}, nil
}

// renewConfirmView sums up what will be written: the insurance number, the
// product, the receipt and the amount (against the amount due), and says
// when the policy will stay idle.
func (e *Engine) renewConfirmView(c *call, st *State) (view, error) {
	if v, ok, err := c.officerOnlyView(); !ok {
		return v, err
	}
	r := st.Renew
	if !r.complete() {
		return c.notice(msgRenewLost), nil
	}
	title := c.t(msgRenewConfirmTitle, nil)
	policy := c.t(msgRenewPolicy, vars{"Number": r.CHFID, "Product": shownCode(r.Product)})
	receipt := c.t(msgRenewReceipt, vars{"Receipt": r.Receipt})
	paid := c.t(msgRenewPaid, vars{"Amount": c.money(openimis.Money(r.Amount)), "Due": c.money(openimis.Money(r.Due))})
	partial := ""
	if r.Amount < r.Due {
		partial = c.t(msgRenewPartial, nil)
	}
	confirm := c.item(1, c.t(msgRenewConfirm, nil))
	nav := c.t(msgNav, nil)
	return view{body: lines(policy, receipt, paid, partial, confirm), nav: nav, layout: func(notice string) string {
		// The amount and the receipt (what a thumb mistypes) and how to
		// confirm stay; the title and the navigation line go first, then
		// the number (checked on the screen that named the head).
		// On the smallest screens, the receipt goes before the amount, and
		// the amount is cut before the key that confirms.
		const noticeL, titleL, policyL, receiptL, paidL, partialL, navL = 0, 1, 2, 3, 4, 5, 7
		return c.fit.layout([]string{notice, title, policy, receipt, paid, partial, confirm, nav},
			give{titleL, 0}, give{navL, 0}, give{partialL, 20}, give{policyL, 0}, give{partialL, 0},
			give{receiptL, 12}, give{noticeL, minCut}, give{receiptL, minCut}, give{noticeL, 0}, give{receiptL, 0},
			give{paidL, 16})
	}}, nil
}

func (e *Engine) renewConfirmInput(c *call, st State, in string) (step, error) {
	if s, ok, err := c.officerOnly(); !ok {
		return s, err
	}
	r := st.Renew
	if !r.complete() {
		return c.renewLost(), nil
	}
	if menuChoice(in) != 1 {
		return step{notice: c.t(msgInvalidChoice, nil)}, nil
	}
	key := ""
	if c.caller.Session != "" {
		key = "ussd:" + c.caller.Session
	}
	res, err := e.opt.Renewals.Renew(c.ctx, c.renewalRequest(openimis.ChannelUSSD, key, r.CHFID, r.Product, r.Receipt,
		openimis.Money(r.Amount)))
	if text, refused := c.refusal(err, r, ""); refused {
		return step{end: text}, nil
	}
	if err != nil {
		return step{}, fmt.Errorf("renew: %w", err)
	}
	return step{end: c.renewalResult(res)}, nil
}

func (r Renewal) complete() bool { return r.CHFID != "" && r.Receipt != "" && r.Amount > 0 }

// renewalRequest is the request for the renewal service, USSD and SMS alike. key
// is the idempotency key ("" for none): never a bare prefix, which would
// make every renewal after the first repeat it.
func (c *call) renewalRequest(channel, key, chfid, product, receipt string, amount openimis.Money) openimis.RenewalRequest {
	e := c.e
	return openimis.RenewalRequest{
		CHFID: chfid, ProductCode: product, Receipt: receipt, Amount: amount, MaxOverpayment: e.opt.MaxOverpayment,
		OfficerPhone: c.caller.Phone, Channel: channel, Today: e.today(), RequestKey: key,
		SourceVersion: e.opt.Version, AuditUserID: e.opt.AuditUserID, SMSProvider: c.smsProvider(channel),
		Messages: e.confirmations(c.lang),
	}
}

// smsProvider sends a renewal's confirmations: the provider an SMS RENEW
// came by, which can answer it, or for USSD the one configured to send
// (each falling back on the other).
func (c *call) smsProvider(channel string) string {
	if channel == openimis.ChannelUSSD {
		return cmp.Or(c.e.opt.SMSProvider, c.caller.Provider)
	}
	return cmp.Or(c.caller.Provider, c.e.opt.SMSProvider)
}

// quoteCache keeps the quote a call asked for: entering renew.receipt asks
// the store once, although the input and the view both need it.
type quoteCache struct {
	chfid         string
	asked, quoted string // the product code asked for, and the one quoted
	q             openimis.RenewalQuote
	err           error
	loaded        bool
}

// loadQuote asks for the quote in the calling officer's area; a caller who
// is no officer (the renewal screens refuse one first) has no area, and
// gets a refusal.
func (c *call) loadQuote(chfid, product string) (openimis.RenewalQuote, error) {
	if cache := c.quote; cache.loaded && cache.chfid == chfid && (cache.asked == product || cache.err == nil && cache.quoted == product) {
		return cache.q, cache.err
	}
	if _, err := c.isOfficer(); err != nil {
		return openimis.RenewalQuote{}, err
	}
	q, err := c.e.opt.Renewals.RenewalQuote(c.ctx, c.officer.officer, chfid, product, c.e.today())
	if err != nil {
		err = fmt.Errorf("renewal quote: %w", err)
	}
	c.quote = quoteCache{chfid: chfid, asked: product, quoted: strings.TrimSpace(q.ProductCode), q: q, err: err, loaded: true}
	return q, err
}

// refusal says why a renewal is refused, for an error wrapping a
// *openimis.RefusalError (or ErrInsureeNotFound); false for any other
// error, or none. r gives the number, receipt and product to name; rest is
// what follows the text on the screen, for which a long value shortens.
func (c *call) refusal(err error, r Renewal, rest string) (string, bool) {
	if err == nil {
		return "", false
	}
	var refusal *openimis.RefusalError
	reason := openimis.ReasonUnknownNumber
	switch {
	case errors.As(err, &refusal):
		reason = refusal.Reason
	case errors.Is(err, openimis.ErrInsureeNotFound):
	default:
		return "", false
	}
	echo := func(id msg, name, value string, max int) string {
		return c.fitValue(clean(value), max, rest, func(v string) string { return c.t(id, vars{name: v}) })
	}
	switch reason {
	case openimis.ReasonUnknownNumber:
		return echo(msgNoInsuree, "Number", r.CHFID, shownCHFIDMax), true
	case openimis.ReasonNoPreviousPolicy:
		return echo(msgRenewNoPolicy, "Number", r.CHFID, shownCHFIDMax), true
	case openimis.ReasonUnknownProduct:
		if strings.TrimSpace(r.Product) == "" {
			return c.t(msgRenewNotRenewable, nil), true // the quoted product went away
		}
		return echo(msgRenewNoProduct, "Code", r.Product, shownCodeMax), true
	case openimis.ReasonReceiptUsed:
		return echo(msgRenewReceiptUsed, "Receipt", r.Receipt, receiptMax), true
	case openimis.ReasonRenewalExists:
		return c.t(msgRenewExists, nil), true
	case openimis.ReasonProductNotRenewable:
		return c.t(msgRenewNotRenewable, nil), true
	case openimis.ReasonNoMembers:
		return c.t(msgRenewNoMembers, nil), true
	case openimis.ReasonNotOfficer:
		return c.t(msgRenewNotOfficer, nil), true
	case openimis.ReasonOutsideArea:
		return echo(msgRenewOutsideArea, "Number", r.CHFID, shownCHFIDMax), true
	case openimis.ReasonAmountTooHigh:
		if r.Amount > 0 { // both callers know the amount; otherwise the generic text below
			return c.amountTooHigh(openimis.Money(r.Amount), refusal.Due), true
		}
	}
	// ReasonInvalidRequest (the menus check what the officer types, so
	// only a bug leads here) and reasons of a later release.
	return c.t(msgRenewInvalid, nil), true
}

// renewalResult is the answer to a renewal written, now or earlier: the
// outcome and status, the new period, what was paid when not in full, then
// the number and product, the head's name and the receipt where they fit.
func (c *call) renewalResult(res openimis.RenewalResult) string {
	var status string
	switch res.Status {
	case openimis.PolicyActive:
		status = c.t(msgRenewActive, nil)
	case openimis.PolicyReady:
		status = c.t(msgRenewReady, nil)
	default:
		status = c.t(msgRenewIdle, nil)
	}
	title := c.t(msgRenewDone, vars{"Status": status})
	if res.Repeated {
		title = c.t(msgRenewRepeated, vars{"Status": status})
	}
	period := c.t(msgRenewPeriod, vars{"Start": c.date(res.Start), "End": c.date(res.Expiry)})
	paid := ""
	if res.Status == openimis.PolicyIdle || res.Amount < res.Value {
		paid = c.t(msgRenewPaid, vars{"Amount": c.money(res.Amount), "Due": c.money(res.Value)})
	}
	policy := c.t(msgRenewPolicy, vars{"Number": truncate(clean(res.CHFID), shownCHFIDMax), "Product": shownCode(res.ProductCode)})
	name := truncate(clean(res.HeadName), nameMax)
	receipt := c.t(msgRenewReceipt, vars{"Receipt": truncate(clean(res.Receipt), receiptMax)})
	// An idle policy's period matters less than what is left to pay.
	const periodL, policyL, nameL, receiptL = 1, 3, 4, 5
	return c.fit.layout([]string{title, period, paid, policy, name, receipt},
		give{nameL, nameKeep}, give{receiptL, 0}, give{nameL, 0}, give{policyL, 24}, give{policyL, 0}, give{periodL, 0})
}

// confirmations words the confirmation SMS the renewal service queues
// with a renewal (RenewalRequest.Messages, the only place they are
// worded): the officer's in the language of the session (lang), the family
// head's in the default language (the head's own choice is not looked up
// inside the renewal's transaction). Each aims at one SMS part: the
// officer's gives up the head's name first; the rest of either is what the
// recipient must keep, so it may take a second part rather than lose it.
func (e *Engine) confirmations(officerLang string) func(openimis.RenewalResult, string) string {
	return func(res openimis.RenewalResult, to string) string {
		var lang string
		switch to {
		case openimis.RecipientOfficer:
			lang = officerLang
		case openimis.RecipientHead:
			lang = e.opt.DefaultLang
		default:
			return "" // no such recipient
		}
		c := e.newCall(context.Background(), Caller{Budget: smsBudget}, lang)
		text, _, _ := c.fit.encode(c.confirmationSMS(res, to))
		return text
	}
}

func (c *call) confirmationSMS(res openimis.RenewalResult, to string) string {
	v := vars{
		"Number": truncate(clean(res.CHFID), shownCHFIDMax), "Product": shownCode(res.ProductCode),
		"Start": c.date(res.Start), "End": c.date(res.Expiry), "Amount": c.money(res.Amount), "Due": c.money(res.Value),
		"Receipt": truncate(clean(res.Receipt), receiptMax),
	}
	ids := [3]msg{msgRenewSMSOfficerActive, msgRenewSMSOfficerReady, msgRenewSMSOfficerIdle}
	if to == openimis.RecipientHead {
		ids = [3]msg{msgRenewSMSHeadActive, msgRenewSMSHeadReady, msgRenewSMSHeadIdle}
	}
	id := ids[2]
	switch res.Status {
	case openimis.PolicyActive:
		id = ids[0]
	case openimis.PolicyReady:
		id = ids[1]
	}
	body := c.t(id, v)
	name := truncate(clean(res.HeadName), nameMax)
	if to == openimis.RecipientHead || name == "" {
		return body
	}
	if name = c.fit.shrink(name, "", "\n"+body); runeLen(name) < minCut {
		return body
	}
	return name + "\n" + body
}

// amountTooHigh says that amount is more than the amount due.
func (c *call) amountTooHigh(amount, due openimis.Money) string {
	return c.t(msgRenewAmountHigh, vars{"Amount": c.money(amount), "Due": c.money(due)})
}

func (c *call) money(m openimis.Money) string {
	return c.e.cat.amount(c.lang, int64(m), c.e.opt.Currency)
}

// shownCode is a product code as a screen shows it.
func shownCode(code string) string { return truncate(clean(strings.TrimSpace(code)), shownCodeMax) }

// validReceipt accepts 1 to 50 ASCII letters, digits, '-' and '/': what
// receipt books and mobile-money references print ("DOD/0417",
// "QFC9M3NX5T").
func validReceipt(s string) bool {
	if len(s) == 0 || len(s) > receiptMax {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '/' {
			return false
		}
	}
	return true
}

// validProductCode accepts 1 to 50 ASCII letters, digits, '-' and '_'.
func validProductCode(s string) bool {
	if len(s) == 0 || len(s) > productCodeMax {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}
