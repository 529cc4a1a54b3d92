package twilio

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/openimis/imis-gateway/providers"
	pt "github.com/openimis/imis-gateway/providers/internal/providertest"
)

const (
	accountSID = "AC0123456789abcdef0123456789abcdef"
	messageSID = "SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33"
)

// inboundBody is a real-shaped inbound webhook (courier's twiml test payload,
// with a Tanzanian sender): every field Twilio sends for an SMS.
const inboundBody = "ToCountry=US&ToState=CA&SmsMessageSid=SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33&NumMedia=0&ToCity=&FromZip=&SmsSid=SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33" +
	"&FromState=&SmsStatus=received&FromCity=&Body=CHECK+12345678&FromCountry=TZ&To=%2B14155550100&MessagingServiceSid=MG0123456789abcdef0123456789abcdef" +
	"&ToZip=&NumSegments=1&MessageSid=SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B255712345678&ApiVersion=2010-04-01"

func inbound(text string, mod func(*Inbound)) Inbound {
	in := Inbound{
		InboundSMS: providers.InboundSMS{
			Provider: Name, MessageID: messageSID, From: "+255712345678", To: "+14155550100", Text: text,
		},
		AccountSID: accountSID, MessagingServiceSID: "MG0123456789abcdef0123456789abcdef", NumSegments: 1,
	}
	if mod != nil {
		mod(&in)
	}
	return in
}

type inboundCase struct {
	label   string
	method  string
	ct      string
	body    string
	limit   int64
	status  int
	errText string
	in      Inbound
}

const formCT = "application/x-www-form-urlencoded"

var inboundCases = []inboundCase{
	{label: "SMS", ct: formCT, body: inboundBody, status: 200, in: inbound("CHECK 12345678", nil)},
	{label: "charset in content type", ct: formCT + "; charset=utf-8", body: inboundBody, status: 200, in: inbound("CHECK 12345678", nil)},
	{
		label:  "legacy SmsSid only, no Messaging Service",
		ct:     formCT,
		body:   "SmsSid=SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B255712345678&To=%2B14155550100&Body=HELP",
		status: 200,
		in:     inbound("HELP", func(in *Inbound) { in.MessagingServiceSID, in.NumSegments = "", 0 }),
	},
	{
		label:  "reassembled multipart, UTF-8, '+' and '&' in the text",
		ct:     formCT,
		body:   "MessageSid=SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B255712345678&To=%2B14155550100&NumSegments=2&NumMedia=0&Body=RENEW+12345678+20000+RC%2F42+%26+%E2%80%99ok%E2%80%99+" + strings.Repeat("x", 150),
		status: 200,
		in: inbound("RENEW 12345678 20000 RC/42 & ’ok’ "+strings.Repeat("x", 150), func(in *Inbound) {
			in.MessagingServiceSID, in.NumSegments = "", 2
		}),
	},
	{
		label:  "MMS without text",
		ct:     formCT,
		body:   "MessageSid=MM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B255712345678&To=%2B14155550100&Body=&NumMedia=1&MediaContentType0=image%2Fjpeg&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC0%2FMessages%2FMM7%2FMedia%2FME1",
		status: 200,
		in: inbound("", func(in *Inbound) {
			in.MessageID, in.MessagingServiceSID, in.NumSegments, in.NumMedia = "MM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33", "", 0, 1
		}),
	},
	{
		label:  "unparsable NumSegments is only informative",
		ct:     formCT,
		body:   "MessageSid=SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B255712345678&To=%2B14155550100&Body=HELP&NumSegments=two",
		status: 200,
		in:     inbound("HELP", func(in *Inbound) { in.MessagingServiceSID, in.NumSegments = "", 0 }),
	},
	{
		label:   "missing MessageSid",
		ct:      formCT,
		body:    "AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B255712345678&To=%2B14155550100&Body=HELP",
		status:  400,
		errText: "missing MessageSid",
	},
	{
		label:   "missing AccountSid",
		ct:      formCT,
		body:    "MessageSid=SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33&From=%2B255712345678&To=%2B14155550100&Body=HELP",
		status:  400,
		errText: "missing AccountSid",
	},
	{
		label:   "missing From",
		ct:      formCT,
		body:    "MessageSid=SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33&AccountSid=AC0123456789abcdef0123456789abcdef&To=%2B14155550100&Body=HELP",
		status:  400,
		errText: "missing From",
	},
	{
		label:   "missing To",
		ct:      formCT,
		body:    "MessageSid=SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B255712345678&Body=HELP",
		status:  400,
		errText: "missing To",
	},
	{
		label:   "repeated Body",
		ct:      formCT,
		body:    "MessageSid=SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B255712345678&To=%2B14155550100&Body=HELP&Body=CHECK+1",
		status:  400,
		errText: "repeated Body",
	},
	{
		label:   "control character in From",
		ct:      formCT,
		body:    "MessageSid=SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B2557%0A12345678&To=%2B14155550100&Body=HELP",
		status:  400,
		errText: "control character in From",
	},
	{
		label:   "invalid UTF-8 in Body",
		ct:      formCT,
		body:    "MessageSid=SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B255712345678&To=%2B14155550100&Body=%FFHELP",
		status:  400,
		errText: "Body is not valid UTF-8",
	},
	{
		label:   "bad escape",
		ct:      formCT,
		body:    "MessageSid=SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B255712345678&To=%2B14155550100&Body=%zz",
		status:  400,
		errText: "form body",
	},
	{
		label:   "';' separator",
		ct:      formCT,
		body:    "MessageSid=SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33;AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B255712345678&To=%2B14155550100&Body=HELP",
		status:  400,
		errText: "form body",
	},
	{
		label:   "JSON",
		ct:      "application/json",
		body:    `{"MessageSid":"SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33"}`,
		status:  400,
		errText: "content type",
	},
	{
		label:   "GET",
		method:  http.MethodGet,
		ct:      formCT,
		status:  400,
		errText: "want POST",
	},
	{
		label:   "empty body",
		ct:      formCT,
		status:  400,
		errText: "missing MessageSid",
	},
	{
		label:   "body over the gateway's limit",
		ct:      formCT,
		body:    inboundBody + "&Padding=" + strings.Repeat("x", 5000),
		limit:   4096,
		status:  413,
		errText: "request body too large",
	},
}

