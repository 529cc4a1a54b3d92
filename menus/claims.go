package menus

import (
	"errors"
	"fmt"
	"strings"

	"github.com/openimis/imis-gateway/openimis"
)

// "Claim status" (README.md, "The USSD menu", docs/openimis.md, "Claims: statuses and what may be shown"): ask for the insurance
// number, then list the insuree's latest claims, newest first: code, date
// claimed, facility, and the status in plain words with the amount where it
// means something. Never a diagnosis or an item: they are health data.
//
// When the list fits one screen it ends the session, as a membership answer
// does; otherwise it is paged, "98" for the next page and "0" for the one
// before. Pages are not stored: each hop asks the store again and lays the
// list out from the first claim, which gives the same pages for the same
// claims, language and budget.

const (
	claimsShown = 10 // claims asked of the store: the latest ones
	// facilityMax caps a facility name in a claim (names run to 100
	// characters); the first claim of a page gets less when it must.
	facilityMax  = 30
	claimCodeMax = 20 // "ClaimCode" is 8 characters in openIMIS 1.4.2, 50 after migration
)

func (e *Engine) claimsInput(c *call, _ State, in string) (step, error) {
	if !validCHFID(in, e.opt.CHFIDMaxLen) {
		return step{notice: c.chfidFormat()}, nil
	}
	claims, denial, again, err := c.claimsFor(in, true)
	switch {
	case err != nil:
		return step{}, err
	case again:
		return step{notice: denial}, nil
	case denial != "":
		return step{end: denial}, nil
	case len(claims) == 0:
		return step{end: c.noClaims(in, "")}, nil
	}
	if text, next, _ := claimsPage(c, c.claimTexts(), 0, noTail); next == len(claims) {
		return step{end: text}, nil // all on one screen, without navigation
	}
	return step{to: NodeClaimsList, id: in}, nil
}

// claimsListView shows a page of the list. The caller's right to see it is
// checked again (a state may be crafted), but the look-up is not counted
// twice: the list was counted when entered.
func (e *Engine) claimsListView(c *call, st *State) (view, error) {
	claims, denial, gone, err := c.claimsFor(st.ID, false)
	nav := c.t(msgNav, nil)
	switch {
	case err != nil:
		return view{}, err
	case gone || denial == "" && len(claims) == 0:
		// The insuree or the claims went away between two hops.
		return view{body: c.noClaims(st.ID, "\n"+nav), nav: nav}, nil
	case denial != "":
		return view{body: denial, nav: nav}, nil
	}
	pages := claimPages(c, c.claimTexts())
	st.Page = min(max(st.Page, 0), len(pages)-1)
	p := pages[st.Page]
	return view{body: p.text, nav: p.nav}, nil
}

// claimsFor reads chfid's claims for the caller (access.go): the claims
// when the caller may see them; otherwise denial, the caller's answer:
// where claims are shown, or when to try again once the caller's look-up
// limit is reached (count: this look-up counts against it), or, with
// again, that no insuree has the number and another may be typed (only
// where anyone may see claims: elsewhere the answer must not tell a known
// number from an unknown one).
func (c *call) claimsFor(chfid string, count bool) (claims []openimis.Claim, denial string, again bool, err error) {
	list, err := c.loadClaims(chfid)
	notFound := errors.Is(err, openimis.ErrInsureeNotFound)
	if err != nil && !notFound {
		return nil, "", false, err
	}
	rel := relStranger
	if !notFound {
		rel = c.relationTo(list.Holder)
	}
	if count && !rel.ownFamily() {
		if err := c.countLookup(); err != nil {
			text, over := overLimit(err)
			if !over {
				return nil, "", false, err
			}
			return nil, text, false, nil
		}
	}
	switch {
	case !rel.seesClaims(c.e.opt.ClaimsVisibleTo):
		return nil, c.claimsPrivate(chfid), false, nil
	case notFound:
		return nil, c.noInsuree(chfid), true, nil
	}
	return list.Claims, "", false, nil
}

