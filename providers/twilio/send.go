package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// LiveAPIURL is the base URL of Twilio's REST API.
const LiveAPIURL = "https://api.twilio.com"

// DefaultSMSTimeout bounds one send, like the AT client's.
const DefaultSMSTimeout = 10 * time.Second

// MaxBodyChars is the longest Body Twilio takes (protocols.md §4.1); longer
// ones it refuses with error 21617.
const MaxBodyChars = 1600

const (
	// maxResponse caps what is read of an answer: a Message resource is
	// ~1 KB, an HTML error page a few KB.
	maxResponse = 64 << 10
	// maxReason caps provider text copied into errors, logs and the outbox.
	maxReason = 200
)

// SMSConfig configures an SMSClient: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN
// and TWILIO_FROM.
type SMSConfig struct {
	AccountSID string
	AuthToken  string
	// From is the sender: a Twilio number in E.164, a short code, an
	// alphanumeric sender ID, or a Messaging Service SID ("MG..."), which is
	// sent as MessagingServiceSid so that Twilio picks the number.
	From string
	// StatusCallback, when set, is the URL Twilio posts status callbacks
	// to for every message sent (the gateway's /sms/twilio/{token}/status).
	StatusCallback string
	// BaseURL defaults to LiveAPIURL; tests point it at twiliotest.
	BaseURL string
	// HTTPClient defaults to a client of its own; its redirect policy is
	// replaced (see NewSMSClient).
	HTTPClient *http.Client
	// Timeout bounds one Send on top of the caller's context; default
	// DefaultSMSTimeout.
	Timeout time.Duration
}

// SMSClient sends SMS through Twilio's Messages API: a form POST to
// {BaseURL}/2010-04-01/Accounts/{AccountSID}/Messages.json with HTTP Basic
// auth, one recipient per call. It is a few dozen lines of our own rather
// than twilio-go, which would bring a generated client for every Twilio
// product and classify no errors. Safe for concurrent use.
type SMSClient struct {
	accountSID, authToken string
	from, serviceSID      string
	statusCallback        string
	endpoint              string
	http                  *http.Client
	timeout               time.Duration
}

// NewSMSClient builds a client. It never fails: a client without an account
// SID, auth token or sender reports !Configured() and refuses to send.
func NewSMSClient(cfg SMSConfig) *SMSClient {
	base := strings.TrimSpace(cfg.BaseURL)
	if base == "" {
		base = LiveAPIURL
	}
	hc := http.Client{}
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	// A redirect would turn the POST into a GET without its form (net/http
	// follows 301-303 that way), so it is reported instead: it means the API
	// URL is wrong.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultSMSTimeout
	}
	c := &SMSClient{
		accountSID:     strings.TrimSpace(cfg.AccountSID),
		authToken:      strings.TrimSpace(cfg.AuthToken),
		statusCallback: strings.TrimSpace(cfg.StatusCallback),
		http:           &hc,
		timeout:        timeout,
	}
	if from := strings.TrimSpace(cfg.From); strings.HasPrefix(from, "MG") {
		c.serviceSID = from
	} else {
		c.from = from
	}
	c.endpoint = strings.TrimRight(base, "/") + "/2010-04-01/Accounts/" + url.PathEscape(c.accountSID) + "/Messages.json"
	return c
}

// Configured reports whether the client has an account SID, an auth token
// and a sender.
func (c *SMSClient) Configured() bool {
	return c.accountSID != "" && c.authToken != "" && (c.from != "" || c.serviceSID != "")
}

// Endpoint is the URL Send posts to.
func (c *SMSClient) Endpoint() string { return c.endpoint }

// SendResult is Twilio's answer for an accepted message.
type SendResult struct {
	MessageID string // the Message SID ("SM..."); status callbacks carry it as MessageSid
	// Status is the message's status as created: "queued", or "accepted"
	// when a Messaging Service has yet to pick the sender.
	Status string
	// Parts is num_segments, the segments Twilio bills; 0 when sent through
	// a Messaging Service, which counts them only once it picks the sender.
	Parts int
}

