package menus

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/openimis/imis-gateway/menus/gsm7"
	"github.com/openimis/imis-gateway/openimis"
)

const helpText = "SMS commands:\nCHECK <insurance no>\nCLAIMS <insurance no>\nLANG en/fr/sw/ne\nHELP"

func sms(t *testing.T, e *Engine, from, text string) SMSReply {
	t.Helper()
	r, err := e.SMS(context.Background(), SMSRequest{From: from, Text: text})
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
		// Claims only to the insured's phones (TestSMSClaimsOfTheirOwn),
		// whether the number exists or not.
		{"claims 310482231", "CLAIMS", "Claims of 310482231 are shown only on the phone registered for that insurance number."},
		{"CLAIMS 999", "CLAIMS", "Claims of 999 are shown only on the phone registered for that insurance number."},
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
	// The sender's own number shows the name, and the claims.
	for _, tt := range []struct{ text, want string }{
		{"claims 310482231", "Latest claim:\nBUF00412 28 May 2026\nHospitali Teule ya Rufaa ya ...\nRejected"},
		{"CLAIMS 101203401", "Latest 5 claims:\nMKH00342 11 Jun 2026\nMakole Health Centre\nReceived\n" +
			"MKH00318 28 May 2026\nMakole Health Centre\nChecked, approved TZS 28,500\n+3 more"},
		{"CLAIMS 101203402", "No claims for number 101203402."},
	} {
		if r := sms(t, e, insuree.Phone, tt.text); r.Text != tt.want {
			t.Errorf("owner %q: %q\nwant %q", tt.text, r.Text, tt.want)
		}
	}
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
		r, err := e.SMS(ctx, SMSRequest{From: stranger.Phone, Text: text})
		if !errors.Is(err, boom) || r.Text != "Service temporarily unavailable, please try again." || r.Command == "" {
			t.Errorf("%q: %+v %v", text, r, err)
		}
		if strings.Contains(err.Error(), "101000001") || strings.Contains(err.Error(), "799999999") {
			t.Errorf("error names personal data: %v", err)
		}
	}
	// A failing language lookup: the reply in the default language.
	e = newFullEngine(newFake(), newFakeClaims(), &fakeLanguages{err: boom}, Options{DefaultLang: "sw"})
	r, err := e.SMS(ctx, SMSRequest{From: stranger.Phone, Text: "HELP"})
	if !errors.Is(err, boom) || r.Lang != "sw" || r.Text != "Huduma haipatikani kwa sasa, tafadhali jaribu tena baadaye." {
		t.Errorf("language lookup: %+v %v", r, err)
	}
}

// TestSMSCommandExtension: a new command is one entry in the table, with
// its arguments checked and its usage answered like the others.
func TestSMSCommandExtension(t *testing.T) {
	e := newFullEngine(newFake(), newFakeClaims(), &fakeLanguages{}, Options{})
	var got []string
	e.commands = append(e.commands, smsCommand{keyword: "ECHO", minArgs: 2, maxArgs: 3, usage: msgSMSUsageCheck,
		run: func(_ *call, args []string) (string, error) {
			got = args
			return "echoed", nil
		}})
	if r := sms(t, e, stranger.Phone, "echo 101000001 5000 R/77"); r.Text != "echoed" || r.Command != "ECHO" ||
		strings.Join(got, " ") != "101000001 5000 R/77" {
		t.Errorf("echo: %+v %q", r, got)
	}
	if r := sms(t, e, stranger.Phone, "ECHO 101000001"); r.Text != "Send: CHECK <insurance no>" {
		t.Errorf("too few: %+v", r)
	}
	if r := sms(t, e, stranger.Phone, "HELP"); !strings.HasSuffix(r.Text, "HELP\nCHECK <insurance no>") {
		t.Errorf("help lists it: %q", r.Text)
	}
}

const officerHelp = "SMS commands:\nRENEW <insurance no> <amount> <receipt no> (<product code>)\nCHECK <insurance no>\n" +
	"CLAIMS <insurance no>\nLANG en/fr/sw/ne\nHELP"

