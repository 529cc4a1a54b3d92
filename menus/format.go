package menus

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Dates and amounts are formatted by patterns from the catalogs
// (format.date, format.number, format.digits), so an implementer changes
// them without rebuilding. The built-in choices:
//
//	en  31 Dec 2026   TZS 99,999,999.99
//	fr  31 déc. 2026  99 999 999,99 TZS   (plain spaces: the narrow no-break
//	                                       space CLDR uses is not GSM-7)
//	sw  31 Des 2026   TZS 99,999,999.99
//	ne  2026/12/31    TZS 9,99,99,999.99  (year first, as dates are written in
//	                                       Nepal; South Asian grouping)
//
// Nepali keeps Latin digits by default: insurance numbers, claim codes and
// the keys to press are in Latin digits, and one screen should not mix two
// digit systems. format.digits "deva" switches dates and amounts to
// Devanagari digits (same length in UCS-2).

const (
	digitsLatin      = "latn"
	digitsDevanagari = "deva"
)

var errEmptyPattern = errors.New("empty pattern")

// formats are one language's parsed patterns.
type formats struct {
	date       []dateField
	number     numberPattern
	devanagari bool
}

func (c *Catalog) parseFormats(lang string) (formats, error) {
	var (
		f   formats
		err error
	)
	if f.date, err = parseDatePattern(c.text(lang, msgFormatDate, nil)); err != nil {
		return f, fmt.Errorf("%s: %w", msgFormatDate, err)
	}
	if f.number, err = parseNumberPattern(c.text(lang, msgFormatNumber, nil)); err != nil {
		return f, fmt.Errorf("%s: %w", msgFormatNumber, err)
	}
	f.devanagari = c.text(lang, msgFormatDigits, nil) == digitsDevanagari
	return f, nil
}

// dateField is one field of a date pattern ('d', 'M' or 'y' repeated
// width times), or literal text (letter 0).
type dateField struct {
	letter  byte
	width   int
	literal string
}

// parseDatePattern reads a pattern of d, dd, M, MM, MMM, y and yy (as in
// CLDR); any other letter is an error, anything else is copied.
func parseDatePattern(p string) ([]dateField, error) {
	if p == "" {
		return nil, errEmptyPattern
	}
	var fields []dateField
	for i := 0; i < len(p); {
		c := p[i]
		j := i + 1
		switch {
		case c == 'd' || c == 'M' || c == 'y':
			for j < len(p) && p[j] == c {
				j++
			}
			w := j - i
			if (c == 'd' && w > 2) || (c == 'M' && w > 3) || (c == 'y' && w != 1 && w != 2 && w != 4) {
				return nil, fmt.Errorf("%q: unknown field", p[i:j])
			}
			fields = append(fields, dateField{letter: c, width: w})
		case c < 0x80 && unicode.IsLetter(rune(c)):
			return nil, fmt.Errorf("%q: unknown field (only d, M and y)", string(c))
		default:
			for j < len(p) && !strings.ContainsRune("dMy", rune(p[j])) && !(p[j] < 0x80 && unicode.IsLetter(rune(p[j]))) {
				j++
			}
			fields = append(fields, dateField{literal: p[i:j]})
		}
		i = j
	}
	return fields, nil
}

// date writes a calendar date in lang. Dates from PostgreSQL "date" columns
// are midnight UTC; their fields are used as they are, never converted to
// another zone (which could move them a day).
func (c *Catalog) date(lang string, d time.Time) string {
	f := c.formatsOf(lang)
	y, m, day := d.Date()
	var b strings.Builder
	for _, fd := range f.date {
		switch {
		case fd.letter == 'd':
			b.WriteString(pad(day, fd.width))
		case fd.letter == 'M' && fd.width == 3:
			b.WriteString(c.text(lang, monthMsgs[m-1], nil))
		case fd.letter == 'M':
			b.WriteString(pad(int(m), fd.width))
		case fd.letter == 'y' && fd.width == 2:
			b.WriteString(pad(y%100, 2))
		case fd.letter == 'y':
			b.WriteString(strconv.Itoa(y))
		default:
			b.WriteString(fd.literal)
		}
	}
	return f.digits(b.String())
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}

// numberPattern is a parsed format.number.
type numberPattern struct {
	group            string // grouping separator; "" for none
	primary, further int    // digits in the lowest group, and in each one above it
	decimal          string // decimal separator
}

// parseNumberPattern reads "#,##0.00" (the grouping separator between the
// # groups, then the decimal separator and two zeros for the cents). A
// second separator sets a different size for the higher groups, as in
// "#,##,##0.00" (1,00,000).
func parseNumberPattern(p string) (numberPattern, error) {
	var np numberPattern
	if !strings.HasSuffix(p, "00") || len(p) < 4 {
		return np, errors.New("want an integer part, a decimal separator and 00, as in #,##0.00")
	}
	intPart, sep := p[:len(p)-3], p[len(p)-3:len(p)-2]
	if strings.ContainsAny(sep, "#0") {
		return np, errors.New("no decimal separator before 00")
	}
	np.decimal = sep
	var sizes []int
	n := 0
	for _, r := range intPart {
		switch {
		case r == '#' || r == '0':
			n++
		case np.group == "" || np.group == string(r):
			np.group = string(r)
			sizes = append(sizes, n)
			n = 0
		default:
			return np, fmt.Errorf("two different grouping separators %q and %q", np.group, string(r))
		}
	}
	if n == 0 {
		return np, errors.New("no digit before the decimal separator")
	}
	if np.group == sep {
		return np, errors.New("the same separator for groups and decimals")
	}
	np.primary, np.further = n, n
	if len(sizes) >= 2 {
		np.further = sizes[len(sizes)-1]
	}
	if np.group != "" && np.further == 0 {
		return np, errors.New("empty digit group")
	}
	return np, nil
}

// amount writes an amount of money (in cents) with its currency. The cents
// are shown only when there are some: scheme amounts are mostly whole.
func (c *Catalog) amount(lang string, cents int64, currency string) string {
	f := c.formatsOf(lang)
	neg := cents < 0
	u := uint64(cents)
	if neg {
		u = -u
	}
	whole, frac := strconv.FormatUint(u/100, 10), u%100
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteString(f.number.groupDigits(whole))
	if frac != 0 {
		b.WriteString(f.number.decimal)
		b.WriteString(pad(int(frac), 2))
	}
	return c.text(lang, msgFormatAmount, vars{"Number": f.digits(b.String()), "Currency": currency})
}

// groupDigits inserts the grouping separator into a run of digits.
func (np numberPattern) groupDigits(digits string) string {
	if np.group == "" || len(digits) <= np.primary {
		return digits
	}
	head, tail := digits[:len(digits)-np.primary], digits[len(digits)-np.primary:]
	var groups []string
	for len(head) > np.further {
		groups = append(groups, head[len(head)-np.further:])
		head = head[:len(head)-np.further]
	}
	var b strings.Builder
	b.WriteString(head)
	for i := len(groups) - 1; i >= 0; i-- {
		b.WriteString(np.group)
		b.WriteString(groups[i])
	}
	b.WriteString(np.group)
	b.WriteString(tail)
	return b.String()
}

// digits turns the Latin digits of a formatted date or amount into the
// language's digits.
func (f formats) digits(s string) string {
	if !f.devanagari {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return '०' + (r - '0')
		}
		return r
	}, s)
}

func (c *Catalog) formatsOf(lang string) formats {
	if f, ok := c.formats[lang]; ok {
		return f
	}
	return c.formats["en"]
}
