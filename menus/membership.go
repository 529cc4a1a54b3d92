package menus

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openimis/imis-gateway/openimis"
)

// "Check membership" (README.md, "The USSD menu"): ask for the insurance number, answer
// with the insuree's (possibly masked) name and one line per policy.

const (
	// nameMax and productMax keep the answer's header and policy lines short
	// enough that, with a 50-character CHFID, at least one policy line and a
	// "+N more" still fit the screen.
	nameMax    = 40
	productMax = 20
	// shownCHFIDMax bounds an insurance number echoed on a screen, whatever
	// Options.CHFIDMaxLen says.
	shownCHFIDMax = 50
)

// askView asks for an insurance number (membership and claims alike).
func (e *Engine) askView(c *call, _ *State) (view, error) {
	return view{body: c.t(msgAskCHFID, nil), nav: c.t(msgNav, nil)}, nil
}

func (e *Engine) membershipInput(c *call, _ State, in string) (step, error) {
	if !validCHFID(in, e.opt.CHFIDMaxLen) {
		return step{notice: c.chfidFormat()}, nil
	}
	text, again, err := e.membership(c, in)
	switch {
	case err != nil:
		return step{}, err
	case again:
		return step{notice: text}, nil
	}
	return step{end: text}, nil
}

// membership answers a membership check of a valid insurance number, for
// USSD and SMS alike: the answer, or, with again set, that no insuree has
// the number and another may be typed. A number outside the caller's own
// family counts against the caller's look-up limit (access.go), found or
// not; over it, the answer says when to try again.
func (e *Engine) membership(c *call, chfid string) (text string, again bool, err error) {
	today := e.today()
	cov, err := e.src.Coverage(c.ctx, chfid, today)
	notFound := errors.Is(err, openimis.ErrInsureeNotFound)
	if err != nil && !notFound {
		return "", false, fmt.Errorf("check membership: %w", err)
	}
	if notFound || !c.relationTo(cov.Holder).ownFamily() {
		if err := c.countLookup(); err != nil {
			text, over := overLimit(err)
			if !over {
				return "", false, err
			}
			return text, false, nil
		}
	}
	if notFound {
		return c.noInsuree(chfid), true, nil
	}
	return e.coverageAnswer(c, cov, chfid, today), false, nil
}

func (c *call) chfidFormat() string {
	return c.t(msgCHFIDFormat, vars{"Max": c.e.opt.CHFIDMaxLen})
}

// noInsuree says that no insuree has the number, echoing as much of it as
// leaves room for the question under it.
func (c *call) noInsuree(chfid string) string {
	rest := "\n" + lines(c.t(msgAskCHFID, nil), c.t(msgNav, nil))
	return c.fitValue(chfid, shownCHFIDMax, rest, func(number string) string {
		return c.t(msgNoInsuree, vars{"Number": number})
	})
}

