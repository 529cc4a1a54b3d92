package policystore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// OutboundSMS is one SMS for the outbox (imis_gateway.outbox), written in
// the same transaction as the business write it confirms, so that the
// message exists if and only if the write committed. The outbox worker sends
// it.
type OutboundSMS struct {
	Provider  string // e.g. "africastalking"
	Recipient string // E.164, e.g. "+255712345678"
	Body      string
	Purpose   string // "renewal.officer", "renewal.head", "sms.reply"
	// DedupKey names the business event, e.g. "renewal:<policy uuid>:officer";
	// a second message with the same key is dropped. Empty: no deduplication.
	DedupKey string
}

// enqueueSQL: ON CONFLICT on the dedup key makes a replayed business event
// enqueue nothing, without an error that would abort the transaction.
const enqueueSQL = `
INSERT INTO imis_gateway.outbox (provider, recipient, body, purpose, dedup_key)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (dedup_key) DO NOTHING`

// EnqueueSMS queues m in tx. A message whose DedupKey is already queued (or
// sent) is silently dropped.
func EnqueueSMS(ctx context.Context, tx pgx.Tx, m OutboundSMS) error {
	if m.Provider == "" || m.Recipient == "" || m.Body == "" || m.Purpose == "" {
		return errors.New("policystore: enqueue SMS: provider, recipient, body and purpose are required")
	}
	var dedup any
	if m.DedupKey != "" {
		dedup = m.DedupKey
	}
	if _, err := tx.Exec(ctx, enqueueSQL, m.Provider, m.Recipient, m.Body, m.Purpose, dedup); err != nil {
		return fmt.Errorf("policystore: enqueue SMS (%s): %w", m.Purpose, err)
	}
	return nil
}
