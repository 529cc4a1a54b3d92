package sessions

import (
	"context"
	"errors"
	"fmt"
)

// The steps Begin, Lock and Commit are made of, for the tests that exercise each of them alone: the
// locked way (Acquire, AcquireCounted), a guess (Optimistic), and a save of a record as given
// (Save), which reports a wrong guess as ErrConflict.

// ErrConflict is Save's error where Commit says stored == false.
var ErrConflict = errors.New("session changed since it was last seen here")

// Acquire is Begin the locked way.
func (s *Store) Acquire(ctx context.Context, provider, sessionID, replayKey string) (*Tx, error) {
	return s.acquireLocked(ctx, Request{Provider: provider, SessionID: sessionID, Key: replayKey})
}

// AcquireCounted is Begin of a counted hop (Request.Counted) the locked way.
func (s *Store) AcquireCounted(ctx context.Context, provider, sessionID, input string) (*Tx, error) {
	return s.acquireLocked(ctx, Request{Provider: provider, SessionID: sessionID, Key: input, Counted: true})
}

func (s *Store) acquireLocked(ctx context.Context, r Request) (*Tx, error) {
	keys, err := s.keyNames(r.Provider, r.SessionID)
	if err != nil {
		return nil, fmt.Errorf("acquire session %q: %w", r.SessionID, err)
	}
	return s.acquire(ctx, keys, r.SessionID, r.Key, r.Counted, nil)
}

// Optimistic is Begin from memory alone: ok is false where Begin would go the locked way.
func (s *Store) Optimistic(provider, sessionID, replayKey string, counted, start bool) (*Tx, bool) {
	keys, err := s.keyNames(provider, sessionID)
	if err != nil {
		return nil, false
	}
	return s.guess(Request{Provider: provider, SessionID: sessionID, Key: replayKey, Counted: counted, Start: start}, keys)
}

// Save is Commit of rec with its LastKey and Hops as given.
func (s *Store) Save(ctx context.Context, l *Tx, rec Record) error {
	stored, err := s.store(ctx, l, rec)
	if err == nil && !stored {
		return fmt.Errorf("save session %q: %w", l.sessionID, ErrConflict)
	}
	return err
}

// SessionKey is the Redis key of a session's record under store's prefix.
func SessionKey(store *Store, provider, sessionID string) string {
	keys, _ := store.keyNames(provider, sessionID)
	return keys[0]
}
