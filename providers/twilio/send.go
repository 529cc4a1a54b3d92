package twilio

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/internal/smsapi"
)

// LiveAPIURL is the base URL of Twilio's REST API.
const LiveAPIURL = "https://api.twilio.com"

// DefaultSMSTimeout bounds one send, like the AT client's.
const DefaultSMSTimeout = 10 * time.Second

// MaxBodyChars is the longest Body Twilio takes (docs/providers.md, "Twilio signatures"); longer
// ones it refuses with error 21617.
const MaxBodyChars = 1600

// maxReason caps provider text copied into errors, logs and the outbox.
const maxReason = smsapi.MaxReason

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
	post                  smsapi.Poster
}

// NewSMSClient builds a client. It never fails: a client without an account
// SID, auth token or sender reports !Configured() and refuses to send.
func NewSMSClient(cfg SMSConfig) *SMSClient {
	c := &SMSClient{
		accountSID:     strings.TrimSpace(cfg.AccountSID),
		authToken:      strings.TrimSpace(cfg.AuthToken),
		statusCallback: strings.TrimSpace(cfg.StatusCallback),
		post: smsapi.Poster{
			HTTP:    smsapi.HTTPClient(cfg.HTTPClient),
			Timeout: smsapi.Timeout(cfg.Timeout, DefaultSMSTimeout),
			API:     "Twilio",
			URLName: "Twilio API URL",
		},
	}
	// The account SID is in every request's path, which Twilio's errors
	// quote; it is no password, but it names the account to attack.
	c.post.Secrets = []string{c.accountSID, c.authToken}
	if from := strings.TrimSpace(cfg.From); strings.HasPrefix(from, "MG") {
		c.serviceSID = from
	} else {
		c.from = from
	}
	c.post.Endpoint = smsapi.BaseURL(cfg.BaseURL, LiveAPIURL) + "/2010-04-01/Accounts/" + url.PathEscape(c.accountSID) + "/Messages.json"
	return c
}

// Configured reports whether the client has an account SID, an auth token
// and a sender; a nil client has none.
func (c *SMSClient) Configured() bool {
	return c != nil && c.accountSID != "" && c.authToken != "" && (c.from != "" || c.serviceSID != "")
}

// Endpoint is the URL Send posts to.
func (c *SMSClient) Endpoint() string { return c.post.Endpoint }

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

