package providers

import (
	"context"
	"fmt"
	"time"
)

// InboundSMS is one text message a subscriber sent, normalised. Each
// provider's SMS parser returns it (or a provider type that embeds it).
type InboundSMS struct {
	Provider string // "twilio", "africastalking", ...
	// MessageID is the provider's id for the message. Providers retry
	// deliveries (AT for 12 hours, docs/providers.md, "Africa's Talking inbound SMS"), so it is the
	// idempotency key: the same MessageID must be processed once.
	MessageID string
	From      string // the sender as the provider writes it ("+255712345678")
	To        string // our short code or long number
	Text      string
	// Received is when the provider received the message, in UTC. Twilio
	// does not say: its SMS.ParseInbound stamps the arrival. Zero when AT's
	// date cannot be read (the arrival is recorded anyway, as received_at).
	Received time.Time
}

// DeliveryReport is a provider's delivery report for a message the gateway
// sent, normalised.
type DeliveryReport struct {
	Provider  string
	MessageID string // the provider's id of the sent message
	// State is the report in the outbox's words: "sent", "delivered",
	// "failed", or "" for a status we do not know (kept, not refused).
	State     string
	RawStatus string // as the provider sent it
	Reason    string // the provider's failure reason, if any
	Phone     string // for logs only, masked
}

// Sender sends one SMS through one provider: each provider's SMS client.
// Errors are *SendError; any other error counts as retryable (certainly not
// sent). A sender may also report Configured() bool: one that reports false
// lacks its credentials, and its messages stay queued.
type Sender interface {
	Send(ctx context.Context, to, body string) (SendResult, error)
}

// SendResult is a provider's answer for an accepted SMS.
type SendResult struct {
	MessageID string // what the provider's delivery reports will name it
	Status    string // the provider's word for it, e.g. "Success", "queued"
	// Parts is the number of SMS parts the message takes or was billed for;
	// 0 when unknown.
	Parts int
	// StatusCode is the recipient's status code where the answer reports one
	// per recipient (AT's 100 Processed, 101 Sent, 102 Queued), 0 otherwise.
	StatusCode int
	Number     string // the recipient as the provider read it, when it says
	Cost       string // as the provider reports it ("KES 0.8000"), when it does
}

// SendError is a send that the provider did not accept, classified for the
// outbox: the one error type of every SMS client.
//
// At most one of Retryable and MaybeSent is set. Retryable: the provider
// certainly did not send it, try again later. MaybeSent: the request reached
// the provider but no usable answer came back, so it may have been sent;
// resending could deliver it twice. Neither: a permanent refusal, final for
// this message.
type SendError struct {
	// Provider is the client's provider name ("africastalking", "twilio"),
	// so that an error read out of context says which API refused.
	Provider  string
	Retryable bool
	MaybeSent bool
	// Throttled: the provider asks the whole account to slow down (a 429,
	// a full sender queue); it should pause, not only this message
	// (docs/design.md, "Failure modes the tests cover").
	Throttled bool
	// Config: the provider refuses something every message uses (the
	// credentials, the sender, the API URL). Every message will fail until
	// the configuration is fixed; callers should say so loudly.
	Config bool
	// RetryAfter is the Retry-After of a 429 or 5xx, zero if absent.
	RetryAfter time.Duration
	HTTPStatus int // 0 when no answer came back
	// Code is the provider's error code (Twilio's 21211, 21610, ...), 0
	// when there was none.
	Code int
	// StatusCode is the recipient's status code where the answer reports
	// one per recipient (AT's statusCode), 0 when there was none.
	StatusCode int
	// Status is the provider's status in one word: its own ("InvalidPhoneNumber",
	// "21610") or the client's ("HTTP 429", "Timeout", "NetworkError", ...).
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
	provider := e.Provider
	if provider == "" {
		provider = "sms"
	}
	return fmt.Sprintf("%s send (%s): %s: %s", provider, kind, e.Status, e.Reason)
}

func (e *SendError) Unwrap() error { return e.Err }
