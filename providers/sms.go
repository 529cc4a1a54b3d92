package providers

import "time"

// InboundSMS is one text message a subscriber sent, normalised. Each
// provider's SMS parser returns it (or a provider type that embeds it).
type InboundSMS struct {
	Provider string // "twilio", "africastalking", ...
	// MessageID is the provider's id for the message. Providers retry
	// deliveries (AT for 12 hours, protocols.md §2.1), so it is the
	// idempotency key: the same MessageID must be processed once.
	MessageID string
	From      string // the sender as the provider writes it ("+255712345678")
	To        string // our short code or long number
	Text      string
	// Received is when the provider received the message, in UTC; zero when
	// the provider does not say (Twilio): the gateway then stamps the arrival.
	Received time.Time
}
