package africastalking

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

	"github.com/openimis/imis-gateway/menus/gsm7"
	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/internal/smsapi"
)

// Base URLs of the AT API (docs/providers.md, "Africa's Talking SMS sending API"). The SDKs choose the sandbox
// when the username is "sandbox"; so does NewSMSClient.
const (
	LiveAPIURL      = "https://api.africastalking.com"
	SandboxAPIURL   = "https://api.sandbox.africastalking.com"
	SandboxUsername = "sandbox"
)

// DefaultSMSTimeout bounds one send. AT usually answers in under 2 s; the
// Python SDK added the same 10 s after users saw 60 s hangs (docs/providers.md, "Africa's Talking SMS sending API").
const DefaultSMSTimeout = 10 * time.Second

const sendPath = "/version1/messaging"

// maxReason caps provider text copied into errors, logs and the outbox.
const maxReason = smsapi.MaxReason

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
// the official Go SDK cannot be used (docs/providers.md, "Africa's Talking SMS sending API"). Safe for concurrent
// use.
type SMSClient struct {
	username, apiKey, senderID string
	post                       smsapi.Poster
}

// NewSMSClient builds a client. It never fails: a client without a username
// or key reports !Configured() and refuses to send.
func NewSMSClient(cfg SMSConfig) *SMSClient {
	base := LiveAPIURL
	if cfg.Username == SandboxUsername {
		base = SandboxAPIURL
	}
	return &SMSClient{
		username: strings.TrimSpace(cfg.Username),
		apiKey:   strings.TrimSpace(cfg.APIKey),
		senderID: strings.TrimSpace(cfg.SenderID),
		post: smsapi.Poster{
			Endpoint: smsapi.BaseURL(cfg.BaseURL, base) + sendPath,
			HTTP:     smsapi.HTTPClient(cfg.HTTPClient),
			Timeout:  smsapi.Timeout(cfg.Timeout, DefaultSMSTimeout),
			API:      "Africa's Talking",
			URLName:  "AT API URL",
			Secrets:  []string{strings.TrimSpace(cfg.APIKey)},
		},
	}
}

// Configured reports whether the client has a username and an API key; a
// nil client has neither.
func (c *SMSClient) Configured() bool { return c != nil && c.username != "" && c.apiKey != "" }

// Endpoint is the URL Send posts to.
func (c *SMSClient) Endpoint() string { return c.post.Endpoint }

// Recipient statusCode values (docs/providers.md, "Africa's Talking SMS sending API").
const (
	codeProcessed     = 100
	codeSent          = 101
	codeQueued        = 102
	codeInternalError = 500
	codeGatewayError  = 501
)

// Send sends message to one E.164 number. It returns a *providers.SendError
// when AT does not accept the message, and never retries by itself.
//
// An accepted message's result carries AT's messageId (delivery reports name
// it id), the recipient's status text and statusCode, the number as AT read
// it, the cost as AT reports it, and the parts it takes by the GSM-7 and
// UCS-2 rules of docs/providers.md, "SMS parts" (AT does not report them).
//
// The outcome is AT's per-recipient statusCode, never the HTTP status alone:
// 100/101/102 accepted, 500/501 retryable, anything else permanent with AT's
// status text. At the HTTP level, 429 and 5xx are retryable, a plain-text 401
// is a configuration error, other 4xx are permanent. A network failure
// before the request was fully written is retryable; a failure or timeout
// after it was written, or a 2xx whose body cannot be read, is MaybeSent.
// Errors carry the recipient's statusCode as StatusCode, never a Code.
func (c *SMSClient) Send(ctx context.Context, to, message string) (_ providers.SendResult, err error) {
	defer smsapi.Attribute(&err, Name)
	to = strings.TrimSpace(to)
	switch {
	case !c.Configured():
		return providers.SendResult{}, &providers.SendError{Config: true, Status: "NotConfigured",
			Reason: "no AT username or API key (AT_USERNAME, AT_API_KEY)"}
	case to == "" || strings.ContainsAny(to, ", \t\r\n"):
		// AT reads a comma-separated list; this client sends to one.
		return providers.SendResult{}, &providers.SendError{Status: "InvalidPhoneNumber", Reason: fmt.Sprintf("not one phone number: %q", smsapi.Clip(providers.MaskPhones(to)))}
	case strings.TrimSpace(message) == "":
		return providers.SendResult{}, &providers.SendError{Status: "EmptyMessage", Reason: "empty message"}
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

	resp, body, failed := c.post.PostForm(ctx, form, func(r *http.Request) { r.Header.Set("apiKey", c.apiKey) })
	if failed != nil {
		return providers.SendResult{}, failed
	}

	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		res, err := recipientOutcome(body, code)
		if err != nil {
			return providers.SendResult{}, err
		}
		_, _, res.Parts = gsm7.Parts(message)
		return res, nil
	case code == http.StatusUnauthorized:
		// Bad key or username, sandbox key against live or the reverse, a
		// key changed in the last ~20 minutes, or an unregistered sender
		// (docs/providers.md, "Africa's Talking SMS sending API"). The body is plain text, not JSON.
		return providers.SendResult{}, &providers.SendError{Config: true, HTTPStatus: code, Status: "Unauthorized",
			Reason: smsapi.OrDefault(smsapi.Snippet(body), "authentication refused") + " (check AT_USERNAME, AT_API_KEY, AT_SENDER_ID and AT_API_URL)"}
	case code == http.StatusTooManyRequests:
		return providers.SendResult{}, &providers.SendError{Retryable: true, Throttled: true, HTTPStatus: code, Status: "HTTP 429",
			RetryAfter: smsapi.RetryAfter(resp.Header.Get("Retry-After")), Reason: smsapi.OrDefault(smsapi.Snippet(body), "too many requests")}
	case code >= 500:
		return providers.SendResult{}, &providers.SendError{Retryable: true, HTTPStatus: code, Status: "HTTP " + strconv.Itoa(code),
			RetryAfter: smsapi.RetryAfter(resp.Header.Get("Retry-After")), Reason: smsapi.OrDefault(smsapi.Snippet(body), http.StatusText(code))}
	case code >= 300 && code < 400:
		return providers.SendResult{}, c.post.Redirected(resp, "set AT_API_URL to the final https URL")
	default:
		return providers.SendResult{}, &providers.SendError{HTTPStatus: code, Status: "HTTP " + strconv.Itoa(code),
			Reason: smsapi.OrDefault(smsapi.Snippet(body), http.StatusText(code))}
	}
}

