package africastalking

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

// Base URLs of the AT API (protocols.md §2.4). The SDKs choose the sandbox
// when the username is "sandbox"; so does NewSMSClient.
const (
	LiveAPIURL      = "https://api.africastalking.com"
	SandboxAPIURL   = "https://api.sandbox.africastalking.com"
	SandboxUsername = "sandbox"
)

// DefaultSMSTimeout bounds one send. AT usually answers in under 2 s; the
// Python SDK added the same 10 s after users saw 60 s hangs (protocols.md §2.4).
const DefaultSMSTimeout = 10 * time.Second

const (
	sendPath = "/version1/messaging"
	// maxResponse caps what is read of an answer: one recipient's JSON is
	// ~200 bytes, an HTML error page a few KB.
	maxResponse = 64 << 10
	// maxReason caps provider text copied into errors, logs and the outbox.
	maxReason = 200
)

// SMSConfig configures an SMSClient. Username and APIKey are AT_USERNAME and
// AT_API_KEY; SenderID (AT_SENDER_ID) is a registered short code or
// alphanumeric sender, empty for AT's shared default.
type SMSConfig struct {
	Username string
	APIKey   string
	SenderID string
	// BaseURL is AT_API_URL; empty selects LiveAPIURL, or SandboxAPIURL when
	// Username is "sandbox".
	BaseURL string
	// HTTPClient defaults to a client of its own; its redirect policy is
	// replaced (see NewSMSClient).
	HTTPClient *http.Client
	// Timeout bounds one Send on top of the caller's context; default
	// DefaultSMSTimeout.
	Timeout time.Duration
}

// SMSClient sends SMS through AT's bulk messaging API: a form POST to
// {BaseURL}/version1/messaging, one recipient per call. It is our own because
// the official Go SDK cannot be used (protocols.md §2.5). Safe for concurrent
// use.
type SMSClient struct {
	username, apiKey, senderID string
	endpoint                   string
	http                       *http.Client
	timeout                    time.Duration
}

// NewSMSClient builds a client. It never fails: a client without a username
// or key reports !Configured() and refuses to send.
func NewSMSClient(cfg SMSConfig) *SMSClient {
	base := strings.TrimSpace(cfg.BaseURL)
	if base == "" {
		base = LiveAPIURL
		if cfg.Username == SandboxUsername {
			base = SandboxAPIURL
		}
	}
	hc := http.Client{}
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	// A redirect would turn the POST into a GET without its form (net/http
	// follows 301-303 that way), so it is reported instead: it means
	// AT_API_URL is wrong (http:// instead of https://, a stale host).
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultSMSTimeout
	}
	return &SMSClient{
		username: strings.TrimSpace(cfg.Username),
		apiKey:   strings.TrimSpace(cfg.APIKey),
		senderID: strings.TrimSpace(cfg.SenderID),
		endpoint: strings.TrimRight(base, "/") + sendPath,
		http:     &hc,
		timeout:  timeout,
	}
}

// Configured reports whether the client has a username and an API key.
func (c *SMSClient) Configured() bool { return c.username != "" && c.apiKey != "" }

// Endpoint is the URL Send posts to.
func (c *SMSClient) Endpoint() string { return c.endpoint }

// SendResult is AT's answer for an accepted message.
type SendResult struct {
	MessageID  string // AT's messageId; delivery reports carry it as id
	Status     string // the recipient's status as sent, e.g. "Success"
	StatusCode int    // 100 Processed, 101 Sent or 102 Queued
	Number     string // the recipient as AT read it
	Cost       string // as AT reports it, e.g. "KES 0.8000"
	// Parts is the number of SMS parts the message takes, by the GSM-7 and
	// UCS-2 rules of protocols.md §6 (AT does not report it).
	Parts int
}

// SendError is a send that AT did not accept, classified for the outbox.
//
// At most one of Retryable and MaybeSent is set. Retryable: AT certainly did
// not send it, try again later. MaybeSent: the request reached AT but no
// usable answer came back, so AT may have sent it; resending could deliver
// it twice. Neither: a permanent refusal, final for this message.
type SendError struct {
	Retryable bool
	MaybeSent bool
	// Throttled: AT answered 429; the whole account should pause, not
	// only this message (peers.md §3.14).
	Throttled bool
	// Config: AT refused the credentials (plain-text 401), or the API URL
	// answered a redirect. Every message will fail until the configuration
	// is fixed; callers should say so loudly.
	Config bool
	// RetryAfter is the Retry-After of a 429 or 503, zero if absent.
	RetryAfter time.Duration
	HTTPStatus int // 0 when no answer came back
	StatusCode int // the recipient's statusCode, 0 when there was none
	// Status is the provider's status in one word: the recipient's status
	// ("InvalidPhoneNumber", "DoNotDisturbRejection"), AT's summary message
	// ("InvalidSenderId"), or "HTTP 429", "Timeout", "NetworkError", ...
	Status string
	// Reason says what happened, for people reading logs and the outbox.
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
	return fmt.Sprintf("africastalking send (%s): %s: %s", kind, e.Status, e.Reason)
}

