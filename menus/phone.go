package menus

import (
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// e164 identifies a phone number as its E.164 form does, without building
// the string.
type e164 struct {
	country  int32
	national uint64
	zeros    int32 // leading zeros kept in the national number (Italy, ...)
}

// parsePhone normalises a free-text phone number ("0712 345 678",
// "+255 712 345 678", "255712345678"; openimis.md §5.2: no format is
// enforced) with region for numbers without a country code. Empty,
// unparsable and impossibly short or long numbers never match anything.
func parsePhone(s, region string) (e164, bool) {
	if strings.TrimSpace(s) == "" {
		return e164{}, false
	}
	var n phonenumbers.PhoneNumber
	if err := phonenumbers.ParseToNumber(s, region, &n); err != nil || !phonenumbers.IsPossibleNumber(&n) {
		return e164{}, false
	}
	k := e164{country: n.GetCountryCode(), national: n.GetNationalNumber()}
	if n.GetItalianLeadingZero() {
		k.zeros = n.GetNumberOfLeadingZeros()
	}
	return k, true
}

// callerPhone is the caller's number, parsed at most once per engine call:
// phonenumbers parsing costs about 13 µs and two dozen allocations, and most
// hops never need it.
type callerPhone struct {
	raw, region string
	parsed, ok  bool
	num         e164
}

// matchesAny reports whether any stored number is the caller's.
func (c *callerPhone) matchesAny(stored ...string) bool {
	if !c.parsed {
		c.num, c.ok = parsePhone(c.raw, c.region)
		c.parsed = true
	}
	if !c.ok {
		return false
	}
	for i, s := range stored {
		switch {
		case s == c.raw:
			return true // same text, same number: no second parse
		case slices.Contains(stored[:i], s):
			continue // a family head's own record repeats the phone
		}
		if n, ok := parsePhone(s, c.region); ok && n == c.num {
			return true
		}
	}
	return false
}