// SendError is a send that Twilio did not accept, classified for the outbox
// as the AT client's SendError is.
//
// At most one of Retryable and MaybeSent is set. Retryable: Twilio certainly
// did not create the message, try again later. MaybeSent: the request
// reached Twilio but no usable answer came back, so it may have been sent;
// resending could deliver it twice. Neither: a permanent refusal, final for
// this message.
type SendError struct {
	Retryable bool
	MaybeSent bool
	// Throttled: Twilio answered 429 (error 20429) or 21611 (the sender's
	// queue is full); the whole account should pause, not only this message.
	Throttled bool
	// Config: Twilio refused the credentials (401, 403), the account or API
	// URL (404, a redirect), or the sender or callback URL every message
	// uses. Every message will fail until the configuration is fixed;
	// callers should say so loudly.
	Config bool
	// RetryAfter is the Retry-After of a 429 or 5xx, zero if absent.
	RetryAfter time.Duration
	HTTPStatus int // 0 when no answer came back
	// Code is Twilio's error code (21211, 21610, ...), 0 when there was none.
	Code int
	// Status is the provider's status in one word: Twilio's error code
	// ("21610"), or "HTTP 500", "Timeout", "NetworkError", "BodyTooLong", ...
	Status string
	// Reason says what happened, for people reading logs and the outbox.
	// Phone numbers Twilio quotes in its messages are masked.
	Reason string
	Err    error // the transport error, if any
}

func (e *SendError) Error() string {
	kind := "permanent"
	switch {
	case e.Retryable:
		kind = "retryable"
	case e.MaybeSent:
		kind = "maybe sent"
	}
	return fmt.Sprintf("twilio send (%s): %s: %s", kind, e.Status, e.Reason)
}

func (e *SendError) Unwrap() error { return e.Err }

// Twilio error codes the client treats apart from their HTTP status. Twilio
// asks integrators not to branch on codes much, as it refines them, so every
// other code follows the HTTP status: 4xx is final for the message.
const (
	codeAuthenticate   = 20003 // bad account SID or auth token
	codeNotFound       = 20404 // no such account, or a wrong API URL
	codeTooManyReqs    = 20429
	codeRegionDisabled = 21408 // the To country is not enabled in geographic permissions
	codeInvalidFrom    = 21212
	codeBadCallback    = 21609 // StatusCallback is not a valid URL
	codeQueueFull      = 21611 // the sender's queue holds its maximum (hours of messages)
	codeFromNotCapable = 21606 // From is not an SMS-capable number of this account
	codeFromNotTwilio  = 21659
)

// configHints says what to fix for a code that fails every message.
var configHints = map[int]string{
	codeAuthenticate:   "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
	codeNotFound:       "check TWILIO_ACCOUNT_SID and the Twilio API URL",
	codeInvalidFrom:    "check TWILIO_FROM",
	codeFromNotCapable: "check TWILIO_FROM",
	codeFromNotTwilio:  "check TWILIO_FROM",
	codeRegionDisabled: "enable the destination country in Twilio's SMS geographic permissions",
	codeBadCallback:    "check the status callback URL (TWILIO_PUBLIC_URL)",
}

