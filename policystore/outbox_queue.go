package policystore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openimis/imis-gateway/clip"
)

// The outbox worker's side of imis_gateway.outbox: take due messages, record
// what the provider answered, recover rows a crash left behind, and apply
// delivery reports.
//
// A message's life: queued → sending (taken) → sent → delivered, or
// failed (a permanent refusal, or too many retries), or back to queued with
// a later next_attempt_at (a retryable failure). unknown means the provider
// may have sent it but we never learned: a timeout after the request was
// written, or a crash between sending and recording. Such a message is
// never resent, because resending could deliver it twice; it stays visible
// with its reason.

// OutboxMessage is an outbox row taken for sending.
type OutboxMessage struct {
	ID        int64
	Provider  string
	Recipient string
	Body      string
	Purpose   string
	DedupKey  string // empty when none
	Attempts  int    // including this one
	CreatedAt time.Time
}

// ErrOutboxNotSending is returned when recording an outcome for a message
// that is not (or no longer) being sent.
var ErrOutboxNotSending = errors.New("policystore: outbox message is not being sent")

// outboxReasonMax caps reasons stored in the outbox; they are for people.
const outboxReasonMax = 500

// takeDueSQL takes in one statement: the SELECT skips rows another
// instance has locked, so several gateways never take the same message.
// The SELECT is a CTE, not "WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP
// LOCKED)": PostgreSQL may rescan such a subquery once per outer row, and
// with SKIP LOCKED each rescan finds other rows, so that form can take more
// than n (a test caught it taking two messages for a limit of one). A CTE
// with FOR UPDATE is never inlined, so it runs exactly once.
const takeDueSQL = `
WITH due AS (
    SELECT id FROM imis_gateway.outbox
    WHERE status = 'queued' AND next_attempt_at <= now() AND provider = ANY ($1)
    ORDER BY next_attempt_at, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED)
UPDATE imis_gateway.outbox o
SET status = 'sending', attempts = o.attempts + 1, updated_at = now()
FROM due
WHERE o.id = due.id
RETURNING o.id, o.provider, o.recipient, o.body, o.purpose, coalesce(o.dedup_key, ''), o.attempts, o.created_at`

// TakeDue marks up to limit due messages of the given providers 'sending',
// counts the attempt, and returns them, oldest due first.
func (s *Store) TakeDue(ctx context.Context, providers []string, limit int) ([]OutboxMessage, error) {
	if limit <= 0 || len(providers) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, takeDueSQL, providers, limit)
	if err != nil {
		return nil, fmt.Errorf("policystore: take due outbox messages: %w", err)
	}
	msgs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (OutboxMessage, error) {
		var m OutboxMessage
		err := row.Scan(&m.ID, &m.Provider, &m.Recipient, &m.Body, &m.Purpose, &m.DedupKey, &m.Attempts, &m.CreatedAt)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("policystore: take due outbox messages: %w", err)
	}
	return msgs, nil
}

