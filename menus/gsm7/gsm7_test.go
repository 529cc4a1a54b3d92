package gsm7

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// The default alphabet (3GPP TS 23.038 §6.2.1) in code order, without the
// escape code 0x1B, and the extension table.
const (
	defaultAlphabet = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	extensionTable = "\f^{}\\[~]|€"
)

func TestAlphabet(t *testing.T) {
	if n := utf8.RuneCountInString(defaultAlphabet); n != 127 {
		t.Fatalf("test table has %d characters, want 127", n)
	}
	for _, r := range defaultAlphabet {
		if got := Septets(r); got != 1 {
			t.Errorf("Septets(%q) = %d, want 1", r, got)
		}
	}
	for _, r := range extensionTable {
		if got := Septets(r); got != 2 {
			t.Errorf("Septets(%q) = %d, want 2", r, got)
		}
	}
	// Every other character below U+0400, and a few beyond, has no code.
	in := defaultAlphabet + extensionTable
	for r := rune(0); r < 0x400; r++ {
		if !strings.ContainsRune(in, r) && Septets(r) != 0 {
			t.Errorf("Septets(%q) = %d, want 0", r, Septets(r))
		}
	}
	for _, r := range "`çâêîôûëïœÀÈÊ…’“–\u00a0\tनं😀" {
		if got := Septets(r); got != 0 {
			t.Errorf("Septets(%q) = %d, want 0", r, got)
		}
	}
}

func TestMeasure(t *testing.T) {
	tests := []struct {
		s    string
		enc  Encoding
		want int
	}{
		{"", GSM7, 0},
		{"Check membership", GSM7, 16},
		{"0 Back 00 Menu\n98 More", GSM7, 22},
		{defaultAlphabet, GSM7, 127},
		{"{}", GSM7, 4},
		{"€100", GSM7, 5},
		{extensionTable, GSM7, 20},
		{"a[b]c", GSM7, 7},
		{"Numéro d'assuré : à payer", GSM7, 25}, // é and à are in the default alphabet
		{"Reçu", UCS2, 4},                       // lower-case ç is not
		{"fenêtre", UCS2, 7},
		{"`", UCS2, 1},
		{"{ç}", UCS2, 3}, // in UCS-2 an extension character is one unit like any other
		// Devanagari: every vowel sign, virama and nukta is a unit of its own.
		{"नमस्ते", UCS2, 6},
		{"नेपाली", UCS2, 6},
		{"स्वास्थ्य बीमा", UCS2, 14},
		{"क़", UCS2, 2}, // KA + NUKTA
		// Outside the BMP: a surrogate pair, two units.
		{"😀", UCS2, 2},
		{"a😀b", UCS2, 4},
		{"👍🏽", UCS2, 4},
		{"\xff", UCS2, 1}, // invalid UTF-8 decodes as U+FFFD
	}
	for _, tt := range tests {
		enc, n := Measure(tt.s)
		if enc != tt.enc || n != tt.want {
			t.Errorf("Measure(%q) = %v %d, want %v %d", tt.s, enc, n, tt.enc, tt.want)
		}
		if _, ok := Count(tt.s); ok != (tt.enc == GSM7) {
			t.Errorf("Count(%q) says GSM-7 %v", tt.s, ok)
		}
	}
	if GSM7.String() != "GSM-7" || UCS2.String() != "UCS-2" {
		t.Errorf("names %q %q", GSM7, UCS2)
	}
}

