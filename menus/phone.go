package menus

import (
	"slices"

	"github.com/openimis/imis-gateway/openimis"
)

// phoneKey is the E.164 string of a free-text phone number ("0712 345 678",
// "+255 712 345 678", "255712345678" all give "+255712345678" with region
// "TZ"; docs/openimis.md, "Phone numbers": no format is enforced): the key under which a
// phone's choices, such as its language, are remembered, and what two phones
// are compared by. Empty, unparsable and impossibly short or long numbers
// never match anything.
func phoneKey(s, region string) (string, bool) {
	return openimis.NormalizePhone(s, region)
}

// callerPhone is the caller's number, normalised at most once per engine
// call, and only when the call compares phones.
type callerPhone struct {
	raw, region string
	parsed, ok  bool
	key         string
}

// e164 is the caller's number in E.164; false when it does not parse.
func (c *callerPhone) e164() (string, bool) {
	if !c.parsed {
		c.key, c.ok = phoneKey(c.raw, c.region)
		c.parsed = true
	}
	return c.key, c.ok
}

// matchesAny reports whether any stored number is the caller's.
func (c *callerPhone) matchesAny(stored ...string) bool {
	if _, ok := c.e164(); !ok {
		return false
	}
	for i, s := range stored {
		switch {
		case s == c.raw:
			return true // same text, same number
		case slices.Contains(stored[:i], s):
			continue // a family head's own record repeats the phone
		}
		if k, ok := phoneKey(s, c.region); ok && k == c.key {
			return true
		}
	}
	return false
}
