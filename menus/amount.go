package menus

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/openimis/imis-gateway/openimis"
)

// Amounts officers type (renew.amount, SMS RENEW): digits, with decimals
// and thousands separators as the language writes them (format.number),
// so that what the confirm screen shows can be typed back:
//
//	en, sw, ne  37000  37,000  1,250.50  1,00,000 (ne)   decimal point only
//	fr          37000  37 000  37.000  1 250,50  1250.50  decimal comma, or
//	            a point followed by one or two digits
//
// A separator followed by three digits groups thousands unless it can only
// be a decimal mark in the language, which then makes it too many decimals
// ("37.505" is wrong in English, 37 505 in French). Devanagari digits are
// read as digits. Anything else is a wrong amount: a sign, a currency,
// letters, a separator out of place.

// parseAmount reads an amount typed in the call's language; the problem is
// the message to show, "" when the amount is good.
func (c *call) parseAmount(s string) (openimis.Money, msg) {
	return parseAmount(s, c.e.cat.formatsOf(c.lang).number)
}

func parseAmount(s string, np numberPattern) (openimis.Money, msg) {
	s = strings.TrimSpace(s)
	if rest, neg := strings.CutPrefix(s, "-"); neg {
		if _, problem := parseAmount(rest, np); problem == "" || problem == msgRenewAmountZero {
			return 0, msgRenewAmountZero // a negative amount: more than 0, please
		}
		return 0, msgRenewAmountFormat
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case '0' <= r && r <= '9', r == ',', r == '.':
			b.WriteRune(r)
		case '०' <= r && r <= '९':
			b.WriteRune('0' + r - '०')
		case unicode.IsSpace(r) || r == '\u202f':
			b.WriteByte(' ')
		default:
			return 0, msgRenewAmountFormat
		}
	}
	t := b.String()
	decimalMark := func(c byte) bool { return c == '.' || string(c) == np.decimal }
	groupMark := func(c byte) bool {
		return c == ' ' || string(c) == np.group || (c == ',' || c == '.') && string(c) != np.decimal
	}

	whole, frac := t, ""
	if i := strings.LastIndexAny(t, ",."); i >= 0 {
		mark, tail := t[i], t[i+1:]
		switch {
		case decimalMark(mark) && (len(tail) == 1 || len(tail) == 2) && digitsOnly(tail):
			whole, frac = t[:i], tail
		case groupMark(mark) && len(tail) == 3:
			// a group: checked with the others below
		default:
			return 0, msgRenewAmountFormat // too many decimals, or none after the mark
		}
	}
	digits, ok := groupedDigits(whole, groupMark)
	if !ok {
		return 0, msgRenewAmountFormat
	}
	if digits = strings.TrimLeft(digits, "0"); len(digits) > 16 { // numeric(18,2)
		return 0, msgRenewAmountLarge
	}
	var cents int64
	if digits != "" {
		cents, _ = strconv.ParseInt(digits, 10, 64) // at most 16 digits
	}
	cents *= 100
	if frac != "" {
		f, _ := strconv.ParseInt(frac, 10, 64)
		if len(frac) == 1 {
			f *= 10
		}
		cents += f
	}
	switch m := openimis.Money(cents); {
	case m <= 0:
		return 0, msgRenewAmountZero
	case m > openimis.MaxMoney:
		return 0, msgRenewAmountLarge
	default:
		return m, ""
	}
}

// groupedDigits returns the digits of an integer part written with or
// without one kind of grouping separator: one to three digits, then groups
// of three, or of two and three as in South Asia (1,00,000), the last of
// three.
func groupedDigits(s string, groupMark func(byte) bool) (string, bool) {
	if s == "" {
		return "", false
	}
	var sep byte
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < '0' || c > '9' {
			if !groupMark(c) || (sep != 0 && c != sep) {
				return "", false
			}
			sep = c
		}
	}
	if sep == 0 {
		return s, true
	}
	groups := strings.Split(s, string(sep))
	for i, g := range groups {
		switch {
		case i == 0 && (len(g) < 1 || len(g) > 3),
			i == len(groups)-1 && i > 0 && len(g) != 3,
			i > 0 && i < len(groups)-1 && len(g) != 2 && len(g) != 3:
			return "", false
		}
	}
	return strings.Join(groups, ""), true
}

func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
