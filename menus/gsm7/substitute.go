package gsm7

import (
	"strings"
	"unicode/utf8"
)

// typography maps what word processors and databases put in text in place
// of plain punctuation, which GSM-7 lacks. Replacing it never changes what a
// reader understands, so it applies to every language.
var typography = map[rune]string{
	'‘': "'", '’': "'", '‚': "'", '‛': "'", '′': "'",
	'“': `"`, '”': `"`, '„': `"`, '«': `"`, '»': `"`, '″': `"`,
	'‐': "-", '‑': "-", '‒': "-", '–': "-", '—': "-", '−': "-",
	'…': "...", '•': "-", '·': ".",
	'\t': " ", '\u00a0': " ", '\u2007': " ", '\u2009': " ", '\u202f': " ", '\u200b': "",
}

// accentsTable maps Latin letters missing from GSM-7 to their base letters, as
// French (and names in any Latin script) need: "fenêtre" becomes "fenetre".
// Letters GSM-7 has (é è à ù ì ò É Ç ä ö ü ñ Å Æ Ø ß ...) stay. Lower-case ç
// becomes c: GSM-7 has only Ç, which older handsets draw as ç and newer ones
// as Ç.
var accentsTable = map[rune]string{
	'â': "a", 'á': "a", 'ã': "a", 'ā': "a",
	'ç': "c", 'ć': "c", 'č': "c",
	'ê': "e", 'ë': "e", 'ē': "e", 'ě': "e",
	'î': "i", 'ï': "i", 'í': "i", 'ī': "i",
	'ô': "o", 'ó': "o", 'õ': "o", 'ō': "o",
	'û': "u", 'ú': "u", 'ū': "u",
	'ÿ': "y", 'ý': "y",
	'œ': "oe", 'Œ': "OE",
	'À': "A", 'Â': "A", 'Á': "A", 'Ã': "A",
	'È': "E", 'Ê': "E", 'Ë': "E",
	'Î': "I", 'Ï': "I", 'Í': "I", 'Ì': "I",
	'Ô': "O", 'Ó': "O", 'Õ': "O", 'Ò': "O",
	'Û': "U", 'Ù': "U", 'Ú': "U",
	'Ÿ': "Y", 'Ý': "Y",
	'°': "o", // "N°", the French numero sign, reads as "No"
}

// Substitute returns s with GSM-7 look-alikes for typographic characters
// (curly quotes, dashes, the ellipsis, unusual spaces), and, when accents is
// true, for accented Latin letters GSM-7 lacks. Characters outside the Basic
// Multilingual Plane (emoji) are dropped: neither GSM-7 nor UCS-2 can carry
// them. Other characters are kept, so the result may still need UCS-2.
func Substitute(s string, accents bool) string {
	if plainASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r > 0xffff {
			continue
		}
		if t, ok := typography[r]; ok {
			b.WriteString(t)
			continue
		}
		if accents {
			if t, ok := accentsTable[r]; ok {
				b.WriteString(t)
				continue
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// SubstitutedCount returns what Count(Substitute(s, accents)) does, without
// building the text: layouts measure many candidates for each one they send.
func SubstitutedCount(s string, accents bool) (int, bool) {
	n := 0
	for _, r := range s {
		if r > 0xffff {
			continue
		}
		t, ok := typography[r]
		if !ok && accents {
			t, ok = accentsTable[r]
		}
		if !ok {
			k := Septets(r)
			if k == 0 {
				return 0, false
			}
			n += k
			continue
		}
		k, valid := Count(t)
		if !valid {
			return 0, false
		}
		n += k
	}
	return n, true
}

// StrippedUnits returns what Units(StripAstral(s)) does, without building
// the text.
func StrippedUnits(s string) int {
	n := 0
	for _, r := range s {
		if r <= 0xffff {
			n++ // a BMP character (or U+FFFD for invalid UTF-8) is one unit
		}
	}
	return n
}

// StripAstral drops the characters outside the Basic Multilingual Plane
// (emoji and rare scripts), which UCS-2 cannot carry.
func StripAstral(s string) string {
	if plainASCII(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r > 0xffff {
			return -1
		}
		return r
	}, s)
}

// plainASCII reports whether s is printable ASCII and newlines only, which
// needs no substitution.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || (c < ' ' && c != '\n') {
			return false
		}
	}
	return true
}
