package openimis

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Money is an amount of the scheme's currency in hundredths (cents), exact:
// openIMIS keeps every amount in numeric(18,2), whose largest value,
// 9999999999999999.99, fits an int64 of cents. Money reads and writes
// PostgreSQL numeric directly, through database/sql's Scanner and Valuer,
// which pgx honours before it would read a numeric into the bare int64.
type Money int64

// MaxMoney is the largest numeric(18,2).
const MaxMoney Money = 999_999_999_999_999_999

// ErrMoneyRange: an amount beyond numeric(18,2), or with more than two decimals.
var ErrMoneyRange = errors.New("amount out of range for numeric(18,2)")

// maxWholeDigits is the most digits before the point in numeric(18,2).
const maxWholeDigits = 16

// ParseMoney reads what an officer types: digits, with at most two decimals
// after a point ("37000", "37000.5", "37000.50"). No sign, no thousands
// separators (a comma is a decimal mark in some locales and a thousands mark
// in others; the menus decide), nothing else.
func ParseMoney(s string) (Money, error) {
	s = strings.TrimSpace(s)
	whole, frac, hasPoint := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || (hasPoint && frac == "") || !allDigits(whole) || !allDigits(frac) {
		return 0, fmt.Errorf("amount %q: want digits with at most two decimals", s)
	}
	m, ok := fromDigits(whole, frac)
	if !ok {
		return 0, fmt.Errorf("amount %q: %w", s, ErrMoneyRange)
	}
	return m, nil
}

// fromDigits is the amount whole.frac, both plain digits and frac at most
// two of them; false beyond numeric(18,2).
func fromDigits(whole, frac string) (Money, bool) {
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > maxWholeDigits {
		return 0, false
	}
	var m int64
	if whole != "" {
		m, _ = strconv.ParseInt(whole, 10, 64) // ≤ 16 digits: no overflow
	}
	m *= 100
	switch len(frac) {
	case 1:
		m += int64(frac[0]-'0') * 10
	case 2:
		m += int64(frac[0]-'0')*10 + int64(frac[1]-'0')
	}
	return Money(m), true
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// String is the numeric text with two decimals: "37000.00", "-0.50".
func (m Money) String() string {
	sign, v := "", int64(m)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// Format is for people: thousands grouped, decimals only when there are
// cents: "37,000", "1,250.50".
func (m Money) Format() string {
	sign, v := "", int64(m)
	if v < 0 {
		sign, v = "-", -v
	}
	whole := strconv.FormatInt(v/100, 10)
	var b strings.Builder
	b.WriteString(sign)
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if c := v % 100; c != 0 {
		fmt.Fprintf(&b, ".%02d", c)
	}
	return b.String()
}

// Value writes m as the numeric text String gives (driver.Valuer).
func (m Money) Value() (driver.Value, error) { return m.String(), nil }

// Scan reads a numeric as its text (sql.Scanner); NULL reads as 0 (the
// openIMIS amounts that may be NULL, premiums and fees of a product, mean
// "none" when NULL). More than two decimals other than zeros, NaN,
// infinities or a value beyond numeric(18,2) are errors, never silently
// rounded.
func (m *Money) Scan(src any) error {
	var text string
	switch v := src.(type) {
	case nil:
		*m = 0
		return nil
	case string:
		text = v
	case []byte:
		text = string(v)
	case int64:
		text = strconv.FormatInt(v, 10)
	default:
		return fmt.Errorf("read amount: cannot read %T", src)
	}
	v, ok := parseNumeric(text)
	if !ok {
		return fmt.Errorf("read amount %s: %w", text, ErrMoneyRange)
	}
	*m = v
	return nil
}

// parseNumeric reads PostgreSQL's text of a numeric ("-1250.50", "1000",
// "12.300") when it is a whole number of cents within numeric(18,2).
func parseNumeric(s string) (Money, bool) {
	neg := strings.HasPrefix(s, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if frac = strings.TrimRight(frac, "0"); whole == "" || len(frac) > 2 || !allDigits(whole) || !allDigits(frac) {
		return 0, false
	}
	m, ok := fromDigits(whole, frac)
	if neg {
		m = -m
	}
	return m, ok
}