// claimsCache keeps the claims a call loaded: entering the list asks the
// store once, and renders the claims once, although both the input and the
// view need them.
type claimsCache struct {
	chfid  string
	list   openimis.ClaimList
	err    error
	loaded bool
	// texts are the claims rendered in textsLang: a route may change the
	// language between two looks at the same claims.
	texts     *claimTexts
	textsLang string
}

func (c *call) loadClaims(chfid string) (openimis.ClaimList, error) {
	if cache := c.claims; cache.loaded && cache.chfid == chfid {
		return cache.list, cache.err
	}
	list, err := c.e.opt.Claims.Claims(c.ctx, chfid, claimsShown)
	if err != nil {
		err = fmt.Errorf("claim status: %w", err)
	}
	c.claims = claimsCache{chfid: chfid, list: list, err: err, loaded: true}
	return list, err
}

// claimTexts are the claims loadClaims returned last, rendered in the call's
// language.
func (c *call) claimTexts() *claimTexts {
	cache := &c.claims
	if cache.texts == nil || cache.textsLang != c.lang {
		cache.texts, cache.textsLang = newClaimTexts(c, cache.list.Claims), c.lang
	}
	return cache.texts
}

// claimsPrivate says where the claims of chfid are shown, echoing as much
// of the number as fits.
func (c *call) claimsPrivate(chfid string) string {
	return c.fitValue(chfid, shownCHFIDMax, "", func(number string) string {
		return c.t(msgClaimsPrivate, vars{"Number": number})
	})
}

// noClaims says that the insuree has no claims, echoing as much of the
// number as leaves room for rest, which follows it on the screen.
func (c *call) noClaims(chfid, rest string) string {
	return c.fitValue(chfid, shownCHFIDMax, rest, func(number string) string {
		return c.t(msgNoClaims, vars{"Number": number})
	})
}

func noTail(int) string { return "" }

// claimsSMS is the SMS answer: the header and as many claims as fit one
// part, then "+N more".
func claimsSMS(c *call, claims []openimis.Claim) string {
	n := len(claims)
	more := func(last int) string {
		if last == n-1 {
			return ""
		}
		return c.tn(msgMore, n-last-1, nil)
	}
	text, next, withTail := claimsPage(c, newClaimTexts(c, claims), 0, more)
	if !withTail {
		return text
	}
	return lines(text, more(next-1))
}

// claimPage is one page of a paged claims list.
type claimPage struct {
	text string // the claims, after the header on the first page
	nav  string // "" when the claims left it no room
}

// claimPages lays the claims out on pages, each with as many claims as fit
// above its navigation line ("98 More ..." but on the last page).
func claimPages(c *call, texts *claimTexts) []claimPage {
	n := len(texts.render)
	navMore, navLast := c.t(msgNavMore, nil), c.t(msgNav, nil)
	nav := func(last int) string {
		if last < n-1 {
			return navMore
		}
		return navLast
	}
	var pages []claimPage
	for i := 0; i < n; {
		text, next, withNav := claimsPage(c, texts, i, nav)
		p := claimPage{text: text}
		if withNav {
			p.nav = nav(next - 1)
		}
		pages = append(pages, p)
		i = next
	}
	return pages
}

// claimsPage fills one page with claims from the i-th, the page's last
// claim followed by tail(index of that claim), and returns the page without
// its tail, the index of the first claim left for the next page, and
// whether the tail fits. The first page starts with the header when the
// first claim fits whole beside it. A claim too long for a page of its own
// gives way: its facility name first, down to nothing, then the tail, then
// its own end.
func claimsPage(c *call, ct *claimTexts, i int, tail func(last int) string) (string, int, bool) {
	head := ""
	if i == 0 && c.fit.fits(lines(ct.header, ct.entry(0), tail(0))) {
		head = ct.header
	}
	text := lines(head, ct.entry(i))
	if !c.fit.fits(lines(text, tail(i))) {
		var withTail bool
		if text, withTail = shrinkClaim(c, ct.render[i], tail(i)); !withTail {
			return text, i + 1, false
		}
	}
	j := i + 1
	for ; j < len(ct.render); j++ {
		more := lines(text, ct.entry(j))
		if !c.fit.fits(lines(more, tail(j))) {
			break
		}
		text = more
	}
	return text, j, true
}