// Send sends body to one number. It returns a *SendError when Twilio does
// not accept the message, and never retries by itself.
//
// A 201 with the message's SID is a success. 429 (error 20429) and 21611
// are throttled and retryable, 5xx retryable, 401, 403, 404, a redirect and
// the codes in configHints configuration errors, any other 4xx permanent
// with Twilio's code as Status. A body over MaxBodyChars characters is
// refused without a request. A network failure before the request was fully
// written is retryable; a failure or timeout after it was written, or a 2xx
// that cannot be read, is MaybeSent.
func (c *SMSClient) Send(ctx context.Context, to, body string) (SendResult, error) {
	to = strings.TrimSpace(to)
	switch n := utf8.RuneCountInString(body); {
	case !c.Configured():
		return SendResult{}, &SendError{Config: true, Status: "NotConfigured",
			Reason: "no Twilio account SID, auth token or sender (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM)"}
	case to == "" || strings.ContainsFunc(to, func(r rune) bool { return r == ',' || unicode.IsSpace(r) || unicode.IsControl(r) }):
		return SendResult{}, &SendError{Status: "InvalidPhoneNumber", Reason: fmt.Sprintf("not one phone number: %q", clip(maskPhones(to)))}
	case strings.TrimSpace(body) == "":
		return SendResult{}, &SendError{Status: "EmptyMessage", Reason: "empty message"}
	case n > MaxBodyChars:
		return SendResult{}, &SendError{Status: "BodyTooLong",
			Reason: fmt.Sprintf("%d characters; Twilio takes at most %d (error 21617)", n, MaxBodyChars)}
	}

	form := url.Values{"To": {to}, "Body": {body}}
	if c.serviceSID != "" {
		form.Set("MessagingServiceSid", c.serviceSID)
	} else {
		form.Set("From", c.from)
	}
	if c.statusCallback != "" {
		form.Set("StatusCallback", c.statusCallback)
	}

	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// Whether the whole request left this process decides between "not
	// sent, retry" and "maybe sent": httptrace reports it.
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				wrote.Store(true)
			}
		},
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return SendResult{}, &SendError{Config: true, Status: "BadURL", Reason: "Twilio API URL: " + err.Error(), Err: err}
	}
	req.SetBasicAuth(c.accountSID, c.authToken)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", formType)

	resp, err := c.http.Do(req)
	if err != nil {
		return SendResult{}, transportError(ctx, err, wrote.Load())
	}
	defer resp.Body.Close()
	answer, readErr := io.ReadAll(io.LimitReader(resp.Body, maxResponse))

	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		if readErr != nil {
			e := transportError(ctx, readErr, true)
			e.HTTPStatus = code
			return SendResult{}, e
		}
		return created(answer, code)
	case code >= 300 && code < 400:
		return SendResult{}, &SendError{Config: true, HTTPStatus: code, Status: "HTTP " + strconv.Itoa(code),
			Reason: fmt.Sprintf("Twilio API URL redirects to %q; set it to the final https URL", clip(resp.Header.Get("Location")))}
	}
	return SendResult{}, refused(code, resp.Header.Get("Retry-After"), answer)
}

// transportError classifies a failure to get an answer: after the request
// was written Twilio may have acted on it.
func transportError(ctx context.Context, err error, written bool) *SendError {
	status, what := "NetworkError", "network error"
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) || isTimeout(err) {
		status, what = "Timeout", "no answer in time"
	} else if errors.Is(err, context.Canceled) {
		status, what = "Canceled", "send canceled"
	}
	if written {
		return &SendError{MaybeSent: true, Status: status, Err: err,
			Reason: what + " after the request reached Twilio; it may have been sent: " + clip(err.Error())}
	}
	return &SendError{Retryable: true, Status: status, Err: err, Reason: what + " before the request was sent: " + clip(err.Error())}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// message is the part of Twilio's Message resource the client reads.
type message struct {
	SID          string  `json:"sid"`
	Status       string  `json:"status"`
	NumSegments  flexInt `json:"num_segments"`
	ErrorCode    flexInt `json:"error_code"`
	ErrorMessage string  `json:"error_message"`
}

// created reads a 2xx answer: the Message resource Twilio created.
func created(body []byte, httpStatus int) (SendResult, error) {
	var m message
	err := json.Unmarshal(body, &m)
	sid := clean(m.SID, 64)
	switch {
	case err != nil:
		// A 2xx means Twilio took the request; without the SID nobody
		// knows what became of it.
		return SendResult{}, &SendError{MaybeSent: true, HTTPStatus: httpStatus, Status: "MalformedResponse", Err: err,
			Reason: "undecodable answer to an accepted request (it may have been sent): " + orDefault(snippet(body), "empty body")}
	case sid == "":
		return SendResult{}, &SendError{MaybeSent: true, HTTPStatus: httpStatus, Status: "MalformedResponse",
			Reason: "answer to an accepted request without a message SID (it may have been sent)"}
	}
	status := clean(m.Status, 32)
	switch status {
	case "failed", "undelivered", "canceled":
		// Created but already dead (rare at creation): final, as a 4xx.
		code := int(m.ErrorCode)
		return SendResult{}, &SendError{HTTPStatus: httpStatus, Code: code, Status: orDefault(codeStatus(code), status),
			Reason: fmt.Sprintf("message %s %s at creation: %s", maskPhones(sid), status,
				orDefault(clip(maskPhones(clean(m.ErrorMessage, maxResponse))), "no error message"))}
	}
	return SendResult{MessageID: sid, Status: status, Parts: max(int(m.NumSegments), 0)}, nil
}

