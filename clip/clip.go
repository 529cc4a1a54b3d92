// Package clip bounds text that the gateway stores or logs: provider
// answers, error reasons, inbound messages, version strings. It is the one
// place that cuts text to a size, below every package that does (it imports
// nothing of the gateway's).
//
// Shortening text for people, with an ellipsis and on word boundaries, is
// layout, and the menus do it.
package clip

import (
	"strings"
	"unicode/utf8"
)

// Bytes returns s as valid UTF-8 (each invalid byte sequence becomes '?')
// and at most n bytes long, cut between characters, never inside one.
func Bytes(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= n {
		return s
	}
	cut := max(n, 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