func (e *SendError) Unwrap() error { return e.Err }

// Recipient statusCode values (protocols.md §2.4).
const (
	codeProcessed     = 100
	codeSent          = 101
	codeQueued        = 102
	codeInternalError = 500
	codeGatewayError  = 501
)

// Send sends message to one E.164 number. It returns a *SendError when AT
// does not accept the message, and never retries by itself.
//
// The outcome is AT's per-recipient statusCode, never the HTTP status alone:
// 100/101/102 accepted, 500/501 retryable, anything else permanent with AT's
// status text. At the HTTP level, 429 and 5xx are retryable, a plain-text 401
// is a configuration error, other 4xx are permanent. A network failure
// before the request was fully written is retryable; a failure or timeout
// after it was written, or a 2xx whose body cannot be read, is MaybeSent.
func (c *SMSClient) Send(ctx context.Context, to, message string) (SendResult, error) {
	to = strings.TrimSpace(to)
	switch {
	case !c.Configured():
		return SendResult{}, &SendError{Config: true, Status: "NotConfigured",
			Reason: "no AT username or API key (AT_USERNAME, AT_API_KEY)"}
	case to == "" || strings.ContainsAny(to, ", \t\r\n"):
		// AT reads a comma-separated list; this client sends to one.
		return SendResult{}, &SendError{Status: "InvalidPhoneNumber", Reason: fmt.Sprintf("not one phone number: %q", clip(to))}
	case strings.TrimSpace(message) == "":
		return SendResult{}, &SendError{Status: "EmptyMessage", Reason: "empty message"}
	}

	form := url.Values{
		"username":    {c.username},
		"to":          {to},
		"message":     {message},
		"bulkSMSMode": {"1"},
	}
	if c.senderID != "" {
		form.Set("from", c.senderID)
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
		return SendResult{}, &SendError{Config: true, Status: "BadURL", Reason: "AT API URL: " + err.Error(), Err: err}
	}
	req.Header.Set("apiKey", c.apiKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", formType)

	resp, err := c.http.Do(req)
	if err != nil {
		return SendResult{}, transportError(ctx, err, wrote.Load())
	}
	defer resp.Body.Close()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxResponse))

	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		if readErr != nil {
			e := transportError(ctx, readErr, true)
			e.HTTPStatus = code
			return SendResult{}, e
		}
		res, err := recipientOutcome(body, code)
		if err != nil {
			return SendResult{}, err
		}
		res.Parts = smsParts(message)
		return res, nil
	case code == http.StatusUnauthorized:
		// Bad key or username, sandbox key against live or the reverse, a
		// key changed in the last ~20 minutes, or an unregistered sender
		// (protocols.md §2.4). The body is plain text, not JSON.
		return SendResult{}, &SendError{Config: true, HTTPStatus: code, Status: "Unauthorized",
			Reason: orDefault(snippet(body), "authentication refused") + " (check AT_USERNAME, AT_API_KEY, AT_SENDER_ID and AT_API_URL)"}
	case code == http.StatusTooManyRequests:
		return SendResult{}, &SendError{Retryable: true, Throttled: true, HTTPStatus: code, Status: "HTTP 429",
			RetryAfter: retryAfter(resp.Header.Get("Retry-After")), Reason: orDefault(snippet(body), "too many requests")}
	case code >= 500:
		return SendResult{}, &SendError{Retryable: true, HTTPStatus: code, Status: "HTTP " + strconv.Itoa(code),
			RetryAfter: retryAfter(resp.Header.Get("Retry-After")), Reason: orDefault(snippet(body), http.StatusText(code))}
	case code >= 300 && code < 400:
		return SendResult{}, &SendError{Config: true, HTTPStatus: code, Status: "HTTP " + strconv.Itoa(code),
			Reason: fmt.Sprintf("AT API URL redirects to %q; set AT_API_URL to the final https URL", clip(resp.Header.Get("Location")))}
	default:
		return SendResult{}, &SendError{HTTPStatus: code, Status: "HTTP " + strconv.Itoa(code),
			Reason: orDefault(snippet(body), http.StatusText(code))}
	}
}

// transportError classifies a failure to get an answer: after the request
// was written AT may have acted on it.
func transportError(ctx context.Context, err error, written bool) *SendError {
	status, what := "NetworkError", "network error"
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) || isTimeout(err) {
		status, what = "Timeout", "no answer in time"
	} else if errors.Is(err, context.Canceled) {
		status, what = "Canceled", "send canceled"
	}
	if written {
		return &SendError{MaybeSent: true, Status: status, Err: err,
			Reason: what + " after the request reached Africa's Talking; it may have been sent: " + clip(err.Error())}
	}
	return &SendError{Retryable: true, Status: status, Err: err, Reason: what + " before the request was sent: " + clip(err.Error())}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// sendResponse is AT's answer to a send. Field names are matched
