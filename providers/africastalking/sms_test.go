package africastalking

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/menus/gsm7"
	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/africastalking/attest"
	pt "github.com/openimis/imis-gateway/providers/internal/providertest"
)

const testPhone = "+255712345678"

func newTestClient(fake *attest.Server, mod func(*SMSConfig)) *SMSClient {
	cfg := SMSConfig{Username: "imis", APIKey: "k3y", SenderID: "OPENIMIS", BaseURL: fake.URL}
	if mod != nil {
		mod(&cfg)
	}
	return NewSMSClient(cfg)
}

func TestSendAccepted(t *testing.T) {
	fake := attest.New(t)
	c := newTestClient(fake, nil)
	res, err := c.Send(context.Background(), testPhone, "Policy renewed: 01/02/2026 - 31/01/2027. Active.")
	if err != nil {
		t.Fatal(err)
	}
	want := providers.SendResult{MessageID: attest.MessageID(1), Status: "Success", StatusCode: 101, Number: testPhone,
		Cost: "KES 0.8000", Parts: 1}
	if res != want {
		t.Errorf("result\n got %+v\nwant %+v", res, want)
	}

	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/version1/messaging" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
	pt.Sent{
		Header: map[string]string{
			"Apikey":       "k3y",
			"Accept":       "application/json",
			"Content-Type": "application/x-www-form-urlencoded",
		},
		Form: url.Values{
			"username":    {"imis"},
			"to":          {testPhone},
			"message":     {"Policy renewed: 01/02/2026 - 31/01/2027. Active."},
			"from":        {"OPENIMIS"},
			"bulkSMSMode": {"1"},
		},
		PlusEncoded: "to=%2B255712345678",
	}.Check(t, r.Header, r.Form, r.Body)
}

func TestSendWithoutSenderIDOmitsFrom(t *testing.T) {
	fake := attest.New(t)
	c := newTestClient(fake, func(c *SMSConfig) { c.SenderID = "" })
	if _, err := c.Send(context.Background(), testPhone, "hi"); err != nil {
		t.Fatal(err)
	}
	if _, ok := fake.Requests()[0].Form["from"]; ok {
		t.Errorf("from sent without a sender id: %s", fake.Requests()[0].Body)
	}
}

// Each row is an answer the fake API gives and how Send must classify it.
func TestSendClassifiesFailures(t *testing.T) {
	for _, tc := range []struct {
		label     string
		answer    attest.Response
		retryable bool
		maybeSent bool
		throttled bool
		config    bool
		status    string
		code      int
		reason    string
	}{
		{label: "403 InvalidPhoneNumber", answer: attest.RecipientFailure(testPhone, 403, "InvalidPhoneNumber"),
			status: "InvalidPhoneNumber", code: 403, reason: "403 InvalidPhoneNumber"},
		{label: "409 DoNotDisturbRejection", answer: attest.RecipientFailure(testPhone, 409, "DoNotDisturbRejection"),
			status: "DoNotDisturbRejection", code: 409},
		{label: "405 InsufficientBalance", answer: attest.RecipientFailure(testPhone, 405, "InsufficientBalance"),
			status: "InsufficientBalance", code: 405},
		{label: "500 InternalServerError", answer: attest.RecipientFailure(testPhone, 500, "InternalServerError"),
			retryable: true, status: "InternalServerError", code: 500},
		{label: "501 GatewayError", answer: attest.RecipientFailure(testPhone, 501, "GatewayError"),
			retryable: true, status: "GatewayError", code: 501},
		{label: "unknown code without status text", answer: attest.RecipientFailure(testPhone, 777, ""),
			status: "statusCode 777", code: 777},
		{label: "InvalidSenderId, no recipients", answer: attest.InvalidSenderID(),
			status: "InvalidSenderId", reason: "no recipient accepted"},
		{label: "no recipients, a sentence", answer: attest.SendAnswer(201, "Sent to 0/1 Total Cost: 0"),
			status: "NoRecipients", reason: "Sent to 0/1 Total Cost: 0"},
		{label: "plain-text 401", answer: attest.Unauthorized(),
			config: true, status: "Unauthorized", reason: "The supplied authentication is invalid"},
		{label: "429", answer: attest.Throttled(30), retryable: true, throttled: true, status: "HTTP 429"},
		{label: "500 HTML", answer: attest.ServerError(), retryable: true, status: "HTTP 500", reason: "500 Internal Server Error"},
		{label: "503 empty", answer: attest.Response{Status: 503}, retryable: true, status: "HTTP 503", reason: "Service Unavailable"},
		{label: "400", answer: attest.Response{Status: 400, ContentType: "text/plain", Body: "Invalid message"},
			status: "HTTP 400", reason: "Invalid message"},
		{label: "redirect", answer: attest.Response{Status: 301, Header: map[string]string{"Location": "https://elsewhere/"}},
			config: true, status: "HTTP 301", reason: "redirects"},
		{label: "malformed JSON in a 201", answer: attest.Malformed(), maybeSent: true, status: "MalformedResponse"},
		{label: "XML in a 201", answer: attest.Response{Status: 201, ContentType: "application/xml",
			Body: "<AfricasTalkingResponse><SMSMessageData/></AfricasTalkingResponse>"}, maybeSent: true, status: "MalformedResponse"},
		{label: "connection closed after the request", answer: attest.Response{Hangup: true},
			maybeSent: true, status: "NetworkError"},
	} {
		t.Run(tc.label, func(t *testing.T) {
			fake := attest.New(t)
			se, _ := pt.SendRefused(t, fake, tc.answer, newTestClient(fake, nil).Send, testPhone, "hello")
			pt.CheckSendError(t, se, se.StatusCode, pt.SendWant{Retryable: tc.retryable, MaybeSent: tc.maybeSent,
				Throttled: tc.throttled, Config: tc.config, Status: tc.status, Code: tc.code, Reason: tc.reason})
		})
	}
}

