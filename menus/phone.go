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
	var n phonenumbers.PhoneNumber
	if !parseNumber(s, region, &n) {
		return e164{}, false
	}
	k := e164{country: n.GetCountryCode(), national: n.GetNationalNumber()}
	if n.GetItalianLeadingZero() {
		k.zeros = n.GetNumberOfLeadingZeros()
	}
	return k, true
}

// phoneKey is the E.164 string of a phone number ("+255712345678"): the key
// under which a phone's choices, such as its language, are remembered.
func phoneKey(s, region string) (string, bool) {
	var n phonenumbers.PhoneNumber
	if !parseNumber(s, region, &n) {
		return "", false
	}
	return phonenumbers.Format(&n, phonenumbers.E164), true
}

func parseNumber(s, region string, n *phonenumbers.PhoneNumber) bool {
	if strings.TrimSpace(s) == "" {
		return false
	}
	return phonenumbers.ParseToNumber(s, region, n) == nil && phonenumbers.IsPossibleNumber(n)
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
