package menus

import (
	"fmt"
	"strings"
	"testing"

	"github.com/openimis/imis-gateway/menus/gsm7"
	"github.com/openimis/imis-gateway/openimis"
)

// TestReminderSMS: the family's reminder names the product, the last day
// and the amount due in every language, in one part in the GSM-7 ones
// (at most two in Nepali), with the largest amounts.
func TestReminderSMS(t *testing.T) {
	e := newTestEngine(newFake())
	for _, lang := range languages {
		for _, value := range []openimis.Money{37_000_00, 99_999_999_99} {
			q := openimis.RenewalQuote{ProductCode: "FAM01-PLUS", PreviousExpiry: date(2026, 9, 30), Value: value}
			text := e.ReminderSMS(lang, q)
			c := e.newCall(t.Context(), Caller{}, lang)
			enc, n, parts := gsm7.Parts(text)
			if lang != "ne" && (parts != 1 || enc != gsm7.GSM7) || parts > 2 {
				t.Errorf("%s: %v, %d characters, %d parts:\n%s", lang, enc, n, parts, text)
			}
			for _, want := range []string{"FAM01-PLUS", c.date(q.PreviousExpiry), c.money(value)} {
				if !strings.Contains(text, gsm7.Substitute(want, lang == "fr")) {
					t.Errorf("%s: %q missing from\n%s", lang, want, text)
				}
			}
			t.Logf("%s, %v, %d characters: %s", lang, enc, n, text)
		}
	}
}

// TestDueSMS: an officer's list of families due holds one part, its
// families expiry first, then how many more there are.
func TestDueSMS(t *testing.T) {
	e := newTestEngine(newFake())
	until := date(2026, 3, 24)
	family := func(i int) openimis.PolicyDue {
		return openimis.PolicyDue{HeadCHFID: fmt.Sprintf("10120%04d", i), ProductCode: "FAM01", Expiry: date(2026, 3, 10+i%14)}
	}
	tests := []struct {
		lang     string
		families int
		want     string // exactly, when set
		listed   int
	}{
		{"en", 0, "No family of your area is due for renewal by 24 Mar 2026.", 0},
		{"en", 1, "1 family due for renewal by 24 Mar 2026:\n101200000 FAM01 10 Mar 2026", 1},
		{"en", 3, "3 families due for renewal by 24 Mar 2026:\n101200000 FAM01 10 Mar 2026\n101200001 FAM01 11 Mar 2026\n101200002 FAM01 12 Mar 2026", 3},
		{"en", 40, "", 3},
		{"fr", 40, "", 3},
		{"sw", 40, "", 3},
		{"ne", 40, "", 1},
	}
	for _, tt := range tests {
		due := make([]openimis.PolicyDue, tt.families)
		for i := range due {
			due[i] = family(i)
		}
		text := e.DueSMS(tt.lang, due, until)
		_, n, parts := gsm7.Parts(text)
		listed := strings.Count(text, "FAM01")
		if parts != 1 || tt.want != "" && text != tt.want || listed != tt.listed {
			t.Errorf("%s, %d families: %d characters, %d parts, %d listed (want %d):\n%s", tt.lang, tt.families, n, parts, listed, tt.listed, text)
		}
		if more := fmt.Sprintf("+%d ", tt.families-listed); tt.families > listed && !strings.Contains(text, more) {
			t.Errorf("%s: %q missing from\n%s", tt.lang, more, text)
		}
	}
}