// apiError is Twilio's error answer:
// {"code": 21211, "message": "...", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}
// plus "detail" on authentication errors.
type apiError struct {
	Code    flexInt `json:"code"`
	Message string  `json:"message"`
	Detail  string  `json:"detail"`
}

// refused classifies a non-2xx, non-3xx answer.
func refused(httpStatus int, retryAfterHeader string, body []byte) *SendError {
	var ae apiError
	if json.Unmarshal(body, &ae) != nil {
		ae = apiError{}
	}
	code := int(ae.Code)
	// Masked before clipping, so that no number is cut short of the mask.
	text := maskPhones(clean(ae.Message, maxResponse))
	if d := maskPhones(clean(ae.Detail, maxResponse)); d != "" {
		if text != "" {
			text += ": "
		}
		text += d
	}
	reason := orDefault(text, snippet(body))
	if code != 0 {
		reason = "Twilio error " + strconv.Itoa(code) + ": " + orDefault(text, http.StatusText(httpStatus))
	}
	reason = clip(orDefault(reason, http.StatusText(httpStatus)))
	e := &SendError{HTTPStatus: httpStatus, Code: code, Status: orDefault(codeStatus(code), "HTTP "+strconv.Itoa(httpStatus)),
		Reason: reason}

	switch {
	case httpStatus == http.StatusTooManyRequests || code == codeTooManyReqs || code == codeQueueFull:
		e.Retryable, e.Throttled = true, true
		e.RetryAfter = retryAfter(retryAfterHeader)
	case httpStatus >= 500:
		e.Retryable = true
		e.RetryAfter = retryAfter(retryAfterHeader)
	case httpStatus == http.StatusUnauthorized || httpStatus == http.StatusForbidden:
		e.Config = true
		e.Reason += " (" + orDefault(configHints[code], configHints[codeAuthenticate]) + ")"
	case httpStatus == http.StatusNotFound:
		e.Config = true
		e.Reason += " (" + configHints[codeNotFound] + ")"
	case configHints[code] != "":
		e.Config = true
		e.Reason += " (" + configHints[code] + ")"
	}
	return e
}

func codeStatus(code int) string {
	if code == 0 {
		return ""
	}
	return strconv.Itoa(code)
}

// flexInt reads a JSON number or a string holding one, null as 0: Twilio
// writes num_segments as a string and codes as numbers, and nothing
// documents that either must stay so.
type flexInt int

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		*n = 0
		return nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("not an integer: %s", clip(string(b)))
	}
	*n = flexInt(v)
	return nil
}

// retryAfter reads a Retry-After header in seconds; dates and garbage are 0.
func retryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, time.Hour)
}

// maskPhones masks every phone-number-like run (7 or more digits, with an
// optional leading '+') in s as the gateway's logs do, "+2557*****678":
// Twilio quotes the recipient in its error messages ("The 'To' number
// +255712345678 is not a valid phone number."), and reasons reach the logs.
func maskPhones(s string) string {
	const minDigits, keepHead, keepTail = 7, 5, 3
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		if s[j] == '+' {
			j++
		}
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k-j < minDigits {
			end := max(k, i+1)
			b.WriteString(s[i:end])
			i = end
			continue
		}
		if run := s[i:k]; len(run) <= keepHead+keepTail {
			b.WriteString("***")
		} else {
			b.WriteString(run[:keepHead] + strings.Repeat("*", len(run)-keepHead-keepTail) + run[len(run)-keepTail:])
		}
		i = k
	}
	return b.String()
}

// snippet is body as one short line of text with phone numbers masked, for
// reasons and logs.
func snippet(body []byte) string {
	return clip(maskPhones(strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "?")), " ")))
}

// clean trims s, drops control characters and cuts it to limit bytes on a
// rune boundary: provider text ends up in logs and database rows.
func clean(s string, limit int) string {
	s = strings.ToValidUTF8(strings.TrimSpace(s), "?")
	if strings.ContainsFunc(s, unicode.IsControl) {
		s = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return -1
			}
			return r
		}, s)
	}
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

func clip(s string) string { return clean(s, maxReason) }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
