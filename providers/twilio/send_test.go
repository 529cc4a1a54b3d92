package twilio

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/providers"
	pt "github.com/openimis/imis-gateway/providers/internal/providertest"
	"github.com/openimis/imis-gateway/providers/twilio/twiliotest"
)

const (
	testPhone    = "+255712345678"
	testFrom     = "+14155550100"
	testService  = "MG0123456789abcdef0123456789abcdef"
	testToken    = "s3cr3t-auth-token"
	testCallback = "https://gw.example.org/sms/twilio/tok/status"
)

func newTestClient(fake *twiliotest.Server, mod func(*SMSConfig)) *SMSClient {
	cfg := SMSConfig{AccountSID: accountSID, AuthToken: testToken, From: testFrom, BaseURL: fake.URL}
	if mod != nil {
		mod(&cfg)
	}
	return NewSMSClient(cfg)
}

func TestSendAccepted(t *testing.T) {
	fake := twiliotest.New(t)
	fake.RequireAuth(accountSID, testToken)
	c := newTestClient(fake, nil)
	text := "Policy renewed: 01/02/2026 - 31/01/2027. Active. " + strings.Repeat("Asante. ", 20) // 209 characters
	res, err := c.Send(context.Background(), testPhone, text)
	if err != nil {
		t.Fatal(err)
	}
	want := providers.SendResult{MessageID: twiliotest.MessageSID(1), Status: "queued", Parts: 2}
	if res != want {
		t.Errorf("result\n got %+v\nwant %+v", res, want)
	}

	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/2010-04-01/Accounts/"+accountSID+"/Messages.json" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
	if r.User != accountSID || r.Password != testToken {
		t.Errorf("basic auth %q:%q", r.User, r.Password)
	}
	pt.Sent{
		Header:      map[string]string{"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
		Form:        url.Values{"To": {testPhone}, "From": {testFrom}, "Body": {text}},
		PlusEncoded: "To=%2B255712345678",
	}.Check(t, r.Header, r.Form, r.Body)
}

// An "MG..." sender is a Messaging Service: sent as MessagingServiceSid,
// never as From. Twilio answers "accepted" with num_segments "0".
func TestSendThroughMessagingService(t *testing.T) {
	fake := twiliotest.New(t)
	res, err := newTestClient(fake, func(c *SMSConfig) { c.From = testService }).Send(context.Background(), testPhone, "hi")
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "accepted" || res.Parts != 0 || res.MessageID != twiliotest.MessageSID(1) {
		t.Errorf("result %+v", res)
	}
	form := fake.Requests()[0].Form
	if form.Get("MessagingServiceSid") != testService {
		t.Errorf("MessagingServiceSid %q", form.Get("MessagingServiceSid"))
	}
	if _, ok := form["From"]; ok {
		t.Errorf("From sent along with a Messaging Service: %s", form.Encode())
	}
}

func TestSendStatusCallback(t *testing.T) {
	fake := twiliotest.New(t)
	if _, err := newTestClient(fake, func(c *SMSConfig) { c.StatusCallback = testCallback }).Send(context.Background(), testPhone, "hi"); err != nil {
		t.Fatal(err)
	}
	if _, err := newTestClient(fake, nil).Send(context.Background(), testPhone, "hi"); err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	if got := reqs[0].Form.Get("StatusCallback"); got != testCallback {
		t.Errorf("StatusCallback %q, want %q", got, testCallback)
	}
	if _, ok := reqs[1].Form["StatusCallback"]; ok {
		t.Errorf("StatusCallback sent without one configured: %s", reqs[1].Body)
	}
}

// Each row is an answer the fake API gives and how Send must classify it.
func TestSendClassifiesFailures(t *testing.T) {
	for _, tc := range []struct {
		label     string
		answer    twiliotest.Response
		retryable bool
		maybeSent bool
		throttled bool
		config    bool
		status    string
		code      int
		reason    string
	}{
		{label: "21211 invalid To", answer: twiliotest.InvalidTo(testPhone),
			status: "21211", code: 21211, reason: "Twilio error 21211: Invalid 'To' Phone Number: +*********678"},
		{label: "21610 unsubscribed (STOP)", answer: twiliotest.Unsubscribed(),
			status: "21610", code: 21610, reason: "21610: Attempt to send to unsubscribed recipient"},
		{label: "21614 not a mobile", answer: twiliotest.NotMobile(testPhone), status: "21614", code: 21614},
		{label: "another 400 code is final", answer: twiliotest.Error(400, 21612, "The 'To' phone number is not currently reachable"),
			status: "21612", code: 21612},
		{label: "400 without JSON", answer: twiliotest.Response{Status: 400, ContentType: "text/plain", Body: "Bad request"},
			status: "HTTP 400", reason: "Bad request"},
		{label: "401", answer: twiliotest.Unauthorized(), config: true, status: "20003", code: 20003,
			reason: "Authenticate: Your AccountSid or AuthToken was incorrect. (check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)"},
		{label: "403", answer: twiliotest.Error(403, 20008, "Resource not accessible with Test Account Credentials"),
			config: true, status: "20008", code: 20008, reason: "TWILIO_AUTH_TOKEN"},
		{label: "404 unknown account", answer: twiliotest.Error(404, 20404, "The requested resource was not found"),
			config: true, status: "20404", code: 20404},
		{label: "21212 invalid From", answer: twiliotest.InvalidFrom(testFrom), config: true, status: "21212", code: 21212,
			reason: "check TWILIO_FROM"},
		{label: "21408 region not enabled", answer: twiliotest.Error(400, 21408, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: +255712345678."),
			config: true, status: "21408", code: 21408, reason: "+*********678"},
		{label: "429", answer: twiliotest.Throttled(0), retryable: true, throttled: true, status: "20429", code: 20429},
		{label: "21611 sender queue full", answer: twiliotest.QueueFull(), retryable: true, throttled: true, status: "21611", code: 21611},
		{label: "500", answer: twiliotest.ServerError(), retryable: true, status: "20500", code: 20500},
		{label: "502 HTML", answer: twiliotest.BadGateway(), retryable: true, status: "HTTP 502", reason: "502 Bad Gateway"},
		{label: "503 empty", answer: twiliotest.Response{Status: 503}, retryable: true, status: "HTTP 503", reason: "Service Unavailable"},
		{label: "redirect", answer: twiliotest.Response{Status: 301, Header: map[string]string{"Location": "https://elsewhere/"}},
			config: true, status: "HTTP 301", reason: "redirects"},
		{label: "malformed JSON in a 201", answer: twiliotest.Malformed(), maybeSent: true, status: "MalformedResponse"},
		{label: "201 without a sid", answer: twiliotest.Created(twiliotest.Message{Status: "queued", To: testPhone}),
			maybeSent: true, status: "MalformedResponse", reason: "without a message SID"},
		{label: "201 already failed", answer: twiliotest.Created(twiliotest.Message{SID: "SMdead", Status: "failed",
			ErrorCode: new(30007), ErrorMessage: new("Message filtered")}), status: "30007", code: 30007, reason: "Message filtered"},
		{label: "connection closed after the request", answer: twiliotest.Hangup(), maybeSent: true, status: "NetworkError"},
	} {
		t.Run(tc.label, func(t *testing.T) {
			fake := twiliotest.New(t)
			se, err := pt.SendRefused(t, fake, tc.answer, newTestClient(fake, nil).Send, testPhone, "hello")
			pt.CheckSendError(t, se, se.Code, pt.SendWant{Retryable: tc.retryable, MaybeSent: tc.maybeSent,
				Throttled: tc.throttled, Config: tc.config, Status: tc.status, Code: tc.code, Reason: tc.reason})
			if strings.Contains(se.Reason, testPhone) || strings.Contains(err.Error(), testPhone) {
				t.Errorf("reason carries the whole phone number: %q", se.Reason)
			}
		})
	}
}

func TestSendThrottledRetryAfter(t *testing.T) {
	fake := twiliotest.New(t)
	fake.Enqueue(twiliotest.Throttled(42))
	_, err := newTestClient(fake, nil).Send(context.Background(), testPhone, "hello")
	var se *providers.SendError
	if !errors.As(err, &se) || !se.Throttled || se.RetryAfter != 42*time.Second || se.HTTPStatus != 429 {
		t.Fatalf("err %+v, want throttled with RetryAfter 42s", err)
	}
}

// A timeout after the request reached Twilio may mean it was sent:
// MaybeSent, never Retryable.
func TestSendTimeoutAfterRequestIsMaybeSent(t *testing.T) {
	fake := twiliotest.New(t)
	fake.Enqueue(twiliotest.Slow(twiliotest.Created(twiliotest.Message{SID: "SMlate", Status: "queued"}), 5*time.Second))
	c := newTestClient(fake, func(c *SMSConfig) { c.Timeout = 100 * time.Millisecond })
	pt.SendTimesOut(t, c.Send, 100*time.Millisecond, testPhone)
}

// Nothing listening: the request never left, so it is safe to retry.
func TestSendConnectionRefusedIsRetryable(t *testing.T) {
	fake := twiliotest.New(t)
	base := fake.URL
	fake.Close()
	c := NewSMSClient(SMSConfig{AccountSID: accountSID, AuthToken: "t", From: testFrom, BaseURL: base})
	pt.SendUnreachable(t, c.Send, testPhone)
}

func TestSendRefusesBeforeCalling(t *testing.T) {
	fake := twiliotest.New(t)
	ok := SMSConfig{AccountSID: accountSID, AuthToken: "t", From: testFrom, BaseURL: fake.URL}
	with := func(mod func(*SMSConfig)) SMSConfig { c := ok; mod(&c); return c }
	for _, tc := range []struct {
		label   string
		cfg     SMSConfig
		to, msg string
		status  string
		config  bool
	}{
		{"no account SID", with(func(c *SMSConfig) { c.AccountSID = "" }), testPhone, "hi", "NotConfigured", true},
		{"no auth token", with(func(c *SMSConfig) { c.AuthToken = " " }), testPhone, "hi", "NotConfigured", true},
		{"no sender", with(func(c *SMSConfig) { c.From = "" }), testPhone, "hi", "NotConfigured", true},
		{"two recipients", ok, testPhone + "," + testPhone, "hi", "InvalidPhoneNumber", false},
		{"no recipient", ok, " ", "hi", "InvalidPhoneNumber", false},
		{"empty message", ok, testPhone, " \n", "EmptyMessage", false},
		{"1601 characters", ok, testPhone, strings.Repeat("a", 1601), "BodyTooLong", false},
		{"1601 Nepali characters", ok, testPhone, strings.Repeat("न", 1601), "BodyTooLong", false},
	} {
		t.Run(tc.label, func(t *testing.T) {
			_, err := NewSMSClient(tc.cfg).Send(context.Background(), tc.to, tc.msg)
			se := pt.RefusedLocally(t, err, tc.status, tc.config)
			if strings.Contains(se.Reason, testPhone) {
				t.Errorf("reason carries the whole phone number: %q", se.Reason)
			}
		})
	}
	if fake.Count() != 0 {
		t.Errorf("%d requests reached the API", fake.Count())
	}
	// 1600 characters, in bytes far more, is still one message.
	if _, err := NewSMSClient(ok).Send(context.Background(), testPhone, strings.Repeat("न", 1600)); err != nil {
		t.Errorf("1600 characters refused: %v", err)
	}
}

func TestSendConfigured(t *testing.T) {
	for _, tc := range []struct {
		cfg  SMSConfig
		want bool
	}{
		{SMSConfig{AccountSID: accountSID, AuthToken: "t", From: testFrom}, true},
		{SMSConfig{AccountSID: accountSID, AuthToken: "t", From: testService}, true},
		{SMSConfig{AccountSID: accountSID, AuthToken: "t"}, false},
		{SMSConfig{AuthToken: "t", From: testFrom}, false},
		{SMSConfig{}, false},
	} {
		if got := NewSMSClient(tc.cfg).Configured(); got != tc.want {
			t.Errorf("%+v: Configured %v, want %v", tc.cfg, got, tc.want)
		}
	}
	c := NewSMSClient(SMSConfig{AccountSID: accountSID})
	if want := "https://api.twilio.com/2010-04-01/Accounts/" + accountSID + "/Messages.json"; c.Endpoint() != want {
		t.Errorf("endpoint %s, want %s", c.Endpoint(), want)
	}
}

// The fake refuses other credentials as Twilio does: the client reports a
// configuration error, loudly, and the message is not retried.
func TestSendWrongCredentials(t *testing.T) {
	fake := twiliotest.New(t)
	fake.RequireAuth(accountSID, testToken)
	_, err := newTestClient(fake, func(c *SMSConfig) { c.AuthToken = "stale" }).Send(context.Background(), testPhone, "hi")
	var se *providers.SendError
	if !errors.As(err, &se) || !se.Config || se.Retryable || se.Code != 20003 {
		t.Fatalf("err %+v, want a configuration error", err)
	}
}

// Twilio's errors quote the request's path, which names the account, and a
// proxy's page may quote anything: whatever comes back, and however the
// request fails, the error Send returns carries neither the account SID nor
// the auth token (nor the whole recipient's number).
func TestSendErrorsCarryNoSecrets(t *testing.T) {
	path := twiliotest.MessagesPath(accountSID)
	echo := "POST " + path + " as " + accountSID + ":" + testToken + " To=" + testPhone
	for _, tc := range []struct {
		label  string
		answer twiliotest.Response
	}{
		{"404 naming the account", twiliotest.Error(404, 20404, "The requested resource "+path+" was not found")},
		{"401 quoting the credentials", twiliotest.Response{Status: 401, ContentType: "text/plain", Body: echo}},
		{"400 quoting them", twiliotest.Error(400, 21211, "Invalid 'To' Phone Number for "+echo)},
		{"429 quoting them", twiliotest.Error(429, 20429, "Too many requests: "+echo)},
		{"500 page", twiliotest.Response{Status: 500, ContentType: "text/html", Body: "<h1>Internal Server Error</h1><pre>" + echo + "</pre>"}},
		{"503 JSON", twiliotest.Error(503, 20503, "Service unavailable: "+echo)},
		{"redirect", twiliotest.Response{Status: 307, Header: map[string]string{"Location": "https://elsewhere.example" + path}}},
		{"undecodable 201", twiliotest.Response{Status: 201, ContentType: "text/html", Body: echo}},
		{"201 already failed", twiliotest.Created(twiliotest.Message{SID: "SMdead", Status: "failed", AccountSID: accountSID,
			ErrorCode: new(30007), ErrorMessage: new("Message filtered: " + echo)})},
		{"connection closed after the request", twiliotest.Hangup()},
		{"no answer in time", twiliotest.Slow(twiliotest.Error(500, 20500, echo), 5*time.Second)},
	} {
		t.Run(tc.label, func(t *testing.T) {
			fake := twiliotest.New(t)
			fake.Enqueue(tc.answer)
			_, err := newTestClient(fake, func(c *SMSConfig) { c.Timeout = 200 * time.Millisecond }).Send(context.Background(), testPhone, "hello")
			if err == nil {
				t.Fatal("sent")
			}
			pt.NoSecrets(t, err, accountSID, testToken, testPhone)
		})
	}
	t.Run("nothing listening", func(t *testing.T) {
		fake := twiliotest.New(t)
		fake.Close()
		_, err := newTestClient(fake, nil).Send(context.Background(), testPhone, "hello")
		if err == nil {
			t.Fatal("sent")
		}
		pt.NoSecrets(t, err, accountSID, testToken)
	})
}

// Whatever Twilio (or a proxy in front of it) answers, the decoders neither
// panic nor call a message both retryable and maybe sent, nor leak a phone
// number into the reason.
func FuzzSendOutcome(f *testing.F) {
	req := twiliotest.Request{AccountSID: accountSID, Form: url.Values{"To": {testPhone}, "From": {testFrom}, "Body": {"hi"}}}
	for _, r := range []twiliotest.Response{
		twiliotest.Accepted(req, "SM1"), twiliotest.InvalidTo(testPhone), twiliotest.Unsubscribed(),
		twiliotest.Unauthorized(), twiliotest.Throttled(1), twiliotest.Malformed(), twiliotest.BadGateway(),
	} {
		f.Add(r.Status, []byte(r.Body))
	}
	f.Add(201, []byte(`{"sid":"SM1","num_segments":"x"}`))
	f.Add(400, []byte(`{"code":"21211","message":null}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		var err error
		if status >= 200 && status < 300 {
			var res providers.SendResult
			res, err = created(body, status)
			if err == nil {
				if res.MessageID == "" || res.Parts < 0 {
					t.Errorf("accepted %+v", res)
				}
				return
			}
		} else {
			err = refused(status, "", body)
		}
		var se *providers.SendError
		if !errors.As(err, &se) {
			t.Fatalf("%T %v", err, err)
		}
		if se.Retryable && se.MaybeSent || se.Status == "" || len(se.Reason) > 2*maxReason || strings.Contains(se.Reason, testPhone) {
			t.Errorf("classified %+v", se)
		}
	})
}
