package twilio

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/openimis/imis-gateway/providers"
)

// Provider is Twilio as the gateway serves it: SMS only. Replies leave
// through the outbox and the SMS client; inbound messages and status
// callbacks arrive as signed form POSTs, whose signature is checked before
// anything reads them.
var Provider = providers.Provider{
	Name:      Name,
	EnvPrefix: "TWILIO_",
	Title:     "Twilio",
	SMS: &providers.SMS{
		Routes: []providers.HTTPRoute{
			{Method: http.MethodPost, Pattern: "/inbound", Kind: providers.RouteInboundSMS},
			{Method: http.MethodPost, Pattern: statusPattern, Kind: providers.RouteDeliveryReport},
		},
		ParseInbound:  parseInbound,
		ParseDelivery: parseDelivery,
		// Twilio reads the answer as instructions: an empty <Response/> says
		// none, since the reply goes out later through the outbox, never in
		// it. Errors keep their status (400, 413, 503); Twilio then tries the
		// number's fallback URL, if one is set.
		InboundAck: func(w http.ResponseWriter) { WriteTwiML(w, "") },
		Settings:   smsSettings,
		Help: [][2]string{
			{"TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN", "Twilio account for SMS (inbound webhooks are verified with the auth token)"},
			{"TWILIO_FROM", "Twilio number or Messaging Service SID (MG...) replies are sent from"},
			{"TWILIO_PUBLIC_URL", "public base URL Twilio calls (signatures cover it), e.g. https://gw.example.org"},
			{"TWILIO_CALLBACK_TOKEN", "secret path segment of the Twilio webhooks (required with Twilio unless --dev)"},
		},
	},
}

// statusPattern is the status callbacks' route, which every message sent
// names as its StatusCallback.
const statusPattern = "/status"

// parseInbound reads an inbound message for the gateway. Twilio sends no
// timestamp, so Received is the arrival.
func parseInbound(r *http.Request) (providers.InboundSMS, error) {
	in, err := ParseInbound(r)
	if err != nil {
		return providers.InboundSMS{}, err
	}
	m := in.InboundSMS
	if m.Received.IsZero() {
		m.Received = time.Now().UTC()
	}
	return m, nil
}

func parseDelivery(r *http.Request) (providers.DeliveryReport, error) {
	st, err := ParseStatus(r)
	if err != nil {
		return providers.DeliveryReport{}, err
	}
	return providers.DeliveryReport{Provider: Name, MessageID: st.MessageID, RawStatus: st.Status,
		State: st.State(), Reason: st.Reason(), Phone: st.To}, nil
}

// smsSettings reads the TWILIO_ variables: all or nothing, since a
// half-configured Twilio would accept messages it cannot answer or verify.
// Twilio has no USSD, so its callbacks have a token of their own.
func smsSettings(getenv func(string) string, devToken string) (providers.SMSSettings, []string) {
	names := []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "TWILIO_PUBLIC_URL"}
	var missing []string
	for _, n := range names {
		if getenv(n) == "" {
			missing = append(missing, n)
		}
	}
	token, authToken, publicURL := getenv("TWILIO_CALLBACK_TOKEN"), getenv("TWILIO_AUTH_TOKEN"), getenv("TWILIO_PUBLIC_URL")
	if len(missing) == len(names) && token == "" {
		return providers.SMSSettings{}, nil
	}
	var problems []string
	if len(missing) > 0 {
		problems = append(problems, "Twilio is partly configured; also set "+strings.Join(missing, ", "))
	}
	if token == "" {
		token = devToken
		if token == "" {
			problems = append(problems, "TWILIO_CALLBACK_TOKEN is required with Twilio (or run with --dev)")
		}
	}
	if publicURL != "" {
		if err := ValidPublicURL(publicURL); err != nil {
			problems = append(problems, fmt.Sprintf("TWILIO_PUBLIC_URL: %v", err))
		}
	}
	if token == "" {
		return providers.SMSSettings{}, problems
	}
	return providers.SMSSettings{
		Sender: NewSMSClient(SMSConfig{AccountSID: getenv("TWILIO_ACCOUNT_SID"), AuthToken: authToken, From: getenv("TWILIO_FROM"),
			StatusCallback: strings.TrimSuffix(publicURL, "/") + providers.SMSPath(Name, token) + statusPattern,
			BaseURL:        getenv("TWILIO_API_URL")}),
		Callbacks: &providers.Callbacks{Token: token, Signature: Signature(authToken, publicURL)},
	}, problems
}

// Signature checks X-Twilio-Signature on every callback: valid for
// authToken (TWILIO_AUTH_TOKEN) and the URL Twilio requested, publicBaseURL
// (TWILIO_PUBLIC_URL, the scheme and host Twilio calls, with any path prefix
// a proxy strips) followed by the request's path and query. Without a valid
// publicBaseURL and an auth token, no callback can pass.
func Signature(authToken, publicBaseURL string) *providers.Signature {
	sig := &providers.Signature{
		Check: func(r *http.Request) error { return ValidateSignature(authToken, publicBaseURL, r) },
		Hint:  "TWILIO_PUBLIC_URL must be the start of the webhook URL set in Twilio, and TWILIO_AUTH_TOKEN the account's current auth token",
	}
	if err := ValidPublicURL(publicBaseURL); err != nil {
		sig.Problem = err
	} else if authToken == "" {
		sig.Problem = errors.New("no auth token")
	}
	return sig
}
