package twilio

import (
	"slices"
	"testing"
)

// TestSettings: the TWILIO_ variables are all or nothing; the callbacks get
// their own token ("dev" in development when none is set), and every message
// sent names the status callback under TWILIO_PUBLIC_URL.
func TestSettings(t *testing.T) {
	full := map[string]string{"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "secret", "TWILIO_FROM": "+14155550100",
		"TWILIO_PUBLIC_URL": "https://gw.example.org/p/", "TWILIO_CALLBACK_TOKEN": "tok"}
	with := func(changes map[string]string) func(string) string {
		return func(name string) string {
			if v, ok := changes[name]; ok {
				return v
			}
			return full[name]
		}
	}
	for _, tc := range []struct {
		label    string
		getenv   func(string) string
		devToken string
		token    string // of the callbacks; "" for none
		callback string // every message's status callback
		problems []string
	}{
		{label: "nothing set", getenv: func(string) string { return "" }},
		{label: "all set", getenv: with(nil), token: "tok", callback: "https://gw.example.org/p/sms/twilio/tok/status"},
		{label: "no callback token", getenv: with(map[string]string{"TWILIO_CALLBACK_TOKEN": ""}),
			problems: []string{"TWILIO_CALLBACK_TOKEN is required with Twilio (or run with --dev)"}},
		{label: "no callback token in development", getenv: with(map[string]string{"TWILIO_CALLBACK_TOKEN": ""}),
			devToken: "dev", token: "dev", callback: "https://gw.example.org/p/sms/twilio/dev/status"},
		{label: "partly set", getenv: with(map[string]string{"TWILIO_FROM": "", "TWILIO_PUBLIC_URL": ""}), token: "tok",
			callback: "/sms/twilio/tok/status",
			problems: []string{"Twilio is partly configured; also set TWILIO_FROM, TWILIO_PUBLIC_URL"}},
		{label: "a public URL with a query", getenv: with(map[string]string{"TWILIO_PUBLIC_URL": "https://gw.example.org?x=1"}),
			token: "tok", callback: "https://gw.example.org?x=1/sms/twilio/tok/status",
			problems: []string{`TWILIO_PUBLIC_URL: twilio public URL "https://gw.example.org?x=1": no query or fragment allowed`}},
	} {
		t.Run(tc.label, func(t *testing.T) {
			s, problems := smsSettings(tc.getenv, tc.devToken)
			if !slices.Equal(problems, tc.problems) {
				t.Errorf("problems %q, want %q", problems, tc.problems)
			}
			if tc.token == "" {
				if s.Callbacks != nil || s.Sender != nil {
					t.Errorf("settings %+v, want none", s)
				}
				return
			}
			if s.Callbacks == nil || s.Callbacks.Token != tc.token || s.Callbacks.Signature == nil {
				t.Fatalf("callbacks %+v, want token %q and a signature", s.Callbacks, tc.token)
			}
			if c, ok := s.Sender.(*SMSClient); !ok || c.statusCallback != tc.callback {
				t.Errorf("sender %#v, want status callback %q", s.Sender, tc.callback)
			}
		})
	}
	if s, _ := smsSettings(with(nil), ""); s.Callbacks.Signature.Problem != nil {
		t.Errorf("a complete configuration's signature: %v", s.Callbacks.Signature.Problem)
	}
	if s, _ := smsSettings(with(map[string]string{"TWILIO_AUTH_TOKEN": ""}), ""); s.Callbacks.Signature.Problem == nil {
		t.Error("a signature without auth token passes")
	}
}