// validCHFID accepts 1..max ASCII letters and digits. openIMIS does not
// constrain "CHFID" beyond its width, but real numbers are 5 to 12 digits
// and a keypad sends nothing else worth a query.
func validCHFID(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

// coverageAnswer renders the END screen for a found insuree: the name, the
// number, then as many policy lines as fit. On a short budget the name gives
// way first, so that the number and at least "+N more" stay.
func (e *Engine) coverageAnswer(c *call, cov openimis.Coverage, asked string, today time.Time) string {
	number := cov.CHFID
	if number == "" {
		number = asked
	}
	numberLine := c.t(msgNumber, vars{"Number": truncate(clean(number), shownCHFIDMax)})
	shown := policiesToShow(cov.Policies)
	least := c.t(msgNoPolicy, nil)
	if len(shown) > 0 {
		least = c.tn(msgMore, len(shown), nil)
	}
	name := e.insureeName(c, cov)
	if name != "" {
		if name = c.fit.shrink(name, "", "\n"+numberLine+"\n"+least); name == ellipsis {
			name = ""
		}
	}
	head := lines(name, numberLine)
	if len(shown) == 0 {
		return lines(head, least)
	}
	more := func(n int) string { return c.tn(msgMore, n, nil) }
	// A first line too long for the screen gives up its product name
	// before its status and date.
	first := policyLine(c, shown[0], today, productMax)
	tail := ""
	if len(shown) > 1 {
		tail = "\n" + more(len(shown)-1)
	}
	if !c.fit.fits(head + "\n" + first + tail) {
		fits := func(k int) bool { return c.fit.fits(head + "\n" + policyLine(c, shown[0], today, k) + tail) }
		if k := longestFitting(productMax+1, fits); k >= minCut {
			first = policyLine(c, shown[0], today, k)
		}
	}
	return c.fit.fitLines(head, len(shown),
		func(i int) string {
			if i == 0 {
				return first
			}
			return policyLine(c, shown[i], today, productMax)
		}, more)
}

// insureeName is "OtherNames LastName" for the insuree or the family head
// calling from their phone on record, and initials ("A*** J***") for anyone
// else: the answer is given to whoever knows a number.
func (e *Engine) insureeName(c *call, cov openimis.Coverage) string {
	words := strings.Fields(clean(cov.OtherNames + " " + cov.LastName))
	if len(words) == 0 {
		return ""
	}
	if !c.phone.matchesAny(cov.Phone, cov.HeadPhone) {
		for i, w := range words {
			first, _ := utf8.DecodeRuneInString(w)
			words[i] = c.t(msgMaskedWord, vars{"Initial": string(first)})
		}
	}
	return truncate(strings.Join(words, " "), nameMax)
}

// policiesToShow follows the legacy enquiry (docs/openimis.md, "Coverage: the legacy enquiry"): when a policy
// covers the insuree only covering policies count; otherwise all of them,
// latest expiry first.
func policiesToShow(all []openimis.PolicyCoverage) []openimis.PolicyCoverage {
	shown := make([]openimis.PolicyCoverage, 0, len(all))
	for _, p := range all {
		if p.Status == openimis.Covered {
			shown = append(shown, p)
		}
	}
	if len(shown) == 0 {
		shown = append(shown, all...)
	}
	// The store already orders them; sorting again makes the screen
	// independent of that promise.
	slices.SortStableFunc(shown, func(a, b openimis.PolicyCoverage) int {
		switch {
		case a.ExpiryDate.IsZero() && b.ExpiryDate.IsZero():
			return 0
		case a.ExpiryDate.IsZero():
			return 1
		case b.ExpiryDate.IsZero():
			return -1
		}
		return -cmpDate(a.ExpiryDate, b.ExpiryDate)
	})
	return shown
}

// policyLine renders one policy, its product label cut to product runes.
func policyLine(c *call, p openimis.PolicyCoverage, today time.Time, product int) string {
	v := vars{"Product": truncate(productLabel(p), product)}
	id := msgNotCovered
	switch p.Status {
	case openimis.Covered:
		id = msgCovered
		if !p.ExpiryDate.IsZero() {
			id, v["Date"] = msgCoveredUntil, c.date(p.ExpiryDate)
		}
	case openimis.NotYetActive:
		id = msgNotYetActive
		if !p.EffectiveDate.IsZero() && cmpDate(p.EffectiveDate, today) > 0 {
			id, v["Date"] = msgNotYetActiveFrom, c.date(p.EffectiveDate)
		}
	case openimis.Expired:
		id = msgExpired
		if !p.ExpiryDate.IsZero() {
			id, v["Date"] = msgExpiredOn, c.date(p.ExpiryDate)
		}
	case openimis.Suspended:
		id = msgSuspended
	}
	return c.t(id, v)
}

// productLabel is the product's name, or its code when the name is too long
// for a line.
func productLabel(p openimis.PolicyCoverage) string {
	name, code := clean(p.ProductName), clean(p.ProductCode)
	switch {
	case name != "" && runeLen(name) <= productMax:
		return name
	case code != "":
		return truncate(code, productMax)
	}
	return truncate(name, productMax)
}

// cmpDate compares the calendar dates of a and b, ignoring clock and zone.
func cmpDate(a, b time.Time) int {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	if c := cmp.Compare(ay, by); c != 0 {
		return c
	}
	if c := cmp.Compare(am, bm); c != 0 {
		return c
	}
	return cmp.Compare(ad, bd)
}