// shrinkClaim fits one claim (rendered for a facility width), alone, above
// tail; false when only without the tail.
func shrinkClaim(c *call, render func(facility int) string, tail string) (string, bool) {
	after := ""
	if tail != "" {
		after = "\n" + tail
	}
	fits := func(k int) bool { return c.fit.fits(render(k) + after) }
	// The longest facility name that fits, if one worth reading does.
	if k := longestFitting(facilityMax+1, fits); k >= minCut {
		return render(k), true
	}
	bare := render(0)
	switch {
	case c.fit.fits(bare + after):
		return bare, true
	case c.fit.fits(bare):
		return bare, false // the status and amount matter more than "98 More"
	}
	return c.fit.shrink(bare, "", after), true
}

// claimTexts are a call's claims ready to lay out: the header, and each
// claim rendered once per facility width asked.
type claimTexts struct {
	header string
	render []func(facility int) string
	full   []string // at facilityMax, rendered on first use
}

func newClaimTexts(c *call, claims []openimis.Claim) *claimTexts {
	ct := &claimTexts{header: c.tn(msgClaimsHeader, len(claims), nil), full: make([]string, len(claims))}
	for _, claim := range claims {
		ct.render = append(ct.render, claimRenderer(c, claim))
	}
	return ct
}

func (ct *claimTexts) entry(i int) string {
	if ct.full[i] == "" {
		ct.full[i] = ct.render[i](facilityMax)
	}
	return ct.full[i]
}

// claimRenderer renders one claim for any facility width (left out at 0),
// localising its date and status once.
func claimRenderer(c *call, claim openimis.Claim) func(facility int) string {
	name := clean(claim.FacilityName)
	if name == "" {
		name = clean(claim.FacilityCode)
	}
	code, date, status := truncate(clean(claim.Code), claimCodeMax), c.date(claim.DateClaimed), claimStatus(c, claim)
	return func(facility int) string {
		text := c.t(msgClaimEntry, vars{"Code": code, "Date": date, "Facility": truncate(name, facility), "Status": status})
		if facility == 0 || name == "" {
			text = withoutBlankLines(text)
		}
		return text
	}
}

// withoutBlankLines drops the line a left-out value leaves empty.
func withoutBlankLines(s string) string {
	parts := strings.Split(s, "\n")
	kept := parts[:0]
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "\n")
}

// claimStatus is the status in plain words, with the approved amount from
// "checked" on and the valued one at "valued" (docs/openimis.md, "Claims: statuses and what may be shown").
func claimStatus(c *call, claim openimis.Claim) string {
	switch claim.Status {
	case openimis.ClaimRejected:
		return c.t(msgClaimRejected, nil)
	case openimis.ClaimEntered:
		return c.t(msgClaimEntered, nil)
	case openimis.ClaimChecked, openimis.ClaimProcessed:
		id := msgClaimChecked
		if claim.Status == openimis.ClaimProcessed {
			id = msgClaimProcessed
		}
		if !claim.Approved.Valid {
			return c.t(id, nil)
		}
		return c.t(msgClaimApproved, vars{"Status": c.t(id, nil), "Amount": c.amount(claim.Approved)})
	case openimis.ClaimValuated:
		if !claim.Valuated.Valid {
			return c.t(msgClaimValuated, nil)
		}
		return c.t(msgClaimValued, vars{"Status": c.t(msgClaimValuated, nil), "Amount": c.amount(claim.Valuated)})
	}
	return c.t(msgClaimStatusCode, vars{"Code": int(claim.Status)})
}