// sendResponse is AT's answer to a send. Field names are matched
// case-insensitively by encoding/json, as AT's own SDKs rely on.
type sendResponse struct {
	SMSMessageData struct {
		Message    string
		Recipients []struct {
			StatusCode smsapi.FlexInt `json:"statusCode"`
			Number     string         `json:"number"`
			Status     string         `json:"status"`
			Cost       string         `json:"cost"`
			MessageID  string         `json:"messageId"`
		}
	}
}

// recipientOutcome reads the per-recipient outcome of a 2xx answer.
func recipientOutcome(body []byte, httpStatus int) (providers.SendResult, error) {
	var r sendResponse
	if err := json.Unmarshal(body, &r); err != nil {
		// A 2xx means AT took the request; without the body nobody knows
		// whether it sent (an XML answer if Accept were ignored, a proxy page).
		return providers.SendResult{}, &providers.SendError{MaybeSent: true, HTTPStatus: httpStatus, Status: "MalformedResponse", Err: err,
			Reason: "undecodable answer to an accepted request (it may have been sent): " + smsapi.OrDefault(smsapi.Snippet(body), "empty body")}
	}
	data := r.SMSMessageData
	if len(data.Recipients) == 0 {
		// e.g. {"SMSMessageData":{"Message":"InvalidSenderId","Recipients":[]}}:
		// refused as a whole, nothing sent.
		// The summary is AT's reason when it is one word ("InvalidSenderId"),
		// a sentence ("Sent to 0/1 Total Cost: 0") otherwise.
		msg := smsapi.Quote(data.Message)
		status := "NoRecipients"
		if msg != "" && !strings.ContainsFunc(msg, unicode.IsSpace) && len(msg) <= 64 {
			status = msg
		}
		return providers.SendResult{}, &providers.SendError{HTTPStatus: httpStatus, Status: status,
			Reason: "no recipient accepted: " + smsapi.OrDefault(msg, "empty answer")}
	}
	rc := data.Recipients[0]
	status := smsapi.Clean(rc.Status, 64)
	code := int(rc.StatusCode)
	res := providers.SendResult{
		MessageID:  smsapi.Clean(rc.MessageID, 128),
		Status:     status,
		StatusCode: code,
		Number:     smsapi.Clean(rc.Number, 32),
		Cost:       smsapi.Clean(rc.Cost, 32),
	}
	if res.MessageID == "None" {
		res.MessageID = ""
	}
	switch {
	case code == codeProcessed || code == codeSent || code == codeQueued, code == 0 && status == "Success":
		return res, nil
	case code == codeInternalError || code == codeGatewayError:
		return providers.SendResult{}, &providers.SendError{Retryable: true, HTTPStatus: httpStatus, StatusCode: code,
			Status: smsapi.OrDefault(status, "statusCode "+strconv.Itoa(code)), Reason: "recipient status " + recipientText(code, status)}
	default:
		return providers.SendResult{}, &providers.SendError{HTTPStatus: httpStatus, StatusCode: code,
			Status: smsapi.OrDefault(status, "statusCode "+strconv.Itoa(code)), Reason: "recipient status " + recipientText(code, status)}
	}
}

func recipientText(code int, status string) string {
	return strconv.Itoa(code) + " " + smsapi.OrDefault(status, "(no status text)")
}
