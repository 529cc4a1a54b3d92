package menus

import (
	"strings"
	"testing"

	"github.com/openimis/imis-gateway/menus/gsm7"
)

func TestFitterEncode(t *testing.T) {
	plain := fitter{budget: DefaultBudget}
	french := fitter{budget: DefaultBudget, transliterate: true}
	tests := []struct {
		f      fitter
		in     string
		out    string
		enc    gsm7.Encoding
		length int
	}{
		{plain, "Check membership", "Check membership", gsm7.GSM7, 16},
		{plain, "Dodoma Regional…", "Dodoma Regional...", gsm7.GSM7, 18},
		{plain, "O’Neil – “Mary”", `O'Neil - "Mary"`, gsm7.GSM7, 15},
		{plain, "Reçue", "Reçue", gsm7.UCS2, 5},
		{french, "Reçue, août", "Recue, aout", gsm7.GSM7, 11},
		{french, "Vérifiée", "Vérifiée", gsm7.GSM7, 8},
		// Transliteration only where it makes the text GSM-7: beside
		// Devanagari the accents, and the ellipsis, stay.
		{french, "Français\nनेपाली…", "Français\nनेपाली…", gsm7.UCS2, 16},
		{plain, "Asha 😀", "Asha ", gsm7.GSM7, 5},
		{plain, "राम 😀", "राम ", gsm7.UCS2, 4},
		{plain, "{a}", "{a}", gsm7.GSM7, 5},
	}
	for _, tt := range tests {
		out, enc, n := tt.f.encode(tt.in)
		if out != tt.out || enc != tt.enc || n != tt.length {
			t.Errorf("encode(%q) = %q %v %d, want %q %v %d", tt.in, out, enc, n, tt.out, tt.enc, tt.length)
		}
	}
}

func TestFitterMeasureAgreesWithEncode(t *testing.T) {
	for _, f := range []fitter{{budget: DefaultBudget}, {budget: DefaultBudget, transliterate: true}} {
		for _, s := range []string{
			"Check membership", "Dodoma Regional…", "O’Neil – “Mary”", "Reçue, août", "Vérifiée",
			"Français\nनेपाली…", "Asha 😀", "राम 😀", "{a}", "", "\xff", "a\tb\u200bc",
		} {
			_, wantEnc, wantN := f.encode(s)
			if enc, n := f.measure(s); enc != wantEnc || n != wantN {
				t.Errorf("measure(%q), transliterate %v = %v %d, want %v %d", s, f.transliterate, enc, n, wantEnc, wantN)
			}
		}
	}
}

