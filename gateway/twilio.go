package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/openimis/imis-gateway/providers/africastalking"
	"github.com/openimis/imis-gateway/providers/twilio"
)

// Twilio carries SMS only (protocols.md §4.1): replies leave through the
// outbox and TwilioSender; inbound messages and status callbacks arrive as
// signed form POSTs, checked by RequireTwilioSignature before anything reads
// them.

// TwilioSender adapts a Twilio client to Sender. A client without
// credentials or sender reports itself unconfigured: its messages stay
// queued.
func TwilioSender(c *twilio.SMSClient) Sender { return twilioSender{c} }

type twilioSender struct{ c *twilio.SMSClient }

func (s twilioSender) Configured() bool { return s.c != nil && s.c.Configured() }

func (s twilioSender) Send(ctx context.Context, to, body string) (SendResult, error) {
	res, err := s.c.Send(ctx, to, body)
	if err != nil {
		return SendResult{}, err
	}
	return SendResult{MessageID: res.MessageID, Status: res.Status, Parts: res.Parts}, nil
}

// Twilio's errors must stay the type the outbox worker reads (SendError):
// one it missed would count as retryable, and a message Twilio may have
// sent would be sent again. This fails to compile if the two types ever part.
var _ *africastalking.SendError = (*twilio.SendError)(nil)

// ParseTwilioInboundSMS reads Twilio's inbound-message webhook. Twilio sends
// no timestamp, so Received is the arrival.
func ParseTwilioInboundSMS(r *http.Request) (InboundMessage, error) {
	in, err := twilio.ParseInbound(r)
	if err != nil {
		return InboundMessage{}, err
	}
	m := in.InboundSMS
	if m.Received.IsZero() {
		m.Received = time.Now().UTC()
	}
	return m, nil
}

// ParseTwilioDeliveryReport reads Twilio's status callback.
func ParseTwilioDeliveryReport(r *http.Request) (DeliveryReport, error) {
	st, err := twilio.ParseStatus(r)
	if err != nil {
		return DeliveryReport{}, err
	}
	return DeliveryReport{Provider: twilio.Name, MessageID: st.MessageID, RawStatus: st.Status,
		State: st.State(), Reason: st.Reason(), Phone: st.To}, nil
}

// NewTwilioInboundHandler answers Twilio's inbound-message webhook as
// NewInboundSMSHandler does, except that its 200 carries an empty TwiML
// <Response/>: Twilio reads the answer as instructions, and the reply goes
// out later through the outbox, never in it. Errors keep their status (400,
// 413, 503); Twilio then tries the number's fallback URL, if one is set.
func NewTwilioInboundHandler(store InboundStore, wake func(), log *slog.Logger) http.Handler {
	return inboundSMSHandler(ParseTwilioInboundSMS, store, wake, log, func(w http.ResponseWriter) { twilio.WriteTwiML(w, "") })
}

// RequireTwilioSignature passes on only requests whose X-Twilio-Signature
// is valid for authToken (TWILIO_AUTH_TOKEN) and the URL Twilio requested:
// publicBaseURL (TWILIO_PUBLIC_URL, the scheme and host Twilio calls, with
// any path prefix a proxy strips) followed by the request's path and query.
// Others get 403 with no body (413 when the body is too large to check).
// It reads and puts back the body, so put it after the body limit and
// before the handler.
func RequireTwilioSignature(authToken, publicBaseURL string, log *slog.Logger) func(http.Handler) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	const hint = "TWILIO_PUBLIC_URL must be the start of the webhook URL set in Twilio, and TWILIO_AUTH_TOKEN the account's current auth token"
	if err := twilio.ValidPublicURL(publicBaseURL); err != nil || authToken == "" {
		if err == nil {
			err = errors.New("no auth token")
		}
		log.Error("twilio: callbacks cannot be verified; every one will get 403", "err", err, "hint", hint)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			err := twilio.ValidateSignature(authToken, publicBaseURL, r)
			if err == nil {
				next.ServeHTTP(w, r)
				return
			}
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				rejectRequest(w, r, log, err)
				return
			}
			// The error names what failed (missing header, mismatch), never
			// the parameters: no phone number reaches the log.
			log.Warn("twilio callback refused: bad signature", "req", middleware.GetReqID(r.Context()),
				"route", routePattern(r), "err", err, "hint", hint)
			w.WriteHeader(http.StatusForbidden)
		})
	}
}
