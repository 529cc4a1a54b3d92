package menus

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/openimis/imis-gateway/menus/gsm7"
)

const helpText = "SMS commands:\nCHECK <insurance no>\nCLAIMS <insurance no>\nLANG en/fr/sw/ne\nHELP"

func sms(t *testing.T, e *Engine, from, text string) SMSReply {
	t.Helper()
	r, err := e.SMS(context.Background(), from, text)
	if err != nil {
		t.Fatalf("SMS(%q): %v", text, err)
	}
	return r
}

func TestSMSGrammar(t *testing.T) {
	e := newFullEngine(newFake(), newFakeClaims(), &fakeLanguages{}, Options{})
	const covered = "A*** J***\nNo. 101000001\nBasic Cover: covered until 31 Dec 2026"
	tests := []struct {
		text, command, want string
	}{
		{"HELP", "HELP", helpText},
		{"help me please", "HELP", helpText},
		{"", "", helpText},
		{"   ", "", helpText},
		{"hello", "", helpText},
		{"CHECKS 101000001", "", helpText},
		{"RENEW 101000001 5000 R1", "", helpText}, // not (yet) a command
		{"101000001", "", helpText},
		{strings.Repeat("check ", 300), "", helpText},
		{"CHECK 101000001", "CHECK", covered},
		{"check 101000001", "CHECK", covered},
		{"ChEcK\t101000001", "CHECK", covered},
		{"  check \n 101000001  ", "CHECK", covered},
		{"check\u00a0101000001", "CHECK", covered},
		{"CHECK", "CHECK", "Send: CHECK <insurance no>"},
		{"CHECK 101000001 101000002", "CHECK", "Send: CHECK <insurance no>"},
		{"CHECK 999", "CHECK", "No insuree has number 999."},
		{"CHECK 10-1", "CHECK", "An insurance number has 1 to 12 letters or digits."},
		{"claims 310482231", "CLAIMS", "Latest claim:\nBUF00412 28 May 2026\nHospitali Teule ya Rufaa ya ...\nRejected"},
		{"CLAIMS 101203401", "CLAIMS", "Latest 5 claims:\nMKH00342 11 Jun 2026\nMakole Health Centre\nReceived\n" +
			"MKH00318 28 May 2026\nMakole Health Centre\nChecked, approved TZS 28,500\n+3 more"},
		{"CLAIMS 101203402", "CLAIMS", "No claims for number 101203402."},
		{"CLAIMS 999", "CLAIMS", "No insuree has number 999."},
		{"CLAIMS", "CLAIMS", "Send: CLAIMS <insurance no>"},
		{"LANG", "LANG", "Send: LANG en/fr/sw/ne"},
		{"LANG de", "LANG", "Send: LANG en/fr/sw/ne"},
		{"LANG EN", "LANG", "Language saved."},
	}
	for _, tt := range tests {
		r := sms(t, e, stranger.Phone, tt.text)
		if r.Text != tt.want || r.Command != tt.command || r.Lang != "en" {
			t.Errorf("%q: %+v\nwant %q (%s)", tt.text, r, tt.want, tt.command)
		}
		if r.Encoding != gsm7.GSM7 || r.Parts != 1 || r.Length != len(r.Text) {
			t.Errorf("%q: %v, %d septets, %d parts", tt.text, r.Encoding, r.Length, r.Parts)
		}
	}
	// The sender's own number shows the name.
	if r := sms(t, e, insuree.Phone, "CHECK 101000001"); !strings.HasPrefix(r.Text, "Amina Juma\n") {
		t.Errorf("owner: %q", r.Text)
	}
}

