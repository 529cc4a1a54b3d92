package menus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/openimis/imis-gateway/openimis"
)

// Who may see what of an insurance number, and which look-ups count against
// a phone's limit. A short code is public: anyone can dial it and type any
// number, so every answer is an oracle unless bounded.
//
//   - Claims are health data: by default only the insuree's own phone, the
//     family head's, and an enrolment officer whose area covers the family
//     see them (Options.ClaimsVisibleTo widens that). Anyone else is told
//     where claims are shown, and nothing more, whether the number exists
//     or not.
//   - Look-ups (membership and claims, USSD and SMS) of numbers outside the
//     caller's own family, found or not, count against the caller's limit
//     (Options.Lookups). A caller's own family (a member's phone, or an
//     officer of the family's area) is never limited.

// LookupLimiter bounds the look-ups of insurance numbers each phone makes
// outside its own family, across USSD and SMS, sessions and gateway
// instances.
type LookupLimiter interface {
	// AllowLookup counts one look-up by phone (E.164 where it parses) and
	// reports whether it is within the phone's limit (an officer's when
	// officer is set); when not, retry is how long until the next one is.
	AllowLookup(ctx context.Context, phone string, officer bool) (ok bool, retry time.Duration, err error)
}

// ClaimsVisibility says who sees an insuree's claims (CLAIMS_VISIBLE_TO).
type ClaimsVisibility int

const (
	// ClaimsToInsured: the insuree's phone, the family head's, and officers
	// whose area covers the family. The default.
	ClaimsToInsured ClaimsVisibility = iota
	// ClaimsToFamily adds the phone of any member of the family.
	ClaimsToFamily
	// ClaimsToOfficers adds any current enrolment officer.
	ClaimsToOfficers
	// ClaimsToAnyone shows claims to whoever types the number.
	ClaimsToAnyone
)

var claimsVisibilityNames = []string{"insured", "family", "officers", "anyone"}

// ParseClaimsVisibility reads CLAIMS_VISIBLE_TO: insured (the default, also
// for ""), family, officers or anyone.
func ParseClaimsVisibility(s string) (ClaimsVisibility, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return ClaimsToInsured, nil
	}
	for i, name := range claimsVisibilityNames {
		if s == name {
			return ClaimsVisibility(i), nil
		}
	}
	return 0, fmt.Errorf("%q: want %s", s, strings.Join(claimsVisibilityNames, ", "))
}

func (v ClaimsVisibility) String() string {
	if int(v) < len(claimsVisibilityNames) {
		return claimsVisibilityNames[v]
	}
	return fmt.Sprintf("ClaimsVisibility(%d)", int(v))
}

// relation is what the caller is to an insurance number's holder.
type relation int

const (
	relStranger    relation = iota
	relOfficer              // a current enrolment officer, the family outside its area
	relAreaOfficer          // an officer whose area covers the family
	relFamily               // the phone of a member of the family
	relInsured              // the insuree's own phone, or the family head's
)

// relationTo tells what the caller is to holder. An officer look-up that
// fails counts the caller as no officer: the answer is then the one a
// stranger gets, never more.
func (c *call) relationTo(holder openimis.Holder) relation {
	switch {
	case c.phone.matchesAny(holder.Phone, holder.HeadPhone):
		return relInsured
	case c.phone.matchesAny(holder.FamilyPhones...):
		return relFamily
	}
	o, ok := c.officerRecord()
	switch {
	case !ok:
		return relStranger
	case o.Covers(holder.Location):
		return relAreaOfficer
	}
	return relOfficer
}

// ownFamily: look-ups of these numbers are never limited.
func (r relation) ownFamily() bool { return r >= relAreaOfficer }

// seesClaims reports whether a caller so related may see the claims.
func (r relation) seesClaims(v ClaimsVisibility) bool {
	switch v {
	case ClaimsToAnyone:
		return true
	case ClaimsToOfficers:
		return r != relStranger
	case ClaimsToFamily:
		return r >= relAreaOfficer
	}
	return r == relInsured || r == relAreaOfficer
}

// errOverLimit: the caller has used its look-ups; the text says when to try
// again. It is a user's answer, not a failure.
type errOverLimit struct{ text string }

func (e *errOverLimit) Error() string { return "look-up limit reached" }

// countLookup counts a look-up of a number outside the caller's own family
// against the caller's limit; over it, the error is an *errOverLimit.
func (c *call) countLookup() error {
	lim := c.e.opt.Lookups
	if lim == nil {
		return nil
	}
	phone := c.caller.Phone
	if key, ok := c.phone.e164(); ok {
		phone = key
	}
	_, officer := c.officerRecord()
	ok, retry, err := lim.AllowLookup(c.ctx, phone, officer)
	switch {
	case err != nil:
		return fmt.Errorf("look-up limit: %w", err)
	case !ok:
		return &errOverLimit{text: c.t(msgLookupLimit, vars{"Wait": c.wait(retry)})}
	}
	return nil
}

// countRenewalLookup counts an officer's renewal look-up that found no
// family of the officer's area (an unknown number, or a family outside it):
// such a refusal tells a number that exists from one that does not, so it
// is a look-up like any other outside the caller's own families. Over the
// limit, text is the caller's answer.
func (c *call) countRenewalLookup(refused error) (text string, over bool, err error) {
	if !errors.Is(refused, openimis.ErrOutsideArea) && !errors.Is(refused, openimis.ErrInsureeNotFound) {
		return "", false, nil
	}
	if err := c.countLookup(); err != nil {
		text, over := overLimit(err)
		if !over {
			return "", false, err
		}
		return text, true, nil
	}
	return "", false, nil
}

// overLimit returns the caller's answer when err is an *errOverLimit.
func overLimit(err error) (string, bool) {
	var over *errOverLimit
	if errors.As(err, &over) {
		return over.text, true
	}
	return "", false
}

// wait says how long d is, in whole minutes up to two hours and in hours
// after, always rounded up: "try again in 3 minutes" must not be too soon.
func (c *call) wait(d time.Duration) string {
	minutes := int((max(d, 0) + time.Minute - 1) / time.Minute)
	if minutes <= 120 {
		return c.tn(msgWaitMinutes, max(minutes, 1), nil)
	}
	return c.tn(msgWaitHours, (minutes+59)/60, nil)
}
