package policystore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// OutboxEntry is a message of the outbox as its recipient would see it,
// with where it stands.
type OutboxEntry struct {
	ID        int64
	Provider  string
	Body      string
	Purpose   string
	Status    string // queued, sending, sent, delivered, failed, unknown
	CreatedAt time.Time
}

// OutboxTo returns the newest messages queued for recipient (E.164), newest
// first, at most limit. Only the development simulator asks (its SMS pane):
// the outbox has no index on recipient, which a small development database
// does not need.
func (s *Store) OutboxTo(ctx context.Context, recipient string, limit int) ([]OutboxEntry, error) {
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, `
		SELECT id, provider, body, purpose, status, created_at FROM imis_gateway.outbox
		WHERE recipient = $1 ORDER BY id DESC LIMIT $2`, recipient, limit)
	if err != nil {
		return nil, fmt.Errorf("policystore: outbox to a recipient: %w", err)
	}
	entries, err := pgx.CollectRows(rows, pgx.RowToStructByPos[OutboxEntry])
	if err != nil {
		return nil, fmt.Errorf("policystore: outbox to a recipient: %w", err)
	}
	return entries, nil
}