func TestSMSLanguage(t *testing.T) {
	langs := &fakeLanguages{}
	e := newFullEngine(newFake(), newFakeClaims(), langs, Options{})
	from := "255712345678"
	r := sms(t, e, from, "lang FR")
	if r.Text != "Langue enregistrée." || r.Lang != "fr" || langs.byKey["+255712345678"] != "fr" {
		t.Errorf("LANG fr: %+v, stored %v", r, langs.byKey)
	}
	// Later replies are in French, transliterated to stay GSM-7.
	r = sms(t, e, "+255712345678", "help")
	if r.Text != "Commandes SMS :\nCHECK <no d'assuré>\nCLAIMS <no d'assuré>\nLANG en/fr/sw/ne\nHELP" || r.Encoding != gsm7.GSM7 {
		t.Errorf("French help: %+v", r)
	}
	r = sms(t, e, from, "claims 101203401")
	if !strings.HasPrefix(r.Text, "5 dernières prestations :\nMKH00342 du 11 juin 2026\n") || r.Encoding != gsm7.GSM7 {
		t.Errorf("French claims: %+v", r)
	}
	// The USSD session of the same phone starts in French once the gateway
	// looks the language up.
	lang, err := e.LanguageOf(context.Background(), "+255712345678")
	if _, scr, _ := e.Begin(context.Background(), Caller{Phone: from, Lang: lang}, nil); err != nil ||
		!strings.HasPrefix(scr.Text, "Assurance maladie\n") {
		t.Errorf("USSD after LANG fr: %q %v", scr.Text, err)
	}
	// Nepali: one UCS-2 part.
	for _, text := range []string{"LANG ne", "HELP", "CHECK 101000006", "CLAIMS 101203401", "CLAIMS 310482231", "CHECK 999", "LANG"} {
		r = sms(t, e, from, text)
		if r.Lang != "ne" || r.Encoding != gsm7.UCS2 || r.Length > gsm7.SingleUCS2 || r.Parts != 1 {
			t.Errorf("ne %q: %+v", text, r)
		}
	}
	// Without a LanguageStore, LANG is no command.
	e = newFullEngine(newFake(), newFakeClaims(), nil, Options{})
	if r := sms(t, e, from, "LANG fr"); r.Command != "" || r.Text != strings.Replace(helpText, "LANG en/fr/sw/ne\n", "", 1) {
		t.Errorf("no store: %+v", r)
	}
}

func TestSMSInEveryLanguageFitsOnePart(t *testing.T) {
	for _, lang := range languages {
		langs := &fakeLanguages{byKey: map[string]string{"+255712345678": lang}}
		e := newFullEngine(newFake(), newFakeClaims(), langs, Options{CHFIDMaxLen: 50})
		for _, text := range []string{"HELP", "x", "CHECK", "CHECK 101000006", "CHECK 101000008", "CHECK 101000009", "CHECK 999",
			"CHECK " + strings.Repeat("9", 50), "CHECK " + strings.Repeat("9", 51), "CLAIMS 101203401", "CLAIMS 310482231",
			"CLAIMS 101203402", "CLAIMS " + strings.Repeat("9", 50), "LANG", "LANG " + lang} {
			r := sms(t, e, "+255712345678", text)
			if r.Lang != lang || r.Parts != 1 {
				t.Errorf("%s %q: %d parts (%v, %d):\n%s", lang, text, r.Parts, r.Encoding, r.Length, r.Text)
			}
		}
	}
}

func TestSMSFailures(t *testing.T) {
	boom := errors.New("connection refused")
	ctx := context.Background()
	e := newFullEngine(&fakeSource{err: boom}, &fakeClaims{err: boom}, &fakeLanguages{}, Options{})
	for _, text := range []string{"CHECK 101000001", "CLAIMS 101000001"} {
		r, err := e.SMS(ctx, stranger.Phone, text)
		if !errors.Is(err, boom) || r.Text != "Service temporarily unavailable, please try again." || r.Command == "" {
			t.Errorf("%q: %+v %v", text, r, err)
		}
		if strings.Contains(err.Error(), "101000001") || strings.Contains(err.Error(), "799999999") {
			t.Errorf("error names personal data: %v", err)
		}
	}
	// A failing language lookup: the reply in the default language.
	e = newFullEngine(newFake(), newFakeClaims(), &fakeLanguages{err: boom}, Options{DefaultLang: "sw"})
	r, err := e.SMS(ctx, stranger.Phone, "HELP")
	if !errors.Is(err, boom) || r.Lang != "sw" || r.Text != "Huduma haipatikani kwa sasa, tafadhali jaribu tena baadaye." {
		t.Errorf("language lookup: %+v %v", r, err)
	}
}

// TestSMSCommandExtension: a new command is one entry in the table, with
// its arguments checked and its usage answered like the others (RENEW
// will be one).
func TestSMSCommandExtension(t *testing.T) {
	e := newFullEngine(newFake(), newFakeClaims(), &fakeLanguages{}, Options{})
	var got []string
	e.commands = append(e.commands, smsCommand{keyword: "RENEW", minArgs: 3, maxArgs: 4, usage: msgSMSUsageCheck,
		run: func(_ *hop, args []string) (string, error) {
			got = args
			return "renewed", nil
		}})
	if r := sms(t, e, stranger.Phone, "renew 101000001 5000 R/77 FAM01"); r.Text != "renewed" || r.Command != "RENEW" ||
		strings.Join(got, " ") != "101000001 5000 R/77 FAM01" {
		t.Errorf("renew: %+v %q", r, got)
	}
	if r := sms(t, e, stranger.Phone, "RENEW 101000001 5000"); r.Text != "Send: CHECK <insurance no>" {
		t.Errorf("too few: %+v", r)
	}
	if r := sms(t, e, stranger.Phone, "HELP"); !strings.HasSuffix(r.Text, "HELP\nCHECK <insurance no>") {
		t.Errorf("help lists it: %q", r.Text)
	}
}
