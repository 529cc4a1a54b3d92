package policystore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// The language chosen per phone number lives in the gateway's own table
// imis_gateway.phone_language (migration 00002). Phone numbers are E.164
// strings, as the menus normalise them; errors never name them.

const (
	languageSQL    = `SELECT lang FROM imis_gateway.phone_language WHERE phone = $1`
	setLanguageSQL = `
INSERT INTO imis_gateway.phone_language AS pl (phone, lang) VALUES ($1, $2)
ON CONFLICT (phone) DO UPDATE SET lang = EXCLUDED.lang, updated_at = now()
WHERE pl.lang IS DISTINCT FROM EXCLUDED.lang`
)

// maxKeyLen bounds a phone number or language code: E.164 numbers have at
// most 15 digits, language tags a few letters.
const maxKeyLen = 32

// Language returns the language remembered for phone; ok is false when none
// is.
func (s *Store) Language(ctx context.Context, phone string) (lang string, ok bool, err error) {
	if !validKey(phone) {
		return "", false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	err = s.pool.QueryRow(ctx, languageSQL, phone).Scan(&lang)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("policystore: language lookup: %w", err)
	}
	return lang, true, nil
}

// SetLanguage remembers lang for phone, replacing an earlier choice.
func (s *Store) SetLanguage(ctx context.Context, phone, lang string) error {
	if !validKey(phone) || !validKey(lang) {
		return errors.New("policystore: set language: invalid phone number or language code")
	}
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	if _, err := s.pool.Exec(ctx, setLanguageSQL, phone, lang); err != nil {
		return fmt.Errorf("policystore: set language: %w", err)
	}
	return nil
}

// validKey rejects what PostgreSQL would refuse in a text parameter (NUL,
// invalid UTF-8) and what cannot be a phone number or a language code.
func validKey(s string) bool {
	return s != "" && len(s) <= maxKeyLen && utf8.ValidString(s) && !strings.ContainsRune(s, 0) &&
		strings.TrimSpace(s) == s
}