func TestParseInbound(t *testing.T) {
	for _, tc := range inboundCases {
		t.Run(tc.label, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			in, err := ParseInbound(pt.NewRequest(method, "/sms/twilio/tok/inbound", tc.ct, tc.body, tc.limit))
			pt.CheckParsed(t, "inbound", in, err, tc.status, tc.errText, tc.in)
		})
	}
}

func TestParseStatus(t *testing.T) {
	for _, tc := range []struct {
		label, body string
		status      int
		errText     string
		st          Status
	}{
		{
			label:  "delivered",
			body:   "SmsSid=SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33&SmsStatus=delivered&MessageStatus=delivered&To=%2B255712345678&MessageSid=SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B14155550100&ApiVersion=2010-04-01",
			status: 200,
			st:     Status{MessageID: messageSID, AccountSID: accountSID, Status: "delivered", From: "+14155550100", To: "+255712345678"},
		},
		{
			label:  "undelivered with an error code",
			body:   "MessageSid=SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33&MessageStatus=undelivered&ErrorCode=30003&AccountSid=AC0123456789abcdef0123456789abcdef&To=%2B255712345678&From=%2B14155550100",
			status: 200,
			st:     Status{MessageID: messageSID, AccountSID: accountSID, Status: "undelivered", ErrorCode: "30003", From: "+14155550100", To: "+255712345678"},
		},
		{
			label:  "legacy fields only",
			body:   "SmsSid=SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33&SmsStatus=sent&AccountSid=AC0123456789abcdef0123456789abcdef",
			status: 200,
			st:     Status{MessageID: messageSID, AccountSID: accountSID, Status: "sent"},
		},
		{
			label:  "unknown status kept",
			body:   "MessageSid=SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33&MessageStatus=partially_delivered&AccountSid=AC0123456789abcdef0123456789abcdef",
			status: 200,
			st:     Status{MessageID: messageSID, AccountSID: accountSID, Status: "partially_delivered"},
		},
		{
			label:   "missing status",
			body:    "MessageSid=SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33&AccountSid=AC0123456789abcdef0123456789abcdef",
			status:  400,
			errText: "missing SmsStatus (MessageStatus)",
		},
		{
			label:   "missing MessageSid",
			body:    "MessageStatus=failed&AccountSid=AC0123456789abcdef0123456789abcdef",
			status:  400,
			errText: "missing MessageSid",
		},
		{
			label:   "repeated MessageStatus",
			body:    "MessageSid=SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33&MessageStatus=sent&MessageStatus=delivered&AccountSid=AC0123456789abcdef0123456789abcdef",
			status:  400,
			errText: "repeated MessageStatus",
		},
	} {
		t.Run(tc.label, func(t *testing.T) {
			st, err := ParseStatus(pt.NewRequest(http.MethodPost, "/sms/twilio/tok/status", formCT, tc.body, 0))
			pt.CheckParsed(t, "status", st, err, tc.status, tc.errText, tc.st)
		})
	}
}