func TestUnits(t *testing.T) {
	for s, want := range map[string]int{"": 0, "abc": 3, "नमस्ते": 6, "😀": 2, "€": 1, "é😀न": 4} {
		if got := Units(s); got != want {
			t.Errorf("Units(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestParts(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	na := func(n int) string { return strings.Repeat("न", n) }
	tests := []struct {
		name   string
		s      string
		enc    Encoding
		length int
		parts  int
	}{
		{"empty", "", GSM7, 0, 1},
		{"160 septets", a(160), GSM7, 160, 1},
		{"161 septets", a(161), GSM7, 161, 2},
		{"158 + one extension character = 160", a(158) + "€", GSM7, 160, 1},
		{"159 + one extension character = 161", a(159) + "€", GSM7, 161, 2},
		{"two full parts", a(306), GSM7, 306, 2},
		{"just over two parts", a(307), GSM7, 307, 3},
		{"escape pair moved to the next part", a(152) + "{" + a(10), GSM7, 164, 2},
		// 306 septets would be two parts, but the pair cannot straddle them.
		{"escape pair at a boundary adds a part", a(152) + "{" + a(152), GSM7, 306, 3},
		{"70 units", na(70), UCS2, 70, 1},
		{"71 units", na(71), UCS2, 71, 2},
		{"two full UCS-2 parts", na(134), UCS2, 134, 2},
		{"just over two UCS-2 parts", na(135), UCS2, 135, 3},
		{"one ç makes 160 Latin letters UCS-2", a(159) + "ç", UCS2, 160, 3},
		{"surrogate pair at a boundary adds a part", na(66) + "😀" + na(66), UCS2, 134, 3},
	}
	for _, tt := range tests {
		enc, n, parts := Parts(tt.s)
		if enc != tt.enc || n != tt.length || parts != tt.parts {
			t.Errorf("%s: Parts = %v %d %d, want %v %d %d", tt.name, enc, n, parts, tt.enc, tt.length, tt.parts)
		}
	}
}

func TestSubstitute(t *testing.T) {
	tests := []struct {
		in      string
		accents bool
		want    string
	}{
		{"plain ASCII\nline", true, "plain ASCII\nline"},
		{"‘quoted’ “words” – dash — dash…", false, `'quoted' "words" - dash - dash...`},
		{"a\u00a0b\u202fc\td", false, "a b c d"},
		{"fenêtre, reçu, août, Noël, cœur, N° 5", false, "fenêtre, reçu, août, Noël, cœur, N° 5"},
		{"fenêtre, reçu, août, Noël, cœur, N° 5", true, "fenetre, recu, aout, Noel, coeur, No 5"},
		{"ÎLE ÊTRE À Ça", true, "ILE ETRE A Ça"}, // Ç is in GSM-7
		// Letters GSM-7 has are kept as they are.
		{"été, où, à, É, Ç, ñ, ü", true, "été, où, à, É, Ç, ñ, ü"},
		{"Asha 😀 Juma", true, "Asha  Juma"},
		{"नेपाली", true, "नेपाली"},
		{"« Bonjour »", false, `" Bonjour "`},
	}
	for _, tt := range tests {
		if got := Substitute(tt.in, tt.accents); got != tt.want {
			t.Errorf("Substitute(%q, %v) = %q, want %q", tt.in, tt.accents, got, tt.want)
		}
	}
	// French text becomes GSM-7 once transliterated.
	fr := "Vérifiée, approuvé : 28 500 TZS. Reçue le 1 août. Fenêtre, île, hôpital, sûr, Noël, maïs."
	_, before := Count(fr)
	_, after := Count(Substitute(fr, true))
	if before || !after {
		t.Errorf("French sample: GSM-7 before %v, after %v (%q)", before, after, Substitute(fr, true))
	}
}

func TestStripAstral(t *testing.T) {
	for in, want := range map[string]string{"abc": "abc", "a😀b": "ab", "नमस्ते🙏": "नमस्ते", "😀": ""} {
		if got := StripAstral(in); got != want {
			t.Errorf("StripAstral(%q) = %q, want %q", in, got, want)
		}
	}
}

func BenchmarkMeasure(b *testing.B) {
	for name, s := range map[string]string{
		"en": "Latest 5 claims:\nMKH00342 10 Jun 2026\nMakole Health Centre\nReceived\n98 More 0 Back 00 Menu",
		"ne": "पछिल्ला 5 दाबी:\nMKH00342 2026/06/10\nMakole Health Centre\nप्राप्त\n98 थप 0 पछाडि 00 मेनु",
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				Measure(s)
			}
		})
	}
}

func TestSubstitutedGSM7(t *testing.T) {
	for _, tt := range []struct {
		s       string
		accents bool
		want    bool
	}{
		{"plain", false, true},
		{"’quoted’…", false, true},
		{"Reçue", false, false},
		{"Reçue", true, true},
		{"Asha 😀", false, true},
		{"नेपाली", true, false},
		{"N° 5", true, true},
	} {
		if _, got := SubstitutedCount(tt.s, tt.accents); got != tt.want {
			t.Errorf("SubstitutedCount(%q, %v) says GSM-7 %v", tt.s, tt.accents, got)
		}
		if _, got := Count(Substitute(tt.s, tt.accents)); got != tt.want {
			t.Errorf("Count(Substitute(%q, %v)) says GSM-7 %v, want %v", tt.s, tt.accents, got, tt.want)
		}
	}
}

func TestCountsWithoutBuilding(t *testing.T) {
	for _, s := range []string{
		"", "plain", "’quoted’ “words” – dash…", "Reçue fenêtre cœur N° 5", "Asha 😀 Juma",
		"नेपाली 🙏", "a\u00a0b\tc\u200bd", "{ç}€", "\xff", "`", "ÎLE ÊTRE À Ça",
	} {
		for _, accents := range []bool{false, true} {
			wantN, wantOK := Count(Substitute(s, accents))
			if n, ok := SubstitutedCount(s, accents); n != wantN || ok != wantOK {
				t.Errorf("SubstitutedCount(%q, %v) = %d %v, want %d %v", s, accents, n, ok, wantN, wantOK)
			}
		}
		if got, want := StrippedUnits(s), Units(StripAstral(s)); got != want {
			t.Errorf("StrippedUnits(%q) = %d, want %d", s, got, want)
		}
	}
}