// Send sends body to one number. It returns a *providers.SendError when
// Twilio does not accept the message, and never retries by itself.
//
// An accepted message's result carries its SID ("SM..."; status callbacks
// name it MessageSid), its status as created ("queued", or "accepted" when a
// Messaging Service has yet to pick the sender) and num_segments, the parts
// Twilio bills (0 through a Messaging Service, which counts them only once
// it picks the sender).
//
// A 201 with the message's SID is a success. 429 (error 20429) and 21611
// are throttled and retryable, 5xx retryable, 401, 403, 404, a redirect and
// the codes in configHints configuration errors, any other 4xx permanent
// with Twilio's code as Status. A body over MaxBodyChars characters is
// refused without a request. A network failure before the request was fully
// written is retryable; a failure or timeout after it was written, or a 2xx
// that cannot be read, is MaybeSent. Errors carry Twilio's error code as
// Code and that code as text as Status, with the phone numbers Twilio quotes
// in Reason masked.
func (c *SMSClient) Send(ctx context.Context, to, body string) (_ providers.SendResult, err error) {
	defer smsapi.Attribute(&err, Name)
	to = strings.TrimSpace(to)
	switch n := utf8.RuneCountInString(body); {
	case !c.Configured():
		return providers.SendResult{}, &providers.SendError{Config: true, Status: "NotConfigured",
			Reason: "no Twilio account SID, auth token or sender (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM)"}
	case to == "" || strings.ContainsFunc(to, func(r rune) bool { return r == ',' || unicode.IsSpace(r) || unicode.IsControl(r) }):
		return providers.SendResult{}, &providers.SendError{Status: "InvalidPhoneNumber", Reason: fmt.Sprintf("not one phone number: %q", smsapi.Clip(providers.MaskPhones(to)))}
	case strings.TrimSpace(body) == "":
		return providers.SendResult{}, &providers.SendError{Status: "EmptyMessage", Reason: "empty message"}
	case n > MaxBodyChars:
		return providers.SendResult{}, &providers.SendError{Status: "BodyTooLong",
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

	resp, answer, failed := c.post.PostForm(ctx, form, func(r *http.Request) { r.SetBasicAuth(c.accountSID, c.authToken) })
	if failed != nil {
		return providers.SendResult{}, failed
	}

	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return created(answer, code)
	case code >= 300 && code < 400:
		return providers.SendResult{}, c.post.Redirected(resp, "set it to the final https URL")
	}
	return providers.SendResult{}, refused(code, resp.Header.Get("Retry-After"), answer)
}

// message is the part of Twilio's Message resource the client reads.
type message struct {
	SID          string         `json:"sid"`
	Status       string         `json:"status"`
	NumSegments  smsapi.FlexInt `json:"num_segments"`
	ErrorCode    smsapi.FlexInt `json:"error_code"`
	ErrorMessage string         `json:"error_message"`
}

// created reads a 2xx answer: the Message resource Twilio created.
func created(body []byte, httpStatus int) (providers.SendResult, error) {
	var m message
	err := json.Unmarshal(body, &m)
	sid := smsapi.Clean(m.SID, 64)
	switch {
	case err != nil:
		// A 2xx means Twilio took the request; without the SID nobody
		// knows what became of it.
		return providers.SendResult{}, &providers.SendError{MaybeSent: true, HTTPStatus: httpStatus, Status: "MalformedResponse", Err: err,
			Reason: "undecodable answer to an accepted request (it may have been sent): " + smsapi.OrDefault(smsapi.Snippet(body), "empty body")}
	case sid == "":
		return providers.SendResult{}, &providers.SendError{MaybeSent: true, HTTPStatus: httpStatus, Status: "MalformedResponse",
			Reason: "answer to an accepted request without a message SID (it may have been sent)"}
	}
	status := smsapi.Clean(m.Status, 32)
	switch status {
	case "failed", "undelivered", "canceled":
		// Created but already dead (rare at creation): final, as a 4xx.
		code := int(m.ErrorCode)
		return providers.SendResult{}, &providers.SendError{HTTPStatus: httpStatus, Code: code, Status: smsapi.OrDefault(codeStatus(code), status),
			Reason: fmt.Sprintf("message %s %s at creation: %s", providers.MaskPhones(sid), status,
				smsapi.OrDefault(smsapi.Quote(m.ErrorMessage), "no error message"))}
	}
	return providers.SendResult{MessageID: sid, Status: status, Parts: max(int(m.NumSegments), 0)}, nil
}

// apiError is Twilio's error answer:
// {"code": 21211, "message": "...", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}
// plus "detail" on authentication errors.
type apiError struct {
	Code    smsapi.FlexInt `json:"code"`
	Message string         `json:"message"`
	Detail  string         `json:"detail"`
}

// refused classifies a non-2xx, non-3xx answer.
func refused(httpStatus int, retryAfterHeader string, body []byte) *providers.SendError {
	var ae apiError
	if json.Unmarshal(body, &ae) != nil {
		ae = apiError{}
	}
	code := int(ae.Code)
	// Masked before clipping, so that no number is cut short of the mask.
	text := providers.MaskPhones(smsapi.Clean(ae.Message, smsapi.MaxResponse))
	if d := providers.MaskPhones(smsapi.Clean(ae.Detail, smsapi.MaxResponse)); d != "" {
		if text != "" {
			text += ": "
		}
		text += d
	}
	reason := smsapi.OrDefault(text, smsapi.Snippet(body))
	if code != 0 {
		reason = "Twilio error " + strconv.Itoa(code) + ": " + smsapi.OrDefault(text, http.StatusText(httpStatus))
	}
	reason = smsapi.Clip(smsapi.OrDefault(reason, http.StatusText(httpStatus)))
	e := &providers.SendError{HTTPStatus: httpStatus, Code: code, Status: smsapi.OrDefault(codeStatus(code), "HTTP "+strconv.Itoa(httpStatus)),
		Reason: reason}

	switch {
	case httpStatus == http.StatusTooManyRequests || code == codeTooManyReqs || code == codeQueueFull:
		e.Retryable, e.Throttled = true, true
		e.RetryAfter = smsapi.RetryAfter(retryAfterHeader)
	case httpStatus >= 500:
		e.Retryable = true
		e.RetryAfter = smsapi.RetryAfter(retryAfterHeader)
	case httpStatus == http.StatusUnauthorized || httpStatus == http.StatusForbidden:
		e.Config = true
		e.Reason += " (" + smsapi.OrDefault(configHints[code], configHints[codeAuthenticate]) + ")"
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