func TestTwiML(t *testing.T) {
	for _, tc := range []struct{ reply, body string }{
		{"", `<?xml version="1.0" encoding="UTF-8"?><Response/>`},
		{" \n\t", `<?xml version="1.0" encoding="UTF-8"?><Response/>`},
		{"Policy renewed until 2027-06-30", `<?xml version="1.0" encoding="UTF-8"?><Response><Message>Policy renewed until 2027-06-30</Message></Response>`},
		{`Use: RENEW <no> <amount> & "receipt" 'x'`,
			`<?xml version="1.0" encoding="UTF-8"?><Response><Message>Use: RENEW &lt;no&gt; &lt;amount&gt; &amp; &#34;receipt&#34; &#39;x&#39;</Message></Response>`},
		{"</Message><Redirect>http://evil</Redirect>",
			`<?xml version="1.0" encoding="UTF-8"?><Response><Message>&lt;/Message&gt;&lt;Redirect&gt;http://evil&lt;/Redirect&gt;</Message></Response>`},
		{"line 1\nline 2", `<?xml version="1.0" encoding="UTF-8"?><Response><Message>line 1&#xA;line 2</Message></Response>`},
		{"नमस्ते \x00\x1b", `<?xml version="1.0" encoding="UTF-8"?><Response><Message>नमस्ते ` + "\uFFFD\uFFFD" + `</Message></Response>`},
	} {
		if got := string(TwiML(tc.reply)); got != tc.body {
			t.Errorf("TwiML(%q)\n got %s\nwant %s", tc.reply, got, tc.body)
		}
	}
	w := httptest.NewRecorder()
	WriteTwiML(w, "")
	if w.Code != 200 || w.Header().Get("Content-Type") != "text/xml; charset=utf-8" || w.Body.String() != `<?xml version="1.0" encoding="UTF-8"?><Response/>` {
		t.Errorf("WriteTwiML: %d %q %s", w.Code, w.Header().Get("Content-Type"), w.Body.String())
	}
}

func FuzzParseInbound(f *testing.F) {
	for _, tc := range inboundCases {
		f.Add([]byte(tc.body), tc.ct)
	}
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		r := pt.NewRequest(http.MethodPost, "/sms/twilio/tok/inbound", ct, string(body), 0)
		in, err := ParseInbound(r)
		if pt.Refused(t, err) {
			return
		}
		if in.Provider != Name || in.MessageID == "" || in.AccountSID == "" || in.From == "" || in.To == "" ||
			len(in.MessageID) > maxSID || len(in.From) > maxAddress || in.NumSegments < 0 || in.NumMedia < 0 {
			t.Errorf("inbound %+v", in)
		}
		pt.ValidUTF8(t, in.MessageID, in.From, in.To, in.Text, in.AccountSID)
		// What parses also signs and validates, with the body still readable.
		params := pt.FormValues(t, body)
		r = pt.NewRequest(http.MethodPost, "/sms/twilio/tok/inbound?x=1", ct, string(body), 0)
		r.Header.Set(SignatureHeader, Sign("tok", "https://gw.example.org/sms/twilio/tok/inbound?x=1", params))
		if err := ValidateSignature("tok", "https://gw.example.org/", r); err != nil {
			t.Fatalf("ValidateSignature: %v", err)
		}
		if again, err := ParseInbound(r); err != nil || again != in {
			t.Fatalf("after validation: %+v, %v", again, err)
		}
	})
}