func TestSMSRenew(t *testing.T) {
	const (
		usage   = "Send: RENEW <insurance no> <amount> <receipt no> (<product code>)"
		wrong   = "Wrong amount. Enter it in digits, like 37000 or 37,000.50."
		renewed = "Policy renewed: active\n25 Jun 2026 to 24 Jun 2027\nNo. 604120019, FAM01\nTumaini Anyisile Mwakalinga\nReceipt QFC9M3NX5T"
		idle    = "Policy renewed: idle until paid in full\n15 Jun 2026 to 14 Jun 2027\nPaid TZS 20,000 of TZS 32,000\n" +
			"No. 20461301, FAM01\nEmmanuel Joseph Kimaro\nReceipt B-PART-1"
	)
	tests := []struct {
		name, from, text, want string
		written                int
	}{
		{"renewed", officer.Phone, "RENEW 604120019 37000 QFC9M3NX5T", renewed, 1},
		{"lower case, local phone, separators", "0767 890 123", "renew  604120019\t37,000.00 QFC9M3NX5T", renewed, 1},
		{"with the product code, part paid", officer.Phone, "RENEW 20461301 20000 B-PART-1 fam01", idle, 1},
		{"old product's code", officer.Phone, "RENEW 310482215 32000 C-1 CHF00",
			"Policy renewed: active\n15 Jun 2026 to 14 Jun 2027\nNo. 310482215, FAM01\nPaulo Masanja Magesa\nReceipt C-1", 1},
		{"too few words", officer.Phone, "RENEW 604120019 37000", usage, 0},
		{"only the keyword", officer.Phone, "RENEW", usage, 0},
		{"too many words", officer.Phone, "RENEW 604120019 37000 QFC9M3NX5T FAM01 x", usage, 0},
		{"not an officer", stranger.Phone, "RENEW 604120019 37000 QFC9M3NX5T", notOfficer, 0},
		{"not an officer, wrong arity", stranger.Phone, "RENEW", notOfficer, 0},
		{"an officer who left", "+255715246135", "RENEW 604120019 37000 QFC9M3NX5T", notOfficer, 0},
		{"no phone", "", "RENEW 604120019 37000 QFC9M3NX5T", notOfficer, 0},
		{"bad number", officer.Phone, "RENEW 6041-20019 37000 QFC9M3NX5T", "An insurance number has 1 to 12 letters or digits.", 0},
		{"amount and receipt swapped", officer.Phone, "RENEW 604120019 QFC9M3NX5T 37000", wrong + "\n" + usage, 0},
		{"too many decimals", officer.Phone, "RENEW 604120019 37000.505 QFC9M3NX5T", wrong + "\n" + usage, 0},
		{"zero", officer.Phone, "RENEW 604120019 0 QFC9M3NX5T", "The amount must be more than 0.", 0},
		{"negative", officer.Phone, "RENEW 604120019 -37000 QFC9M3NX5T", "The amount must be more than 0.", 0},
		{"huge", officer.Phone, "RENEW 604120019 123456789012345678 QFC9M3NX5T", "The amount is too large.", 0},
		{"bad receipt", officer.Phone, "RENEW 604120019 37000 QFC#9", "A receipt number has 1 to 50 letters, digits, - or /.", 0},
		{"bad product code", officer.Phone, "RENEW 604120019 37000 QFC9M3NX5T FAM/01", "No product has code FAM/01.", 0},
		{"unknown product", officer.Phone, "RENEW 604120019 37000 QFC9M3NX5T IND01", "No product has code IND01.", 0},
		{"unknown number", officer.Phone, "RENEW 999 37000 QFC9M3NX5T", "No insuree has number 999.", 0},
		{"no previous policy", officer.Phone, "RENEW 907712214 37000 QFC9M3NX5T", "No policy to renew for number 907712214.", 0},
		{"renewal exists", officer.Phone, "RENEW 604120027 37000 QFC9M3NX5T", "This family's policy is already renewed.", 0},
		{"not renewable", officer.Phone, "RENEW 503910017 37000 QFC9M3NX5T", "This family's product can no longer be renewed.", 0},
		{"outside the officer's area", officer.Phone, "RENEW 48214 28800 QFC9M3NX5T", "The family of 48214 is not in your area.", 0},
		{"more than due", officer.Phone, "RENEW 604120019 9999999999999999 RC-A2b",
			"Amount TZS 9,999,999,999,999,999 is more than the TZS 37,000 due.", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _, renewals := newRenewEngine(Options{})
			r, err := e.SMS(context.Background(), SMSRequest{From: tt.from, Text: tt.text, Key: "africastalking:ATXid_5e1", Provider: "beem"})
			if err != nil || r.Text != tt.want || r.Command != "RENEW" || renewals.writes() != tt.written {
				t.Errorf("%+v %v, %d written\nwant\n%s", r, err, renewals.writes(), tt.want)
			}
			if r.Parts != 1 || r.Encoding != gsm7.GSM7 {
				t.Errorf("%d parts, %v", r.Parts, r.Encoding)
			}
			if tt.written == 0 {
				return
			}
			req := renewals.requests[0]
			if req.Channel != openimis.ChannelSMS || req.RequestKey != "sms:africastalking:ATXid_5e1" || req.SMSProvider != "beem" ||
				!req.Today.Equal(testDay) || req.OfficerPhone != tt.from || req.SourceVersion != "0.4.0-test" || req.Messages == nil {
				t.Errorf("request %+v", req)
			}
		})
	}
}

