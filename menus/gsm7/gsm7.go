// Package gsm7 measures text the way a phone network carries it: in the GSM
// 03.38 7-bit default alphabet when every character is in it, otherwise in
// UCS-2 (docs/providers.md, "Screen budgets and encodings"; "SMS parts"). It also replaces characters that have a
// GSM-7 look-alike, so that a screen or an SMS need not fall back to UCS-2,
// which halves the room.
package gsm7

import (
	"unicode/utf16"
)

// Encoding is how a text travels.
type Encoding uint8

const (
	GSM7 Encoding = iota // 7-bit default alphabet; extension characters take two septets
	UCS2                 // 16-bit code units
)

func (e Encoding) String() string {
	if e == GSM7 {
		return "GSM-7"
	}
	return "UCS-2"
}

// basic is the default alphabet (3GPP TS 23.038 §6.2.1) beyond printable
// ASCII, which is all in it except the extension characters and '`'.
var basic = map[rune]bool{
	'£': true, '¥': true, 'è': true, 'é': true, 'ù': true, 'ì': true, 'ò': true, 'Ç': true,
	'\n': true, 'Ø': true, 'ø': true, '\r': true, 'Å': true, 'å': true,
	'Δ': true, 'Φ': true, 'Γ': true, 'Λ': true, 'Ω': true, 'Π': true, 'Ψ': true, 'Σ': true, 'Θ': true, 'Ξ': true,
	'Æ': true, 'æ': true, 'ß': true, 'É': true, '¤': true, '¡': true,
	'Ä': true, 'Ö': true, 'Ñ': true, 'Ü': true, '§': true, '¿': true,
	'ä': true, 'ö': true, 'ñ': true, 'ü': true, 'à': true,
}

// Septets returns how many septets r takes in GSM-7: 1 in the default
// alphabet, 2 in the extension table (escape plus code), 0 when r has no
// GSM-7 code at all.
func Septets(r rune) int {
	switch {
	case r == '`':
		return 0 // the one printable ASCII character GSM-7 lacks
	case r == '^' || r == '{' || r == '}' || r == '\\' || r == '[' || r == '~' || r == ']' || r == '|':
		return 2
	case r >= ' ' && r <= '~':
		return 1
	case r == '€' || r == '\f':
		return 2
	case basic[r]:
		return 1
	}
	return 0
}

// Count returns the septets s takes in GSM-7, and false when some character
// of s has no GSM-7 code.
func Count(s string) (int, bool) {
	n := 0
	for _, r := range s {
		k := Septets(r)
		if k == 0 {
			return 0, false
		}
		n += k
	}
	return n, true
}

// Units returns the UTF-16 code units of s: what a UCS-2 message counts. A
// character outside the Basic Multilingual Plane (an emoji) takes two, a
// Devanagari vowel sign or virama one of its own.
func Units(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1) // invalid UTF-8 decodes as U+FFFD, one unit
	}
	return n
}

// Measure picks the encoding of s (GSM-7 when every character has a GSM-7
// code) and returns its length in that encoding's units.
func Measure(s string) (Encoding, int) {
	if n, ok := Count(s); ok {
		return GSM7, n
	}
	return UCS2, Units(s)
}
