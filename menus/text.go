package menus

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

const ellipsis = "..."

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// truncate shortens s to at most max runes, ending with "..." when cut. It
// cuts after a whole word when that keeps at least half of the room, so a
// masked name never ends in a broken "O*...".
func truncate(s string, max int) string {
	if runeLen(s) <= max {
		return s
	}
	if max <= len(ellipsis) {
		return ellipsis[:max]
	}
	r := []rune(s)
	keep := max - len(ellipsis)
	for i := keep - 1; i >= keep/2; i-- {
		if unicode.IsSpace(r[i]) {
			keep = i + 1 // the space stays: "Mary Anne ..." says words are missing
			break
		}
	}
	return string(r[:keep]) + ellipsis
}

// clip is the last guard on a screen's length. Screens are built to fit, so
// it only cuts when a catalog or a data path has a bug; the length tests
// make sure it never does in English.
func clip(s string, max int) string { return truncate(s, max) }

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

// fitLines joins head and as many of n lines (line(i) renders the i-th) as
// fit in budget runes, then, when some are left out, more(count). A first
// line too long for the space left is shortened rather than dropped.
func fitLines(head string, n int, line func(int) string, more func(int) string, budget int) string {
	var b strings.Builder
	b.WriteString(head)
	used := runeLen(head)
	for i := 0; i < n; i++ {
		l := line(i)
		reserve := 0
		if i < n-1 {
			reserve = 1 + runeLen(more(n-i-1))
		}
		room := budget - used - 1 - reserve
		if runeLen(l) > room {
			if i > 0 || room < 2*len(ellipsis) {
				b.WriteString("\n" + more(n-i))
				return clip(b.String(), budget)
			}
			l = truncate(l, room)
		}
		b.WriteString("\n" + l)
		used += 1 + runeLen(l)
	}
	return b.String()
}
