package policystore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/openimis/imis-gateway/providers"
)

// Inbound SMS in imis_gateway.inbound_sms: the webhook records each message
// once (RecordInbound), a processor leases it (LeaseInbound), handles it in
// a transaction that also writes the reply to the outbox, and marks it done
// in that same transaction (FinishInbound).

// InboundLease is an inbound SMS leased for processing. Its Received is
// the provider's date, or our receipt time when the provider sent none.
type InboundLease struct {
	providers.InboundSMS
	Attempts int // times leased, this one included
}

// ErrInboundNotPending is returned by FinishInbound for a message that is no
// longer waiting: another processor finished it first.
var ErrInboundNotPending = errors.New("policystore: inbound SMS already finished")

// inboundErrorMax caps the error text stored with a failed message.
const inboundErrorMax = 1000

// RecordInbound stores m unless a message with its provider and id is
// already stored, and reports whether it was new. Providers retry their
// callbacks (AT every minute for 12 hours), so duplicates are expected and
// harmless. Text that PostgreSQL cannot hold (NUL, invalid UTF-8) is
// repaired rather than refused, so that a retry loop never starts over it.
func (s *Store) RecordInbound(ctx context.Context, m providers.InboundSMS) (isNew bool, err error) {
	if m.Provider == "" || m.MessageID == "" || m.From == "" {
		return false, errors.New("policystore: record inbound SMS: provider, message id and sender are required")
	}
	var received any
	if !m.Received.IsZero() {
		received = m.Received
	}
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	err = s.pool.QueryRow(ctx, `
		INSERT INTO imis_gateway.inbound_sms (provider, message_id, sender, recipient, body, provider_received_at)
		VALUES ($1, $2, $3, nullif($4, ''), $5, $6)
		ON CONFLICT (provider, message_id) DO NOTHING
		RETURNING true`,
		outboxText(m.Provider, 64), outboxText(m.MessageID, 256), outboxText(m.From, 64), outboxText(m.To, 64),
		outboxText(m.Text, 1<<20), received).Scan(&isNew)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("policystore: record inbound SMS %s: %w", m.MessageID, err)
	}
	return true, nil
}

// leaseInboundSQL leases waiting messages: the lease hides them from other
// processors, and a processor that dies leaves a lease that expires, after
// which the message is handled again (handlers are idempotent). A CTE for
// the reason given at takeDueSQL.
const leaseInboundSQL = `
WITH due AS (
    SELECT provider, message_id FROM imis_gateway.inbound_sms
    WHERE status = 'received' AND (claimed_until IS NULL OR claimed_until < now())
    ORDER BY received_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED)
UPDATE imis_gateway.inbound_sms i
SET attempts = i.attempts + 1, claimed_until = now() + make_interval(secs => $2)
FROM due
WHERE i.provider = due.provider AND i.message_id = due.message_id
RETURNING i.provider, i.message_id, i.sender, coalesce(i.recipient, ''), i.body,
          coalesce(i.provider_received_at, i.received_at), i.attempts`

// LeaseInbound leases up to limit waiting messages, oldest first, for lease.
// Rows locked by another instance are skipped, as in TakeDue.
func (s *Store) LeaseInbound(ctx context.Context, limit int, lease time.Duration) ([]InboundLease, error) {
	if limit <= 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, leaseInboundSQL, limit, lease.Seconds())
	if err != nil {
		return nil, fmt.Errorf("policystore: lease inbound SMS: %w", err)
	}
	leases, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (InboundLease, error) {
		var c InboundLease
		err := row.Scan(&c.Provider, &c.MessageID, &c.From, &c.To, &c.Text, &c.Received, &c.Attempts)
		c.Received = c.Received.UTC()
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("policystore: lease inbound SMS: %w", err)
	}
	return leases, nil
}

// BeginInbound starts the transaction in which one inbound message is
// handled and then finished with FinishInbound.
func (s *Store) BeginInbound(ctx context.Context) (pgx.Tx, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("policystore: begin inbound SMS: %w", err)
	}
	return tx, nil
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// FinishInbound marks a waiting message processed (handleErr nil) or failed
// with handleErr's text, in tx, so that the mark commits with the handler's
// writes (its reply in the outbox) or not at all. A nil tx runs on its own,
// for marking a failure after the handler's transaction was rolled back.
// It returns ErrInboundNotPending when the message is no longer waiting:
// another processor finished it, and tx must be rolled back.
func (s *Store) FinishInbound(ctx context.Context, tx pgx.Tx, provider, id string, handleErr error) error {
	status, errText := "processed", ""
	if handleErr != nil {
		status, errText = "failed", outboxText(handleErr.Error(), inboundErrorMax)
	}
	const sql = `
		UPDATE imis_gateway.inbound_sms
		SET status = $3, error = nullif($4, ''), processed_at = now(), claimed_until = NULL
		WHERE provider = $1 AND message_id = $2 AND status = 'received'`
	var db execer = tx
	if tx == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.queryTimeout)
		defer cancel()
		db = s.pool
	}
	tag, err := db.Exec(ctx, sql, provider, id, status, errText)
	if err != nil {
		return fmt.Errorf("policystore: finish inbound SMS %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("finish inbound SMS %s: %w", id, ErrInboundNotPending)
	}
	return nil
}