// TestSMSRenewOnce: Africa's Talking delivers an SMS again until it is
// acknowledged; the same message key writes the renewal once and answers
// with the renewal written.
func TestSMSRenewOnce(t *testing.T) {
	e, _, renewals := newRenewEngine(Options{})
	m := SMSRequest{From: officer.Phone, Text: "RENEW 604120019 37000 QFC9M3NX5T", Key: "africastalking:ATXid_5e1", Provider: "africastalking"}
	first, err1 := e.SMS(context.Background(), m)
	again, err2 := e.SMS(context.Background(), m)
	if err1 != nil || err2 != nil || renewals.writes() != 1 || len(renewals.requests) != 2 {
		t.Fatalf("%v %v, %d written", err1, err2, renewals.writes())
	}
	if want := strings.Replace(first.Text, "Policy renewed:", "Already renewed:", 1); again.Text != want {
		t.Errorf("again: %q, want %q", again.Text, want)
	}
	if renewals.requests[0].RequestKey != renewals.requests[1].RequestKey {
		t.Errorf("keys %q %q", renewals.requests[0].RequestKey, renewals.requests[1].RequestKey)
	}
	// Without a key, the receipt alone makes it idempotent: never "sms:".
	m.Key = ""
	if _, err := e.SMS(context.Background(), m); err != nil || renewals.requests[2].RequestKey != "" || renewals.writes() != 1 {
		t.Errorf("no key: %v %+v", err, renewals.requests[2])
	}
}

func TestSMSRenewHelpAndFailures(t *testing.T) {
	e, officers, renewals := newRenewEngine(Options{})
	if r := sms(t, e, officer.Phone, "HELP"); r.Text != officerHelp || r.Parts != 1 {
		t.Errorf("officer help: %+v", r)
	}
	for _, from := range []string{stranger.Phone, "+255715246135", ""} {
		if r := sms(t, e, from, "HELP"); r.Text != helpText {
			t.Errorf("%q help: %q", from, r.Text)
		}
	}
	if r := sms(t, e, officer.Phone, "PAY 604120019"); r.Text != officerHelp || r.Command != "" {
		t.Errorf("officer, unknown command: %+v", r)
	}
	boom := errors.New("connection refused")
	renewals.err = boom
	r, err := e.SMS(context.Background(), SMSRequest{From: officer.Phone, Text: "RENEW 604120019 37000 QFC9M3NX5T"})
	if !errors.Is(err, boom) || r.Text != "Service temporarily unavailable, please try again." || r.Command != "RENEW" {
		t.Errorf("renew failing: %+v %v", r, err)
	}
	renewals.err = nil
	officers.err = boom
	r, err = e.SMS(context.Background(), SMSRequest{From: officer.Phone, Text: "RENEW 604120019 37000 QFC9M3NX5T"})
	if !errors.Is(err, boom) || r.Text != "Service temporarily unavailable, please try again." {
		t.Errorf("officer look-up failing: %+v %v", r, err)
	}
	// HELP never fails for it: RENEW is left out.
	if r := sms(t, e, officer.Phone, "HELP"); r.Text != helpText {
		t.Errorf("help, look-up failing: %q", r.Text)
	}
}

// TestSMSRenewInEveryLanguage: the officer's language, one part but for
// Nepali, which may take two.
func TestSMSRenewInEveryLanguage(t *testing.T) {
	for _, lang := range languages {
		langs := &fakeLanguages{byKey: map[string]string{officer.Phone: lang}}
		o, r := newFakeRenewals()
		e := newFullEngine(newFake(), newFakeClaims(), langs, Options{Officers: o, Renewals: r, CHFIDMaxLen: 50})
		for _, text := range []string{"HELP", "RENEW", "RENEW 604120019 37000 QFC9M3NX5T", "RENEW 604120019 37000 QFC9M3NX5T",
			"RENEW 20461301 20000 " + strings.Repeat("R", 50), "RENEW 604120019 QFC9M3NX5T 37000", "RENEW 604120019 0 R",
			"RENEW 604120019 1 R#", "RENEW 999 1 R", "RENEW " + strings.Repeat("9", 50) + " 1 R", "RENEW 604120027 1 R",
			"RENEW 604120019 1 R " + strings.Repeat("P", 51), "RENEW 48214 1 R", "RENEW 604120019 9999999999999999.99 R"} {
			rep := sms(t, e, officer.Phone, text)
			if rep.Lang != lang || rep.Parts > 2 || lang != "ne" && rep.Parts != 1 {
				t.Errorf("%s %q: %d parts (%v, %d):\n%s", lang, text, rep.Parts, rep.Encoding, rep.Length, rep.Text)
			}
		}
		if rep := sms(t, e, stranger.Phone, "RENEW 604120019 37000 QFC9M3NX5T"); rep.Parts != 1 {
			t.Errorf("%s stranger: %+v", lang, rep)
		}
	}
}