// MarkSent records that the provider accepted message id under
// providerMessageID, then applies any delivery report that arrived before
// this was recorded. A message marked unknown while its send was still in
// flight is marked sent too: the answer proves it.
func (s *Store) MarkSent(ctx context.Context, id int64, providerMessageID, providerStatus string, parts int) error {
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("policystore: mark outbox %d sent: %w", id, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit

	if providerMessageID != "" {
		if err := lockDeliveryReports(ctx, tx, providerMessageID); err != nil {
			return fmt.Errorf("policystore: mark outbox %d sent: %w", id, err)
		}
	}
	var partsArg any
	if parts > 0 {
		partsArg = parts
	}
	var provider string
	err = tx.QueryRow(ctx, `
		UPDATE imis_gateway.outbox
		SET status = 'sent', provider_message_id = nullif($2, ''), provider_status = nullif($3, ''), parts = $4,
		    failure_reason = NULL, sent_at = now(), updated_at = now()
		WHERE id = $1 AND status IN ('sending', 'unknown')
		RETURNING provider`, id, providerMessageID, outboxText(providerStatus, 64), partsArg).Scan(&provider)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("mark outbox %d sent: %w", id, ErrOutboxNotSending)
	}
	if err != nil {
		return fmt.Errorf("policystore: mark outbox %d sent: %w", id, err)
	}
	if providerMessageID != "" {
		if err := applyParkedReports(ctx, tx, provider, providerMessageID); err != nil {
			return fmt.Errorf("policystore: mark outbox %d sent: %w", id, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("policystore: mark outbox %d sent: %w", id, err)
	}
	return nil
}

// MarkRetry puts a message whose send certainly failed back in the queue
// for nextAttempt; the attempt counts towards the worker's limit.
func (s *Store) MarkRetry(ctx context.Context, id int64, nextAttempt time.Time, reason string) error {
	return s.outboxUpdate(ctx, "retry", id, `
		UPDATE imis_gateway.outbox SET status = 'queued', next_attempt_at = $2, failure_reason = $3, updated_at = now()
		WHERE id = $1 AND status IN ('sending', 'unknown')`, id, nextAttempt, outboxText(reason, outboxReasonMax))
}

// PutBack puts a taken message back in the queue for nextAttempt without
// counting the attempt: it was never tried (the worker stopped, or its
// provider is throttled).
func (s *Store) PutBack(ctx context.Context, id int64, nextAttempt time.Time, reason string) error {
	return s.outboxUpdate(ctx, "put back", id, `
		UPDATE imis_gateway.outbox
		SET status = 'queued', attempts = greatest(attempts - 1, 0), next_attempt_at = $2,
		    failure_reason = coalesce(nullif($3, ''), failure_reason), updated_at = now()
		WHERE id = $1 AND status IN ('sending', 'unknown')`, id, nextAttempt, outboxText(reason, outboxReasonMax))
}

// MarkFailed makes a message's failure final, with the provider's status
// (e.g. "InvalidPhoneNumber") and the reason, for people to see.
func (s *Store) MarkFailed(ctx context.Context, id int64, providerStatus, reason string) error {
	return s.outboxUpdate(ctx, "fail", id, `
		UPDATE imis_gateway.outbox
		SET status = 'failed', provider_status = nullif($2, ''), failure_reason = $3, updated_at = now()
		WHERE id = $1 AND status IN ('sending', 'unknown')`, id, outboxText(providerStatus, 64), outboxText(reason, outboxReasonMax))
}

// MarkUnknown records that the provider may or may not have sent a message
// (no usable answer after the request reached it). It is not resent.
func (s *Store) MarkUnknown(ctx context.Context, id int64, reason string) error {
	return s.outboxUpdate(ctx, "mark unknown", id, `
		UPDATE imis_gateway.outbox SET status = 'unknown', failure_reason = $2, updated_at = now()
		WHERE id = $1 AND status = 'sending'`, id, outboxText(reason, outboxReasonMax))
}

func (s *Store) outboxUpdate(ctx context.Context, what string, id int64, sql string, args ...any) error {
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	tag, err := s.pool.Exec(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("policystore: %s outbox %d: %w", what, id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s outbox %d: %w", what, id, ErrOutboxNotSending)
	}
	return nil
}

// StuckReason is the failure_reason of a message RecoverStuck found.
const StuckReason = "interrupted while sending: the gateway stopped before recording the provider's answer, " +
	"so it may or may not have been sent; not resent, to never send it twice"

// RecoverStuck marks 'unknown' the messages left 'sending' for longer than
// olderThan, by a gateway that crashed or lost its database between
// taking and recording. Whether the provider sent them cannot be known,
// and resending might deliver them twice, so they are neither resent nor
// dropped: they stay visible with StuckReason. olderThan must exceed the
// longest send, or a live instance's messages would be caught (their
// outcome would still be recorded over 'unknown').
func (s *Store) RecoverStuck(ctx context.Context, olderThan time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `
		UPDATE imis_gateway.outbox SET status = 'unknown', failure_reason = $2, updated_at = now()
		WHERE status = 'sending' AND updated_at < now() - make_interval(secs => $1)`,
		olderThan.Seconds(), StuckReason)
	if err != nil {
		return 0, fmt.Errorf("policystore: recover stuck outbox messages: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// OutboxQueued counts queued messages per provider (due or not), so that the
// worker can say which wait for a provider it cannot send through.
func (s *Store) OutboxQueued(ctx context.Context) (map[string]int, error) {
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT provider, count(*) FROM imis_gateway.outbox WHERE status = 'queued' GROUP BY provider`)
	if err != nil {
		return nil, fmt.Errorf("policystore: count queued SMS: %w", err)
	}
	counts := map[string]int{}
	var provider string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&provider, &n}, func() error {
		counts[provider] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("policystore: count queued SMS: %w", err)
	}
	return counts, nil
}

// OutboxStats is one provider's queue in the outbox.
type OutboxStats struct {
	Provider     string
	Queued       int           // messages queued, due or waiting for a retry
	OldestQueued time.Duration // age of the oldest of them
	OldestDue    time.Duration // how long the most overdue one has been due; 0 when none is
}

// OutboxStats reads each provider's queue, for the metrics. The ages are
// PostgreSQL's, so that the gateway's clock does not enter them.
func (s *Store) OutboxStats(ctx context.Context) ([]OutboxStats, error) {
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, `
		SELECT provider, count(*),
		       extract(epoch FROM now() - min(created_at)),
		       coalesce(extract(epoch FROM now() - min(next_attempt_at) FILTER (WHERE next_attempt_at <= now())), 0)
		FROM imis_gateway.outbox WHERE status = 'queued' GROUP BY provider`)
	if err != nil {
		return nil, fmt.Errorf("policystore: outbox stats: %w", err)
	}
	var out []OutboxStats
	var st OutboxStats
	var oldest, due float64
	_, err = pgx.ForEachRow(rows, []any{&st.Provider, &st.Queued, &oldest, &due}, func() error {
		st.OldestQueued = time.Duration(oldest * float64(time.Second))
		st.OldestDue = time.Duration(due * float64(time.Second))
		out = append(out, st)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("policystore: outbox stats: %w", err)
	}
	return out, nil
}

// Delivery states as the outbox names them; "" is a status we do not know.
var outboxDeliveryStates = map[string]bool{"sent": true, "delivered": true, "failed": true}

// ApplyDeliveryReport records a delivery report and applies it to the
// message the provider sent as providerMessageID. status is the report
// mapped to "sent", "delivered" or "failed", or "" for a status we do not
// know (the message then keeps its state); rawStatus is stored as sent.
//
// Every report is kept in imis_gateway.delivery_report. A report that
// matches no message yet is parked there (matched false) and applied by
// MarkSent when the send is recorded: it can arrive before the worker
// commits (docs/design.md, "Failure modes the tests cover"). Reports for messages that never become ours stay
// parked, visible. A repeated report (the same raw status for the same
// message) is stored once.
//
// Reports never move a message backwards: a late "sent" does not undo
// "delivered" or "failed", and "failed" does not undo "delivered".
func (s *Store) ApplyDeliveryReport(ctx context.Context, provider, providerMessageID, status, rawStatus, reason string) (matched bool, err error) {
	if provider == "" || providerMessageID == "" || rawStatus == "" {
		return false, errors.New("policystore: delivery report: provider, message id and status are required")
	}
	if !outboxDeliveryStates[status] {
		status = ""
	}
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("policystore: delivery report %s: %w", providerMessageID, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit

	// Serialised with MarkSent on the message id: either the report is
	// parked before MarkSent looks for it, or MarkSent committed first and
	// the report finds its message.
	if err := lockDeliveryReports(ctx, tx, providerMessageID); err != nil {
		return false, fmt.Errorf("policystore: delivery report %s: %w", providerMessageID, err)
	}
	var reportID int64
	var applied bool
	err = tx.QueryRow(ctx, `
		INSERT INTO imis_gateway.delivery_report (provider, provider_message_id, raw_status, status, failure_reason)
		VALUES ($1, $2, $3, nullif($4, ''), nullif($5, ''))
		ON CONFLICT ON CONSTRAINT delivery_report_once
		DO UPDATE SET failure_reason = coalesce(EXCLUDED.failure_reason, delivery_report.failure_reason)
		RETURNING id, applied_at IS NOT NULL`,
		provider, providerMessageID, outboxText(rawStatus, 64), status, outboxText(reason, outboxReasonMax)).Scan(&reportID, &applied)
	if err != nil {
		return false, fmt.Errorf("policystore: delivery report %s: %w", providerMessageID, err)
	}
	if applied {
		return true, tx.Commit(ctx)
	}
	outboxID, ok, err := applyReport(ctx, tx, provider, providerMessageID, status, rawStatus, reason)
	if err != nil {
		return false, fmt.Errorf("policystore: delivery report %s: %w", providerMessageID, err)
	}
	if ok {
		if _, err := tx.Exec(ctx, markReportAppliedSQL,
			reportID, outboxID); err != nil {
			return false, fmt.Errorf("policystore: delivery report %s: %w", providerMessageID, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("policystore: delivery report %s: %w", providerMessageID, err)
	}
	return ok, nil
}

// markReportAppliedSQL records that a delivery report reached its message,
// whether it came in after the message was sent or was parked before.
const markReportAppliedSQL = `UPDATE imis_gateway.delivery_report SET applied_at = now(), outbox_id = $2 WHERE id = $1`

// lockDeliveryReports takes a transaction-scoped lock on one provider
// message id.
func lockDeliveryReports(ctx context.Context, tx pgx.Tx, providerMessageID string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('imis_gateway.delivery_report:' || $1, 0))`, providerMessageID)
	return err
}

// applyReportSQL moves a message forward only: sent < failed < delivered,
// and a status we do not know ("") moves nothing but is recorded.
const applyReportSQL = `
UPDATE imis_gateway.outbox o
SET status = CASE
        WHEN $3 = 'delivered' THEN 'delivered'
        WHEN $3 = 'failed' AND o.status <> 'delivered' THEN 'failed'
        WHEN $3 = 'sent' AND o.status IN ('sending', 'unknown', 'sent') THEN 'sent'
        ELSE o.status END,
    provider_status = CASE
        WHEN ($3 = 'sent' AND o.status IN ('delivered', 'failed')) OR ($3 = 'failed' AND o.status = 'delivered')
        THEN o.provider_status ELSE $4 END,
    failure_reason = CASE
        WHEN $3 = 'delivered' THEN NULL
        WHEN $3 = 'failed' AND o.status <> 'delivered' THEN coalesce(nullif($5, ''), 'delivery report: ' || $4)
        ELSE o.failure_reason END,
    updated_at = now()
WHERE o.provider = $1 AND o.provider_message_id = $2
RETURNING o.id`

func applyReport(ctx context.Context, tx pgx.Tx, provider, providerMessageID, status, rawStatus, reason string) (int64, bool, error) {
	var id int64
	err := tx.QueryRow(ctx, applyReportSQL, provider, providerMessageID, status,
		outboxText(rawStatus, 64), outboxText(reason, outboxReasonMax)).Scan(&id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	}
	return id, true, nil
}

// applyParkedReports applies, in arrival order, the reports that came before
// the send was recorded.
func applyParkedReports(ctx context.Context, tx pgx.Tx, provider, providerMessageID string) error {
	type parked struct {
		id                      int64
		status, raw, failReason string
	}
	rows, err := tx.Query(ctx, `
		SELECT id, coalesce(status, ''), raw_status, coalesce(failure_reason, '')
		FROM imis_gateway.delivery_report
		WHERE provider = $1 AND provider_message_id = $2 AND applied_at IS NULL
		ORDER BY id`, provider, providerMessageID)
	if err != nil {
		return err
	}
	reports, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (parked, error) {
		var p parked
		return p, row.Scan(&p.id, &p.status, &p.raw, &p.failReason)
	})
	if err != nil {
		return err
	}
	for _, p := range reports {
		outboxID, ok, err := applyReport(ctx, tx, provider, providerMessageID, p.status, p.raw, p.failReason)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if _, err := tx.Exec(ctx, markReportAppliedSQL,
			p.id, outboxID); err != nil {
			return err
		}
	}
	return nil
}

// outboxText makes provider or error text storable: valid UTF-8, no NUL
// (PostgreSQL text holds none), at most limit bytes.
func outboxText(s string, limit int) string {
	return clip.Bytes(strings.ReplaceAll(s, "\x00", ""), limit)
}
