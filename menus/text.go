package menus

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// truncate shortens s to at most max runes, ending with "…" when cut (one
// rune here; "..." on a GSM-7 screen). It caps stored data (names, product
// names, insurance numbers) before layout, whatever the screen's budget.
func truncate(s string, max int) string {
	switch {
	case runeLen(s) <= max:
		return s
	case max <= 0:
		return ""
	case max == 1:
		return ellipsis
	}
	r := []rune(s)
	return string(r[:wordCut(r, max-1)]) + ellipsis
}

// clean makes stored free text safe for one screen line: control characters
// (newlines, tabs, NUL) become spaces, runs of spaces collapse, and invalid
// UTF-8 is replaced.
func clean(s string) string {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || (c == ' ' && (i == 0 || i == len(s)-1 || s[i-1] == ' ')) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
