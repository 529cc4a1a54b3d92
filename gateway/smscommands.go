package gateway

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5"

	"github.com/openimis/imis-gateway/menus"
	"github.com/openimis/imis-gateway/policystore"
)

// SMSCommands answers inbound SMS with the menus' command grammar (CHECK,
// CLAIMS, LANG, RENEW, HELP) and queues the reply in the outbox in the same
// transaction that marks the message handled: a message is answered once,
// whatever crashes in between.
func SMSCommands(engine *menus.Engine, log *slog.Logger) InboundHandler {
	return func(ctx context.Context, tx pgx.Tx, m InboundMessage) error {
		reply, err := engine.SMS(ctx, menus.SMSRequest{From: m.From, Text: m.Text, Key: m.Provider + ":" + m.MessageID, Provider: m.Provider})
		if err != nil {
			// The sender is told to try again (reply holds that text) rather
			// than left without an answer.
			log.Warn("sms command failed", "provider", m.Provider, "id", m.MessageID, "command", reply.Command, "err", err)
		}
		log.Info("sms answered", "provider", m.Provider, "id", m.MessageID, "from", maskPhone(m.From),
			"command", reply.Command, "lang", reply.Lang, "encoding", reply.Encoding.String(), "length", reply.Length, "parts", reply.Parts)
		return policystore.EnqueueSMS(ctx, tx, policystore.OutboundSMS{
			Provider:  m.Provider,
			Recipient: m.From,
			Body:      reply.Text,
			Purpose:   "sms.reply",
			DedupKey:  "sms-reply:" + m.Provider + ":" + m.MessageID,
		})
	}
}

// RenewalsNotifying is the policy store's renewal service that wakes the
// outbox worker after each renewal, so that its confirmation SMS leave at
// once rather than at the worker's next poll.
type RenewalsNotifying struct {
	*policystore.Store
	Notify func()
}

// Renew renews, then wakes the outbox.
func (r RenewalsNotifying) Renew(ctx context.Context, req policystore.RenewalRequest) (policystore.RenewalResult, error) {
	res, err := r.Store.Renew(ctx, req)
	if err == nil && !res.Repeated {
		r.Notify()
	}
	return res, err
}