// case-insensitively by encoding/json, as AT's own SDKs rely on.
type sendResponse struct {
	SMSMessageData struct {
		Message    string
		Recipients []struct {
			StatusCode flexInt `json:"statusCode"`
			Number     string  `json:"number"`
			Status     string  `json:"status"`
			Cost       string  `json:"cost"`
			MessageID  string  `json:"messageId"`
		}
	}
}

// flexInt reads a JSON number or a string holding one: statusCode is a
// number in every sample, but nothing documents that it must be.
type flexInt int

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		*n = 0
		return nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("statusCode %s", clip(string(b)))
	}
	*n = flexInt(v)
	return nil
}

// recipientOutcome reads the per-recipient outcome of a 2xx answer.
func recipientOutcome(body []byte, httpStatus int) (SendResult, error) {
	var r sendResponse
	if err := json.Unmarshal(body, &r); err != nil {
		// A 2xx means AT took the request; without the body nobody knows
		// whether it sent (an XML answer if Accept were ignored, a proxy page).
		return SendResult{}, &SendError{MaybeSent: true, HTTPStatus: httpStatus, Status: "MalformedResponse", Err: err,
			Reason: "undecodable answer to an accepted request (it may have been sent): " + orDefault(snippet(body), "empty body")}
	}
	data := r.SMSMessageData
	if len(data.Recipients) == 0 {
		// e.g. {"SMSMessageData":{"Message":"InvalidSenderId","Recipients":[]}}:
		// refused as a whole, nothing sent.
		// The summary is AT's reason when it is one word ("InvalidSenderId"),
		// a sentence ("Sent to 0/1 Total Cost: 0") otherwise.
		msg := clean(data.Message, maxReason)
		status := "NoRecipients"
		if msg != "" && !strings.ContainsFunc(msg, unicode.IsSpace) && len(msg) <= 64 {
			status = msg
		}
		return SendResult{}, &SendError{HTTPStatus: httpStatus, Status: status,
			Reason: "no recipient accepted: " + orDefault(msg, "empty answer")}
	}
	rc := data.Recipients[0]
	status := clean(rc.Status, 64)
	code := int(rc.StatusCode)
	res := SendResult{
		MessageID:  clean(rc.MessageID, 128),
		Status:     status,
		StatusCode: code,
		Number:     clean(rc.Number, 32),
		Cost:       clean(rc.Cost, 32),
	}
	if res.MessageID == "None" {
		res.MessageID = ""
	}
	switch {
	case code == codeProcessed || code == codeSent || code == codeQueued, code == 0 && status == "Success":
		return res, nil
	case code == codeInternalError || code == codeGatewayError:
		return SendResult{}, &SendError{Retryable: true, HTTPStatus: httpStatus, StatusCode: code,
			Status: orDefault(status, "statusCode "+strconv.Itoa(code)), Reason: "recipient status " + recipientText(code, status)}
	default:
		return SendResult{}, &SendError{HTTPStatus: httpStatus, StatusCode: code,
			Status: orDefault(status, "statusCode "+strconv.Itoa(code)), Reason: "recipient status " + recipientText(code, status)}
	}
}

func recipientText(code int, status string) string {
	return strconv.Itoa(code) + " " + orDefault(status, "(no status text)")
}

// retryAfter reads a Retry-After header in seconds; dates and garbage are 0.
func retryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, time.Hour)
}

// snippet is body as one short line of text, for reasons and logs.
func snippet(body []byte) string {
	if !utf8.Valid(body) {
		body = []byte(strings.ToValidUTF8(string(body), "?"))
	}
	return clean(strings.Join(strings.Fields(string(body)), " "), maxReason)
}

// clean trims s, drops control characters and cuts it to limit bytes on a
// rune boundary: provider text ends up in logs and database rows.
func clean(s string, limit int) string {
	s = strings.TrimSpace(s)
	if strings.ContainsFunc(s, unicode.IsControl) {
		s = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return -1
			}
			return r
		}, s)
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
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

// The GSM 03.38 default alphabet and its extension table (protocols.md §5.2;
// ESC itself is not a character). Extension characters take two septets.
const (
	gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Extension = "\f^{}\\[~]|€"
)

// smsParts counts the parts message takes (protocols.md §6): 160 GSM-7
// septets or 70 UCS-2 units in one part; 153 or 67 per part when
// concatenated, never splitting an escape pair or a surrogate pair.
func smsParts(message string) int {
	single, multi := 160, 153
	width := func(r rune) int {
		if strings.ContainsRune(gsm7Extension, r) {
			return 2
		}
		return 1
	}
	for _, r := range message {
		if !strings.ContainsRune(gsm7Basic, r) && !strings.ContainsRune(gsm7Extension, r) {
			single, multi = 70, 67
			width = func(r rune) int {
				if r > 0xFFFF {
					return 2
				}
				return 1
			}
			break
		}
	}
	total := 0
	for _, r := range message {
		total += width(r)
	}
	if total <= single {
		return 1
	}
	parts, used := 1, 0
	for _, r := range message {
		w := width(r)
		if used+w > multi {
			parts, used = parts+1, 0
		}
		used += w
	}
	return parts
}
