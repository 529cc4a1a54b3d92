package gateway_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/gateway"
	"github.com/openimis/imis-gateway/providers/twilio"
	"github.com/openimis/imis-gateway/providers/twilio/twiliotest"
)

const (
	twAccount = "AC0123456789abcdef0123456789abcdef"
	twToken   = "twilio-auth-token"
	twFrom    = "+14155550100"
	twPhone   = "+255712345678"
	// twEmptyTwiML is what the inbound webhook must answer.
	twEmptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response/>`
)

func twClient(fake *twiliotest.Server, callback string) *twilio.SMSClient {
	return twilio.NewSMSClient(twilio.SMSConfig{AccountSID: twAccount, AuthToken: twToken, From: twFrom,
		StatusCallback: callback, BaseURL: fake.URL})
}

func twSenders(c *twilio.SMSClient) map[string]gateway.Sender {
	return map[string]gateway.Sender{twilio.Name: c}
}

// twInboundForm is an inbound webhook as Twilio posts it.
func twInboundForm(sid, from, text string) url.Values {
	return url.Values{
		"ToCountry": {"US"}, "SmsMessageSid": {sid}, "NumMedia": {"0"}, "SmsSid": {sid}, "SmsStatus": {"received"},
		"Body": {text}, "FromCountry": {"TZ"}, "To": {twFrom}, "NumSegments": {"1"}, "MessageSid": {sid},
		"AccountSid": {twAccount}, "From": {from}, "ApiVersion": {"2010-04-01"},
	}
}

func twStatusForm(sid, status, errorCode string) url.Values {
	v := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "MessageStatus": {status}, "SmsStatus": {status},
		"AccountSid": {twAccount}, "From": {twFrom}, "To": {twPhone}, "ApiVersion": {"2010-04-01"}}
	if errorCode != "" {
		v.Set("ErrorCode", errorCode)
	}
	return v
}

type twAnswer struct {
	status int
	header http.Header
	body   string
}

// twPost posts form to base+path signed as Twilio signs it with token (no
// signature when token is ""), after tamper has had its way with the body.
func twPost(t *testing.T, base, path, token string, form url.Values, tamper func(string) string) twAnswer {
	t.Helper()
	body := form.Encode()
	if tamper != nil {
		body = tamper(body)
	}
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if token != "" {
		req.Header.Set(twilio.SignatureHeader, twilio.Sign(token, base+path, form))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return twAnswer{resp.StatusCode, resp.Header, string(b)}
}

// The outbox sends queued Twilio messages through the client and records
// each outcome: sent with Twilio's SID, refused for good (STOP), and unknown
// when Twilio may have taken it without answering.
func TestTwilioOutboxWorkerSends(t *testing.T) {
	s := smsStore(t)
	fake := twiliotest.New(t)
	fake.RequireAuth(twAccount, twToken)
	fake.Respond(func(r twiliotest.Request) twiliotest.Response {
		switch r.Form.Get("To") {
		case "+255712345002":
			return twiliotest.Unsubscribed()
		case "+255712345003":
			return twiliotest.Hangup()
		}
		return twiliotest.Accepted(r, "SMaccepted0000000000000000000001")
	})
	sent := smsEnqueue(t, s, twilio.Name, "+255712345001", "Renewal recorded: active until 31/01/2027")
	stop := smsEnqueue(t, s, twilio.Name, "+255712345002", "Renewal recorded")
	lost := smsEnqueue(t, s, twilio.Name, "+255712345003", "Renewal recorded")
	const callback = "https://gw.example.org/sms/twilio/tok/status"
	var logs smsLogBuffer
	w := gateway.NewOutboxWorker(s, twSenders(twClient(fake, callback)), smsFastOutbox(), logs.logger())
	smsRun(t, w.Run)
	smsEventually(t, "sent", smsStatusIs(t, s, sent, "sent"))
	smsEventually(t, "failed", smsStatusIs(t, s, stop, "failed"))
	smsEventually(t, "unknown", smsStatusIs(t, s, lost, "unknown"))

	if row := smsOutboxRow(t, s, sent); row.MessageID != "SMaccepted0000000000000000000001" || row.ProviderStatus != "queued" ||
		row.Parts != 1 || row.Attempts != 1 {
		t.Errorf("sent row %+v", row)
	}
	if row := smsOutboxRow(t, s, stop); row.ProviderStatus != "21610" || !strings.Contains(row.Reason, "unsubscribed") || row.Attempts != 1 {
		t.Errorf("STOP row %+v", row)
	}
	if row := smsOutboxRow(t, s, lost); !strings.Contains(row.Reason, "not resent") {
		t.Errorf("lost row %+v", row)
	}
	time.Sleep(50 * time.Millisecond) // a few polls: nothing is resent
	reqs := fake.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for _, r := range reqs {
		if r.User != twAccount || r.Password != twToken || r.Form.Get("From") != twFrom || r.Form.Get("StatusCallback") != callback {
			t.Errorf("request %s %s: %s", r.User, r.Path, r.Form.Encode())
		}
	}
	if out := logs.String(); strings.Contains(out, "+255712345002") || !strings.Contains(out, "21610") {
		t.Errorf("log does not mask phones or misses the STOP code:\n%s", out)
	}
}

// A client without credentials is not sent through: its messages wait.
func TestTwilioSenderUnconfiguredLeavesMessagesQueued(t *testing.T) {
	s := smsStore(t)
	fake := twiliotest.New(t)
	id := smsEnqueue(t, s, twilio.Name, twPhone, "Renewal recorded")
	c := twilio.NewSMSClient(twilio.SMSConfig{AccountSID: twAccount, BaseURL: fake.URL})
	w := gateway.NewOutboxWorker(s, twSenders(c), smsFastOutbox(), nil)
	smsRun(t, w.Run)
	time.Sleep(100 * time.Millisecond)
	if row := smsOutboxRow(t, s, id); row.Status != "queued" || fake.Count() != 0 {
		t.Errorf("row %+v after %d requests", row, fake.Count())
	}
}

func TestTwilioSignatureMiddleware(t *testing.T) {
	var passed atomic.Int32
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The body is still there for the parser.
		if m, err := twilio.Provider.SMS.ParseInbound(r); err != nil || m.Text != "CHECK 12345678" {
			t.Errorf("after the check: %+v %v", m, err)
		}
		passed.Add(1)
		w.WriteHeader(http.StatusOK)
	})
	var logs smsLogBuffer
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := gateway.RequireSignature(twilio.Name, twilio.Signature(twToken, srv.URL), logs.logger())(next)
		http.MaxBytesHandler(h, 4<<10).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	const path = "/sms/twilio/tok/inbound"
	form := twInboundForm("SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33", twPhone, "CHECK 12345678")

	for _, tc := range []struct {
		label  string
		token  string
		path   string
		tamper func(string) string
		status int
	}{
		{label: "valid", token: twToken, path: path, status: 200},
		{label: "valid, query string signed too", token: twToken, path: path + "?x=1", status: 200},
		{label: "missing signature", path: path, status: 403},
		{label: "signed with another token", token: "not-the-token", path: path, status: 403},
		{label: "body tampered", token: twToken, path: path, status: 403,
			tamper: func(b string) string { return strings.Replace(b, "CHECK", "RENEW", 1) }},
		{label: "parameter added", token: twToken, path: path, status: 403,
			tamper: func(b string) string { return b + "&Extra=1" }},
		{label: "body too large to check", token: twToken, path: path, status: 413,
			tamper: func(b string) string { return b + "&Pad=" + strings.Repeat("x", 8<<10) }},
	} {
		t.Run(tc.label, func(t *testing.T) {
			before := passed.Load()
			a := twPost(t, srv.URL, tc.path, tc.token, form, tc.tamper)
			if a.status != tc.status {
				t.Fatalf("status %d, want %d", a.status, tc.status)
			}
			if got := passed.Load() - before; (tc.status == 200) != (got == 1) {
				t.Errorf("handler ran %d times", got)
			}
			if tc.status == 403 && a.body != "" {
				t.Errorf("403 with a body: %q", a.body)
			}
		})
	}
	out := logs.String()
	if !strings.Contains(out, "bad signature") || strings.Contains(out, twPhone) || strings.Contains(out, "/sms/twilio/tok") {
		t.Errorf("log:\n%s", out)
	}

	// Signed for the public URL, not the address the gateway listens on:
	// behind a TLS terminator the two differ.
	public := httptest.NewServer(gateway.RequireSignature(twilio.Name, twilio.Signature(twToken, "https://gw.example.org"), nil)(next))
	t.Cleanup(public.Close)
	req, _ := http.NewRequest(http.MethodPost, public.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(twilio.SignatureHeader, twilio.Sign(twToken, "https://gw.example.org"+path, form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("signed for the public URL: %d", resp.StatusCode)
	}
}

// An unconfigured middleware refuses everything, and says why at once.
func TestTwilioSignatureMiddlewareUnconfigured(t *testing.T) {
	var logs smsLogBuffer
	h := gateway.RequireSignature(twilio.Name, twilio.Signature("", "gw.example.org"), logs.logger())(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("handler ran")
	}))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	if a := twPost(t, srv.URL, "/sms/twilio/tok/inbound", "", twInboundForm("SM1", twPhone, "HELP"), nil); a.status != 403 {
		t.Errorf("status %d", a.status)
	}
	if !strings.Contains(logs.String(), "cannot be verified") {
		t.Errorf("log:\n%s", logs.String())
	}
}

// Twilio posts a signed message: 200 with empty TwiML, one row; it posts it
// again: the same answer, still one row, processed once; the processor's
// reply leaves through Twilio.
func TestTwilioInboundEndToEnd(t *testing.T) {
	s := smsStore(t)
	fake := twiliotest.New(t)
	var calls atomic.Int32
	proc := gateway.NewInboundProcessor(s, smsReplyHook(&calls, nil), smsFastInbound(), nil)
	worker := gateway.NewOutboxWorker(s, twSenders(twClient(fake, "")), smsFastOutbox(), nil)
	var wakes atomic.Int32
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("POST /sms/twilio/tok/inbound", func(w http.ResponseWriter, r *http.Request) {
		h := gateway.NewInboundSMSHandler(twilio.Provider.SMS, s, func() { wakes.Add(1); proc.Notify() }, nil)
		gateway.RequireSignature(twilio.Name, twilio.Signature(twToken, srv.URL), nil)(h).ServeHTTP(w, r)
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	smsRun(t, proc.Run)
	smsRun(t, worker.Run)

	const sid = "SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33"
	before := time.Now()
	for i := range 2 {
		a := twPost(t, srv.URL, "/sms/twilio/tok/inbound", twToken, twInboundForm(sid, twPhone, "CHECK 12345678"), nil)
		if a.status != 200 || a.body != twEmptyTwiML || a.header.Get("Content-Type") != twilio.ContentType {
			t.Fatalf("post %d: %d %q %q", i+1, a.status, a.header.Get("Content-Type"), a.body)
		}
	}
	smsEventually(t, "the reply sent", func() bool {
		return smsCount(t, s, `SELECT count(*) FROM imis_gateway.outbox WHERE provider = 'twilio' AND status = 'sent'`) == 1
	})

	var n int
	var sender, body, status string
	var received time.Time
	err := s.Pool().QueryRow(context.Background(), `
		SELECT count(*) OVER (), sender, body, status, provider_received_at FROM imis_gateway.inbound_sms
		WHERE provider = 'twilio' AND message_id = $1`, sid).Scan(&n, &sender, &body, &status, &received)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || sender != twPhone || body != "CHECK 12345678" || status != "processed" {
		t.Errorf("%d rows; %s %q %s", n, sender, body, status)
	}
	if received.Before(before.Add(-time.Second)) || received.After(time.Now().Add(time.Second)) {
		t.Errorf("received %v, want the arrival", received)
	}
	if total := smsCount(t, s, `SELECT count(*) FROM imis_gateway.inbound_sms`); total != 1 || calls.Load() != 1 || wakes.Load() != 1 {
		t.Errorf("%d rows, handler called %d times, woken %d times; want 1 each", total, calls.Load(), wakes.Load())
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || reqs[0].Form.Get("To") != twPhone || reqs[0].Form.Get("Body") != "You sent: CHECK 12345678" {
		t.Errorf("sent %+v", reqs)
	}

	// Errors keep their status and are not dressed as TwiML.
	if a := twPost(t, srv.URL, "/sms/twilio/tok/inbound", twToken, url.Values{"MessageSid": {"SM2"}, "AccountSid": {twAccount}}, nil); a.status != 400 {
		t.Errorf("signed but malformed: %d %q", a.status, a.body)
	}
	down := httptest.NewServer(gateway.NewInboundSMSHandler(twilio.Provider.SMS, smsDownStore{}, nil, nil))
	t.Cleanup(down.Close)
	if a := twPost(t, down.URL, "/", "", twInboundForm("SM3", twPhone, "HELP"), nil); a.status != 503 || strings.Contains(a.body, "Response") {
		t.Errorf("database down: %d %q", a.status, a.body)
	}
}

// Every MessageStatus Twilio sends, signed, through the delivery-report
// handler: mapped onto the outbox, the raw status kept.
func TestTwilioDeliveryReports(t *testing.T) {
	s := smsStore(t)
	fake := twiliotest.New(t)
	var n atomic.Int32
	fake.Respond(func(r twiliotest.Request) twiliotest.Response {
		return twiliotest.Accepted(r, twiliotest.MessageSID(int(n.Add(1))))
	})
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := gateway.NewDeliveryReportHandler(twilio.Provider.SMS, s, nil)
		gateway.RequireSignature(twilio.Name, twilio.Signature(twToken, srv.URL), nil)(h).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	w := gateway.NewOutboxWorker(s, twSenders(twClient(fake, srv.URL+"/status")), smsFastOutbox(), nil)
	smsRun(t, w.Run)

	for _, tc := range []struct{ raw, code, status, reason string }{
		{"queued", "", "sent", ""},
		{"sending", "", "sent", ""},
		{"sent", "", "sent", ""},
		{"delivered", "", "delivered", ""},
		{"undelivered", "30003", "failed", "Twilio error 30003: unreachable destination handset"},
		{"failed", "30008", "failed", "Twilio error 30008: unknown error"},
		{"failed", "21610", "failed", "unsubscribed"},
		{"failed", "12345", "failed", "Twilio error 12345"},
		{"canceled", "", "failed", ""},
		{"read", "", "sent", ""}, // not ours to interpret: stored raw, message unchanged
	} {
		t.Run(tc.raw+tc.code, func(t *testing.T) {
			id := smsEnqueue(t, s, twilio.Name, twPhone, "Renewal recorded "+tc.raw+tc.code)
			smsEventually(t, "sent", smsStatusIs(t, s, id, "sent"))
			sid := smsOutboxRow(t, s, id).MessageID
			if a := twPost(t, srv.URL, "/status", twToken, twStatusForm(sid, tc.raw, tc.code), nil); a.status != 200 {
				t.Fatalf("status %d", a.status)
			}
			row := smsOutboxRow(t, s, id)
			if row.Status != tc.status {
				t.Errorf("row %+v, want %s", row, tc.status)
			}
			if tc.reason != "" && !strings.Contains(row.Reason, tc.reason) {
				t.Errorf("reason %q, want %q", row.Reason, tc.reason)
			}
			if n := smsCount(t, s, `SELECT count(*) FROM imis_gateway.delivery_report WHERE provider = 'twilio'
				AND provider_message_id = $1 AND raw_status = $2`, sid, tc.raw); n != 1 {
				t.Errorf("%d stored reports", n)
			}
		})
	}
	// Unsigned reports are refused; reports for an unknown SID are kept.
	if a := twPost(t, srv.URL, "/status", "", twStatusForm("SMunknown", "delivered", ""), nil); a.status != 403 {
		t.Errorf("unsigned: %d", a.status)
	}
	if a := twPost(t, srv.URL, "/status", twToken, twStatusForm("SMunknown", "delivered", ""), nil); a.status != 200 {
		t.Errorf("unknown SID: %d", a.status)
	}
	if n := smsCount(t, s, `SELECT count(*) FROM imis_gateway.delivery_report WHERE provider_message_id = 'SMunknown'
		AND applied_at IS NULL`); n != 1 {
		t.Errorf("report for an unknown SID not kept")
	}
}
