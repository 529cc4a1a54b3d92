package menus

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openimis/imis-gateway/policystore"
)

// "Check membership" (DESIGN.md §2.3): ask for the insurance number, answer
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

func (e *Engine) membershipPrompt(h *hop) string {
	return t(h.lang, msgAskCHFID)
}

func (e *Engine) membershipInput(h *hop, in string) (step, error) {
	if !validCHFID(in, e.opt.CHFIDMaxLen) {
		return step{notice: t(h.lang, msgCHFIDFormat, e.opt.CHFIDMaxLen)}, nil
	}
	today := e.today()
	cov, err := e.src.Coverage(h.ctx, in, today)
	if errors.Is(err, policystore.ErrInsureeNotFound) {
		return step{notice: t(h.lang, msgNoInsuree, truncate(in, shownCHFIDMax))}, nil
	}
	if err != nil {
		return step{}, fmt.Errorf("check membership: %w", err)
	}
	return step{end: e.coverageAnswer(h, cov, in, today)}, nil
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

// coverageAnswer renders the END screen for a found insuree.
func (e *Engine) coverageAnswer(h *hop, cov policystore.Coverage, asked string, today time.Time) string {
	number := cov.CHFID
	if number == "" {
		number = asked
	}
	var head []string
	if name := e.insureeName(h, cov); name != "" {
		head = append(head, name)
	}
	head = append(head, t(h.lang, msgNumber, truncate(clean(number), shownCHFIDMax)))

	shown := policiesToShow(cov.Policies)
	if len(shown) == 0 {
		return strings.Join(append(head, t(h.lang, msgNoPolicy)), "\n")
	}
	return fitLines(strings.Join(head, "\n"), len(shown),
		func(i int) string { return policyLine(h.lang, shown[i], today) },
		func(n int) string { return t(h.lang, msgMore, n) },
		screenBudget)
}

// insureeName is "OtherNames LastName" for the insuree or the family head
// calling from their phone on record, and initials ("A*** J***") for anyone
// else: the answer is given to whoever knows a number.
func (e *Engine) insureeName(h *hop, cov policystore.Coverage) string {
	words := strings.Fields(clean(cov.OtherNames + " " + cov.LastName))
	if len(words) == 0 {
		return ""
	}
	if !h.phone.matchesAny(cov.Phone, cov.HeadPhone) {
		for i, w := range words {
			first, _ := utf8.DecodeRuneInString(w)
			words[i] = t(h.lang, msgMaskedWord, string(first))
		}
	}
	return truncate(strings.Join(words, " "), nameMax)
}

// policiesToShow follows the legacy enquiry (openimis.md §2.1): when a policy
// covers the insuree only covering policies count; otherwise all of them,
// latest expiry first.
func policiesToShow(all []policystore.PolicyCoverage) []policystore.PolicyCoverage {
	shown := make([]policystore.PolicyCoverage, 0, len(all))
	for _, p := range all {
		if p.Status == policystore.Covered {
			shown = append(shown, p)
		}
	}
	if len(shown) == 0 {
		shown = append(shown, all...)
	}
	// policystore already orders them; sorting again makes the screen
	// independent of that promise.
	slices.SortStableFunc(shown, func(a, b policystore.PolicyCoverage) int {
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

func policyLine(lang string, p policystore.PolicyCoverage, today time.Time) string {
	product := productLabel(p)
	switch p.Status {
	case policystore.Covered:
		if p.ExpiryDate.IsZero() {
			return t(lang, msgCovered, product)
		}
		return t(lang, msgCoveredUntil, product, formatDate(lang, p.ExpiryDate))
	case policystore.NotYetActive:
		if !p.EffectiveDate.IsZero() && cmpDate(p.EffectiveDate, today) > 0 {
			return t(lang, msgNotYetActiveFrom, product, formatDate(lang, p.EffectiveDate))
		}
		return t(lang, msgNotYetActive, product)
	case policystore.Expired:
		if p.ExpiryDate.IsZero() {
			return t(lang, msgExpired, product)
		}
		return t(lang, msgExpiredOn, product, formatDate(lang, p.ExpiryDate))
	case policystore.Suspended:
		return t(lang, msgSuspended, product)
	}
	return t(lang, msgNotCovered, product)
}

// productLabel is the product's name, or its code when the name is too long
// for a line.
func productLabel(p policystore.PolicyCoverage) string {
	name, code := clean(p.ProductName), clean(p.ProductCode)
	switch {
	case name != "" && runeLen(name) <= productMax:
		return name
	case code != "":
		return truncate(code, productMax)
	}
	return truncate(name, productMax)
}

// formatDate writes a calendar date ("31 Dec 2026"). Dates from PostgreSQL
// "date" columns are midnight UTC; their fields are used as they are, never
// converted to another zone (which could move them a day).
func formatDate(lang string, d time.Time) string {
	y, m, day := d.Date()
	return t(lang, msgDate, day, t(lang, monthMsgs[m-1]), y)
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