func TestFitterFits(t *testing.T) {
	f := fitter{budget: Budget{GSM7: 10, UCS2: 4}}
	for s, want := range map[string]bool{
		"0123456789":  true,
		"01234567890": false,
		"012345678€":  false, // € takes two septets
		"01234567€":   true,
		"नमस्":        true,
		"नमस्ते":      false,
		"abç":         true, // three UCS-2 units
		"abcç":        true,
		"abcdç":       false,
	} {
		if got := f.fits(s); got != want {
			t.Errorf("fits(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestShrink(t *testing.T) {
	f := fitter{budget: Budget{GSM7: 20, UCS2: 8}}
	tests := []struct {
		s, before, after string
		want             string
	}{
		{"short", "", "", "short"},
		{"Dodoma Regional Referral Hospital", "", "", "Dodoma Regional …"}, // "..." on the phone: 20 septets
		{"Dodoma Regional Referral Hospital", "x\n", "\ny", "Dodoma …"},
		{"Ndugu mwanachama wa CHF", "", "", "Ndugu mwanachama …"},
		{strings.Repeat("A", 50), "", "", strings.Repeat("A", 17) + "…"},
		// Never inside a conjunct or between a letter and its vowel sign:
		// "स्वास्थ" would fit, but its थ has lost its virama.
		{"स्वास्थ्य बीमा", "", "", "स्वा…"},
		{"नमस्ते", "", "", "नमस्ते"},
		{"नमस्ते नमस्ते", "", "", "नमस्ते …"},
		{"anything", strings.Repeat("x", 20), "", "…"},
	}
	for _, tt := range tests {
		got := f.shrink(tt.s, tt.before, tt.after)
		if got != tt.want {
			t.Errorf("shrink(%q, %q, %q) = %q, want %q", tt.s, tt.before, tt.after, got, tt.want)
		}
		if got != ellipsis && !f.fits(tt.before+got+tt.after) {
			t.Errorf("shrink(%q) = %q does not fit", tt.s, got)
		}
	}
}

func TestScreenLayout(t *testing.T) {
	v := view{title: "Title", body: "1. One\n2. Two", nav: "0 Back 00 Menu"}
	tests := []struct {
		name   string
		budget int
		notice string
		want   string
	}{
		{"everything", 160, "Oops.", "Oops.\nTitle\n1. One\n2. Two\n0 Back 00 Menu"},
		{"title dropped first", 39, "Oops.", "Oops.\n1. One\n2. Two\n0 Back 00 Menu"},
		{"then the navigation line dropped, never cut", 33, "Oops.", "Oops.\n1. One\n2. Two"},
		{"then the notice shortened", 25, "Oops, no such item.", "Oops, no…\n1. One\n2. Two"},
		{"no notice", 27, "", "1. One\n2. Two"},
	}
	for _, tt := range tests {
		f := fitter{budget: Budget{GSM7: tt.budget, UCS2: tt.budget}}
		if got := f.screen(tt.notice, v); got != tt.want {
			t.Errorf("%s: screen =\n%q\nwant\n%q", tt.name, got, tt.want)
		}
	}
}

func TestOutGuards(t *testing.T) {
	f := fitter{budget: Budget{GSM7: 20, UCS2: 10}}
	if got := f.out(strings.Repeat("word ", 10)); got != "word word word ..." {
		t.Errorf("GSM-7: %q", got)
	}
	if got := f.out(strings.Repeat("नमस्ते ", 3)); got != "नमस्ते …" {
		t.Errorf("UCS-2: %q", got)
	}
}

func TestFitLines(t *testing.T) {
	line := func(int) string { return strings.Repeat("x", 30) }
	more := func(n int) string { return "+" + string(rune('0'+n)) + " more" }
	tests := []struct {
		head   string
		n      int
		budget int
		want   string
	}{
		{"H", 2, 160, "H\n" + strings.Repeat("x", 30) + "\n" + strings.Repeat("x", 30)},
		{"H", 5, 70, "H\n" + strings.Repeat("x", 30) + "\n+4 more"},
		{"H", 5, 80, "H\n" + strings.Repeat("x", 30) + "\n" + strings.Repeat("x", 30) + "\n+3 more"},
		{"H", 2, 63, "H\n" + strings.Repeat("x", 30) + "\n" + strings.Repeat("x", 30)},
		// The first line is shortened rather than dropped...
		{"H", 1, 20, "H\n" + strings.Repeat("x", 15) + "..."},
		{"H", 3, 30, "H\n" + strings.Repeat("x", 17) + "...\n+2 more"},
		// ...unless too little of it would be left.
		{"H", 3, 16, "H\n+3 more"},
		{"", 2, 40, strings.Repeat("x", 30) + "\n+1 more"},
	}
	for _, tt := range tests {
		f := fitter{budget: Budget{GSM7: tt.budget, UCS2: tt.budget}}
		got := f.out(f.fitLines(tt.head, tt.n, line, more))
		if got != tt.want {
			t.Errorf("fitLines(%q, %d, budget %d) =\n%q\nwant\n%q", tt.head, tt.n, tt.budget, got, tt.want)
		}
		if _, n := gsm7.Measure(got); n > tt.budget {
			t.Errorf("%d septets, over budget %d", n, tt.budget)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		s    string
		max  int
		want string
	}{
		{"Basic Cover", 20, "Basic Cover"},
		{"Basic Cover", 11, "Basic Cover"},
		{"Basic Cover", 10, "Basic …"},
		{"Community Health Fund", 12, "Community …"},
		{strings.Repeat("A", 50), 20, strings.Repeat("A", 19) + "…"},
		{"Ñúñez Ñúñez", 8, "Ñúñez …"},
		{"नमस्ते दुनिया", 8, "नमस्ते …"},
		{"abcdef", 3, "ab…"},
		{"abcdef", 1, "…"},
		{"abcdef", 0, ""},
	}
	for _, tt := range tests {
		got := truncate(tt.s, tt.max)
		if got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.s, tt.max, got, tt.want)
		}
		if runeLen(got) > tt.max {
			t.Errorf("truncate(%q, %d) = %q is too long", tt.s, tt.max, got)
		}
	}
}

func TestBudgetDefaults(t *testing.T) {
	for b, want := range map[Budget]Budget{
		{}:                    DefaultBudget,
		{GSM7: 120}:           DefaultBudget,
		{GSM7: 120, UCS2: 60}: {GSM7: 120, UCS2: 60},
		{GSM7: -1, UCS2: 60}:  DefaultBudget,
		{GSM7: 182, UCS2: 80}: {GSM7: 182, UCS2: 80},
	} {
		if got := b.orDefault(DefaultBudget); got != want {
			t.Errorf("%+v.orDefault = %+v, want %+v", b, got, want)
		}
	}
}
