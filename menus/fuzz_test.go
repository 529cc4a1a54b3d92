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
	e, _, _ := newRenewEngine(Options{})
	renewal := Renewal{CHFID: "604120019", Product: "FAM01", Due: 37000_00, Receipt: "R1", Amount: 20000_00}
	f.Fuzz(func(t *testing.T, in string) {
		for _, lang := range languages {
			for name := range e.nodes {
				for _, c := range []Caller{stranger, officer} {
					from := State{Node: name, Back: []string{NodeMain}, Lang: lang, ID: "101203401", Page: 1, Renew: renewal}
					st, scr, err := e.Next(context.Background(), c, from, in)
					if err != nil {
						t.Fatalf("%s %s %q: %v", lang, name, in, err)
					}
					if scr.Text == "" || !withinBudget(scr.Text, DefaultBudget) {
						t.Fatalf("%s %s %q: screen out of budget:\n%s", lang, name, in, scr.Text)
					}
					if _, ok := e.nodes[st.Node]; !ok || !Supported(st.Lang) {
						t.Fatalf("%s %s %q: state %+v", lang, name, in, st)
					}
					if c == stranger && st.Renew != (Renewal{}) && st.Node != name {
						t.Fatalf("%s %s %q: a stranger moved a renewal on: %+v", lang, name, in, st)
					}
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
		"check\u00a0101000001", strings.Repeat("check ", 400), strings.Repeat("A", 2000),
		"RENEW 604120019 37000 QFC9M3NX5T", "renew 20461301 20,000.50 B-1 FAM01", "RENEW 604120019 QFC9M3NX5T 37000",
		"RENEW 604120019 -1 R", "RENEW 604120019 1.234 R/1 x", "RENEW 999 1 R", "RENEW", "RENEW 1 2 3 4 5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		e, _, renewals := newRenewEngine(Options{})
		for _, from := range []string{"+255712345678", "not a phone", officer.Phone} {
			r, err := e.SMS(context.Background(), SMSRequest{From: from, Text: text, Key: "africastalking:ATXid_f"})
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
		// Whatever the text, one key writes at most one renewal, and only
		// for the officer.
		if n := renewals.writes(); n > 1 {
			t.Fatalf("%q: %d renewals written", text, n)
		}
		for _, req := range renewals.requests {
			if req.OfficerPhone != officer.Phone || req.RequestKey != "sms:africastalking:ATXid_f" {
				t.Fatalf("%q: request %+v", text, req)
			}
		}
	})
}