func TestSendThrottledRetryAfter(t *testing.T) {
	fake := attest.New(t)
	fake.Enqueue(attest.Throttled(42))
	_, err := newTestClient(fake, nil).Send(context.Background(), testPhone, "hello")
	var se *providers.SendError
	if !errors.As(err, &se) || se.RetryAfter != 42*time.Second {
		t.Fatalf("err %v, want RetryAfter 42s", err)
	}
}

// A timeout after the request reached AT may mean it was sent: MaybeSent,
// never Retryable.
func TestSendTimeoutAfterRequestIsMaybeSent(t *testing.T) {
	fake := attest.New(t)
	fake.Enqueue(attest.Slow(testPhone, "ATXid_late", 5*time.Second))
	c := newTestClient(fake, func(c *SMSConfig) { c.Timeout = 100 * time.Millisecond })
	pt.SendTimesOut(t, c.Send, 100*time.Millisecond, testPhone)
}

// A caller's deadline counts too.
func TestSendCallerDeadlineAfterRequestIsMaybeSent(t *testing.T) {
	fake := attest.New(t)
	fake.Enqueue(attest.Slow(testPhone, "ATXid_late", 5*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := newTestClient(fake, nil).Send(ctx, testPhone, "hello")
	var se *providers.SendError
	if !errors.As(err, &se) || !se.MaybeSent {
		t.Fatalf("err %+v, want MaybeSent", err)
	}
}

// Nothing listening: the request never left, so it is safe to retry.
func TestSendConnectionRefusedIsRetryable(t *testing.T) {
	fake := attest.New(t)
	base := fake.URL
	fake.Close()
	c := NewSMSClient(SMSConfig{Username: "imis", APIKey: "k", BaseURL: base})
	pt.SendUnreachable(t, c.Send, testPhone)
}

// AT's key travels in a header, but an answer may quote it (a proxy's page,
// a debugging echo): whatever comes back, and however the request fails, the
// error Send returns carries neither the API key nor the whole recipient's
// number.
func TestSendErrorsCarryNoSecrets(t *testing.T) {
	const apiKey = "atsk_3f9c2e71b04d4a8e9d5f60c1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
	echo := "apiKey=" + apiKey + " to=" + testPhone
	for _, tc := range []struct {
		label  string
		answer attest.Response
	}{
		{"plain-text 401 quoting the key", attest.Response{Status: 401, ContentType: "text/plain", Body: "Invalid " + echo}},
		{"400 quoting it", attest.Response{Status: 400, ContentType: "text/plain", Body: echo}},
		{"429 quoting it", attest.Response{Status: 429, ContentType: "text/plain", Body: echo}},
		{"500 page", attest.Response{Status: 500, ContentType: "text/html", Body: "<h1>500</h1><pre>" + echo + "</pre>"}},
		{"redirect", attest.Response{Status: 302, Header: map[string]string{"Location": "https://elsewhere.example/?" + echo}}},
		{"no recipients, a summary quoting it", attest.SendAnswer(201, "Rejected "+echo)},
		{"undecodable 201", attest.Response{Status: 201, ContentType: "text/html", Body: echo}},
		{"connection closed after the request", attest.Response{Hangup: true}},
		{"no answer in time", attest.Slow(testPhone, "ATXid_late", 5*time.Second)},
	} {
		t.Run(tc.label, func(t *testing.T) {
			fake := attest.New(t)
			fake.Enqueue(tc.answer)
			c := newTestClient(fake, func(c *SMSConfig) { c.APIKey, c.Timeout = apiKey, 200*time.Millisecond })
			_, err := c.Send(context.Background(), testPhone, "hello")
			if err == nil {
				t.Fatal("sent")
			}
			pt.NoSecrets(t, err, apiKey, testPhone)
		})
	}
	t.Run("nothing listening", func(t *testing.T) {
		fake := attest.New(t)
		fake.Close()
		_, err := newTestClient(fake, func(c *SMSConfig) { c.APIKey = apiKey }).Send(context.Background(), testPhone, "hello")
		if err == nil {
			t.Fatal("sent")
		}
		pt.NoSecrets(t, err, apiKey, testPhone)
	})
	t.Run("two recipients", func(t *testing.T) {
		_, err := newTestClient(attest.New(t), nil).Send(context.Background(), testPhone+","+testPhone, "hello")
		pt.NoSecrets(t, pt.RefusedLocally(t, err, "InvalidPhoneNumber", false), testPhone)
	})
}

func TestSendRefusesBeforeCalling(t *testing.T) {
	fake := attest.New(t)
	for _, tc := range []struct {
		label   string
		cfg     SMSConfig
		to, msg string
		status  string
		config  bool
	}{
		{"no username", SMSConfig{APIKey: "k", BaseURL: fake.URL}, testPhone, "hi", "NotConfigured", true},
		{"no key", SMSConfig{Username: "u", BaseURL: fake.URL}, testPhone, "hi", "NotConfigured", true},
		{"two recipients", SMSConfig{Username: "u", APIKey: "k", BaseURL: fake.URL}, testPhone + "," + testPhone, "hi", "InvalidPhoneNumber", false},
		{"no recipient", SMSConfig{Username: "u", APIKey: "k", BaseURL: fake.URL}, " ", "hi", "InvalidPhoneNumber", false},
		{"empty message", SMSConfig{Username: "u", APIKey: "k", BaseURL: fake.URL}, testPhone, " \n", "EmptyMessage", false},
	} {
		t.Run(tc.label, func(t *testing.T) {
			_, err := NewSMSClient(tc.cfg).Send(context.Background(), tc.to, tc.msg)
			pt.RefusedLocally(t, err, tc.status, tc.config)
		})
	}
	if fake.Count() != 0 {
		t.Errorf("%d requests reached the API", fake.Count())
	}
}

// rewrite sends every request to the fake and remembers the URL the client
// meant to reach.
type rewrite struct {
	to    *url.URL
	hosts []string
}

func (rw *rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	rw.hosts = append(rw.hosts, r.URL.Scheme+"://"+r.URL.Host+r.URL.Path)
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host = rw.to.Scheme, rw.to.Host
	return http.DefaultTransport.RoundTrip(r)
}

func TestSendHostSelection(t *testing.T) {
	fake := attest.New(t)
	target, _ := url.Parse(fake.URL)
	for _, tc := range []struct {
		username, base, want string
	}{
		{"sandbox", "", "https://api.sandbox.africastalking.com/version1/messaging"},
		{"imis-tz", "", "https://api.africastalking.com/version1/messaging"},
		{"sandbox", "https://api.example.test/", "https://api.example.test/version1/messaging"},
	} {
		rw := &rewrite{to: target}
		c := NewSMSClient(SMSConfig{Username: tc.username, APIKey: "k", BaseURL: tc.base, HTTPClient: &http.Client{Transport: rw}})
		if c.Endpoint() != tc.want {
			t.Errorf("%s %q: endpoint %s, want %s", tc.username, tc.base, c.Endpoint(), tc.want)
		}
		if _, err := c.Send(context.Background(), testPhone, "hi"); err != nil {
			t.Fatal(err)
		}
		if len(rw.hosts) != 1 || rw.hosts[0] != tc.want {
			t.Errorf("%s %q: requested %v, want %s", tc.username, tc.base, rw.hosts, tc.want)
		}
	}
	if got := fake.Requests()[0].Form.Get("username"); got != "sandbox" {
		t.Errorf("username %q", got)
	}
}

func TestSMSParts(t *testing.T) {
	for _, tc := range []struct {
		label string
		text  string
		parts int
	}{
		{"empty", "", 1},
		{"160 GSM-7", strings.Repeat("a", 160), 1},
		{"161 GSM-7", strings.Repeat("a", 161), 2},
		{"306 GSM-7", strings.Repeat("a", 306), 2},
		{"307 GSM-7", strings.Repeat("a", 307), 3},
		{"80 extension chars = 160 septets", strings.Repeat("€", 80), 1},
		{"escape pair never split", strings.Repeat("a", 152) + "{" + strings.Repeat("a", 10), 2},
		{"escape pair pushed to the next part", strings.Repeat("a", 152) + "{" + strings.Repeat("a", 152), 3},
		{"GSM-7 accents", "Karibu, sera imesasishwa: è é ù ì ò Ç Ø å Ä Ö Ñ Ü ß", 1},
		{"one curly quote makes UCS-2", strings.Repeat("a", 70) + "’", 2},
		{"70 UCS-2", strings.Repeat("ê", 70), 1},
		{"Nepali 150 characters", strings.Repeat("न", 150), 3},
		{"134 UCS-2", strings.Repeat("ê", 134), 2},
		{"surrogate pairs", strings.Repeat("😀", 35), 1},
		{"surrogate pair never split", strings.Repeat("ê", 66) + "😀" + strings.Repeat("ê", 66), 3},
	} {
		if _, _, got := gsm7.Parts(tc.text); got != tc.parts {
			t.Errorf("%s: %d parts, want %d", tc.label, got, tc.parts)
		}
	}
}

func TestSendCountsParts(t *testing.T) {
	fake := attest.New(t)
	res, err := newTestClient(fake, nil).Send(context.Background(), testPhone, strings.Repeat("x", 200))
	if err != nil || res.Parts != 2 {
		t.Fatalf("parts %d, err %v", res.Parts, err)
	}
}

// Whatever AT (or a proxy in front of it) answers, the decoder neither
// panics nor calls a message both retryable and maybe sent.
func FuzzRecipientOutcome(f *testing.F) {
	for _, r := range []attest.Response{
		attest.Accepted(testPhone, "ATXid_1"), attest.RecipientFailure(testPhone, 403, "InvalidPhoneNumber"),
		attest.RecipientFailure(testPhone, 500, "InternalServerError"), attest.InvalidSenderID(), attest.Malformed(),
	} {
		f.Add([]byte(r.Body))
	}
	f.Add([]byte(`{"SMSMessageData":{"Recipients":[{"statusCode":"101","status":"Success","messageId":"x"}]}}`))
	f.Add([]byte(`{"smsmessagedata":{"recipients":[{"statusCode":null}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := recipientOutcome(body, http.StatusCreated)
		if err == nil {
			if res.StatusCode != 0 && (res.StatusCode < codeProcessed || res.StatusCode > codeQueued) {
				t.Errorf("accepted with statusCode %d", res.StatusCode)
			}
			return
		}
		var se *providers.SendError
		if !errors.As(err, &se) {
			t.Fatalf("%T %v", err, err)
		}
		if se.Retryable && se.MaybeSent || se.Status == "" || len(se.Reason) > 2*maxReason {
			t.Errorf("classified %+v", se)
		}
	})
}
