package menus

import (
	"context"
	"strings"
	"testing"

	"github.com/openimis/imis-gateway/menus/gsm7"
)

// withinBudget reports whether a text fits b in the encoding it goes in.
func withinBudget(s string, b Budget) bool {
	enc, n := gsm7.Measure(s)
	if enc == gsm7.GSM7 {
		return n <= b.GSM7
	}
	return n <= b.UCS2
}

// FuzzNext applies any input at every node, in every language: never a
// panic, never an error from a user's input, every screen within budget,
// the state always valid.
func FuzzNext(f *testing.F) {
	for _, s := range []string{"", "0", "00", "98", "1", "2", "3", "4", "101000001", "101203401", "999", "abc!", "١٢٣",
		"😀", "\xff", "1*2", strings.Repeat("9", 5000)} {
		f.Add(s)
	}
	e := newFullEngine(newFake(), newFakeClaims(), &fakeLanguages{}, Options{})
	f.Fuzz(func(t *testing.T, in string) {
		for _, lang := range languages {
			for name := range e.nodes {
				from := State{Node: name, Back: []string{NodeMain}, Lang: lang, ID: "101203401", Page: 1}
				st, scr, err := e.Next(context.Background(), stranger, from, in)
				if err != nil {
					t.Fatalf("%s %s %q: %v", lang, name, in, err)
				}
				if scr.Text == "" || !withinBudget(scr.Text, DefaultBudget) {
					t.Fatalf("%s %s %q: screen out of budget:\n%s", lang, name, in, scr.Text)
				}
				if _, ok := e.nodes[st.Node]; !ok || !Supported(st.Lang) {
					t.Fatalf("%s %s %q: state %+v", lang, name, in, st)
				}
			}
		}
	})
}

// FuzzSMS sends any text: never a panic or an error, a reply in a
// supported language, never empty, at most three parts.
func FuzzSMS(f *testing.F) {
	for _, s := range []string{"", "HELP", "help me", "check 101000001", "CHECK", "check 1 2", "Claims 101203401",
		"claims 101203402", "CLAIMS x!", "LANG fr", " lang\tNE ", "lang de", "RENEW 101203401 5000 R1", "😀", "\xff\xfe",
		"check\u00a0101000001", strings.Repeat("check ", 400), strings.Repeat("A", 2000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		e := newFullEngine(newFake(), newFakeClaims(), &fakeLanguages{}, Options{})
		for _, from := range []string{"+255712345678", "not a phone"} {
			r, err := e.SMS(context.Background(), from, text)
			if err != nil {
				t.Fatalf("%q: %v", text, err)
			}
			if strings.TrimSpace(r.Text) == "" || r.Parts < 1 || r.Parts > 3 || !Supported(r.Lang) {
				t.Fatalf("%q: reply %+v", text, r)
			}
			if enc, n, parts := gsm7.Parts(r.Text); enc != r.Encoding || n != r.Length || parts != r.Parts {
				t.Fatalf("%q: reply %+v, measured %v %d %d", text, r, enc, n, parts)
			}
		}
	})
}
