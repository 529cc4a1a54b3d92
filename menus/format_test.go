package menus

import (
	"testing"
	"time"
)

func TestDates(t *testing.T) {
	c, err := builtinCatalog()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang string
		y, m int
		d    int
		want string
	}{
		{"en", 2026, 12, 31, "31 Dec 2026"},
		{"en", 2026, 7, 1, "1 Jul 2026"},
		{"fr", 2026, 12, 31, "31 déc. 2026"},
		{"fr", 2026, 8, 15, "15 août 2026"},
		{"fr", 2026, 5, 1, "1 mai 2026"},
		{"sw", 2026, 12, 31, "31 Des 2026"},
		{"sw", 2026, 3, 9, "9 Mac 2026"},
		{"ne", 2026, 12, 31, "2026/12/31"},
		{"ne", 2026, 7, 1, "2026/07/01"},
		{"xx", 2026, 7, 1, "1 Jul 2026"},
	}
	for _, tt := range tests {
		if got := c.date(tt.lang, date(tt.y, time.Month(tt.m), tt.d)); got != tt.want {
			t.Errorf("%s %d-%d-%d: %q, want %q", tt.lang, tt.y, tt.m, tt.d, got, tt.want)
		}
	}
	// Every month has a name in every language.
	for _, lang := range languages {
		for m := 1; m <= 12; m++ {
			if name := c.text(lang, monthMsgs[m-1], nil); name == "" || name == string(monthMsgs[m-1]) {
				t.Errorf("%s month %d: %q", lang, m, name)
			}
		}
	}
}

func TestDatePatterns(t *testing.T) {
	d := date(2026, 3, 5)
	for pattern, want := range map[string]string{
		"d MMM y":     "5 Mar 2026",
		"dd/MM/y":     "05/03/2026",
		"y-MM-dd":     "2026-03-05",
		"d.M.yy":      "5.3.26",
		"yyyy MMM d":  "2026 Mar 5",
		"MMM d, y":    "Mar 5, 2026",
		"d. MMM y. ":  "5. Mar 2026. ",
		"सन् y MMM d": "सन् 2026 Mar 5",
	} {
		fields, err := parseDatePattern(pattern)
		if err != nil {
			t.Errorf("%q: %v", pattern, err)
			continue
		}
		f := formats{date: fields}
		c := &Catalog{formats: map[string]formats{"en": f}, localizers: mustCatalog(t).localizers}
		if got := c.date("en", d); got != want {
			t.Errorf("%q: %q, want %q", pattern, got, want)
		}
	}
	for _, bad := range []string{"", "d MMMM y", "ddd", "yyy", "d MMM y G", "EEE d"} {
		if _, err := parseDatePattern(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestAmounts(t *testing.T) {
	c := mustCatalog(t)
	tests := []struct {
		lang  string
		cents int64
		want  string
	}{
		{"en", 172500_00, "TZS 172,500"},
		{"en", 99999999_99, "TZS 99,999,999.99"},
		{"en", 0, "TZS 0"},
		{"en", 5, "TZS 0.05"},
		{"en", 1234_50, "TZS 1,234.50"},
		{"en", 999_00, "TZS 999"},
		{"en", -42000_00, "TZS -42,000"},
		{"fr", 99999999_99, "99 999 999,99 TZS"},
		{"fr", 28500_00, "28 500 TZS"},
		{"sw", 99999999_99, "TZS 99,999,999.99"},
		{"ne", 99999999_99, "TZS 9,99,99,999.99"},
		{"ne", 172500_00, "TZS 1,72,500"},
		{"ne", 1000_00, "TZS 1,000"},
		{"ne", 100_00, "TZS 100"},
		// The largest "numeric(18,2)".
		{"en", 9999999999999999_99 / 100, "TZS 99,999,999,999,999.99"},
	}
	for _, tt := range tests {
		if got := c.amount(tt.lang, tt.cents, "TZS"); got != tt.want {
			t.Errorf("%s %d: %q, want %q", tt.lang, tt.cents, got, tt.want)
		}
	}
}

func TestNumberPatterns(t *testing.T) {
	for pattern, want := range map[string][2]string{
		"#,##0.00":    {"1,234,567", "12.30"},
		"# ##0,00":    {"1 234 567", "12,30"},
		"#.##0,00":    {"1.234.567", "12,30"},
		"#,##,##0.00": {"12,34,567", "12.30"},
		"#'##0.00":    {"1'234'567", "12.30"},
		"0.00":        {"1234567", "12.30"},
	} {
		np, err := parseNumberPattern(pattern)
		if err != nil {
			t.Errorf("%q: %v", pattern, err)
			continue
		}
		if got := np.groupDigits("1234567"); got != want[0] {
			t.Errorf("%q: %q, want %q", pattern, got, want[0])
		}
		if got := "12" + np.decimal + "30"; got != want[1] {
			t.Errorf("%q: decimals %q, want %q", pattern, got, want[1])
		}
	}
	for _, bad := range []string{"", "#,##0", "#,##0.0", "#,##0.000", "##0#00", "#,##.##0.00", "#.##0.00", "., .00", "#,,##0.00"} {
		if _, err := parseNumberPattern(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestDevanagariDigits(t *testing.T) {
	f := formats{devanagari: true}
	if got := f.digits("2026/12/31 1,72,500.05"); got != "२०२६/१२/३१ १,७२,५००.०५" {
		t.Errorf("%q", got)
	}
	if got := (formats{}).digits("2026"); got != "2026" {
		t.Errorf("latn: %q", got)
	}
}

func mustCatalog(t *testing.T) *Catalog {
	t.Helper()
	c, err := builtinCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
