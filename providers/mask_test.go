package providers

import (
	"strings"
	"testing"
	"unicode"
)

// Whatever the format or provider, at most the last three characters show.
func TestMaskPhone(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"+255712345678", "+*********678"}, // E.164 (AT, Twilio)
		{"255712345678", "*********678"},   // international without '+' as some wires send it
		{"0712111222", "*******222"},       // national format
		{"233246912184", "*********184"},   // Hubtel, Nalo, Arkesel, Infobip, Beem
		{"0712 345 678", "*********678"},   // as typed into openIMIS
		{"+1", "***"},
		{"+123", "***"},
		{"1234", "*234"},
		{"123", "***"},
		{"", "***"},
		{"MPESA", "**ESA"},         // alphanumeric sender
		{"15000", "**000"},         // short code
		{"Daktari€", "*****ri€"},   // characters, not bytes
		{"+ 255 712", "+*****712"}, // a '+' is kept, whatever follows
	} {
		if got := MaskPhone(tc.in); got != tc.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if shown := strings.TrimLeft(strings.TrimPrefix(MaskPhone(tc.in), "+"), "*"); len([]rune(shown)) > 3 {
			t.Errorf("MaskPhone(%q) shows %q", tc.in, shown)
		}
	}
}

func TestMaskPhones(t *testing.T) {
	for in, want := range map[string]string{
		"The 'To' number +255712345678 is not valid.": "The 'To' number +*********678 is not valid.",
		"To number: 255712345678, is not a mobile":    "To number: *********678, is not a mobile",
		"national 0712111222.":                        "national *******222.",
		"error 21211 at 2026-03-01":                   "error 21211 at 2026-03-01",
		"short +1234567 and 12345678":                 "short +****567 and *****678",
		"six 123456 stay":                             "six 123456 stay",
		"+ then text, and a lone +":                   "+ then text, and a lone +",
		"":                                            "",
	} {
		if got := MaskPhones(in); got != want {
			t.Errorf("MaskPhones(%q) = %q, want %q", in, got, want)
		}
	}
}

// No run of digits that MaskPhones leaves is long enough to be a number, and
// nothing but digits changes.
func FuzzMaskPhones(f *testing.F) {
	f.Add("The 'To' number +255712345678 is not valid.")
	f.Add("++0712111222+255")
	f.Fuzz(func(t *testing.T, s string) {
		got := MaskPhones(s)
		if len(got) != len(s) {
			t.Fatalf("MaskPhones(%q) = %q: length changed", s, got)
		}
		for _, run := range strings.FieldsFunc(got, func(r rune) bool { return !unicode.IsDigit(r) || r > unicode.MaxASCII }) {
			if len(run) >= minPhoneDigits {
				t.Fatalf("MaskPhones(%q) = %q leaves %q", s, got, run)
			}
		}
	})
}
