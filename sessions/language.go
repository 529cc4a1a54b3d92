package sessions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// LanguageSource is where the language each phone number chose is kept:
// PostgreSQL (*policystore.Store). Phone numbers are E.164 strings.
type LanguageSource interface {
	Language(ctx context.Context, phone string) (lang string, ok bool, err error)
	SetLanguage(ctx context.Context, phone, lang string) error
}

// DefaultLanguageTTL is how long a cached answer stands; a choice made
// through another gateway instance's cache shows here within it.
const DefaultLanguageTTL = time.Hour

// LanguageCacheOptions tune a LanguageCache. Zero values take the defaults.
type LanguageCacheOptions struct {
	TTL    time.Duration // default DefaultLanguageTTL
	Prefix string        // key prefix, default DefaultPrefix (that of the sessions)
}

// LanguageCache is a read-through Redis cache in front of a LanguageSource.
// The language is looked up at the start of every USSD session and for
// every SMS, and most phones never choose one, so both answers, a language
// and "none", are cached. It implements menus.LanguageStore.
//
// Keys, for +255712345678 under the default prefix:
//
//	imisgw:lang:+255712345678   the language, or "" for none; TTL
type LanguageCache struct {
	rdb    redis.UniversalClient
	src    LanguageSource
	ttl    time.Duration
	prefix string
}

// NewLanguageCache returns a cache on rdb in front of src.
func NewLanguageCache(rdb redis.UniversalClient, src LanguageSource, opt LanguageCacheOptions) *LanguageCache {
	if opt.TTL <= 0 {
		opt.TTL = DefaultLanguageTTL
	}
	if opt.Prefix == "" {
		opt.Prefix = DefaultPrefix
	}
	return &LanguageCache{rdb: rdb, src: src, ttl: opt.TTL, prefix: opt.Prefix}
}

// Language returns the language phone chose; ok is false when none. A
// cache miss asks the source and caches its answer; when Redis fails the
// source answers alone, since a cache must never make the language less
// available than the database.
func (c *LanguageCache) Language(ctx context.Context, phone string) (string, bool, error) {
	key := c.key(phone)
	lang, err := c.rdb.Get(ctx, key).Result()
	switch {
	case err == nil:
		return lang, lang != "", nil
	case !errors.Is(err, redis.Nil):
		return c.src.Language(ctx, phone)
	}
	lang, ok, err := c.src.Language(ctx, phone)
	if err != nil {
		return "", false, err
	}
	// SET NX: should SetLanguage have run since the source answered, its
	// newer value is in the key already and must not be overwritten. A
	// failure only costs the next lookup a miss.
	_ = c.rdb.SetNX(ctx, key, lang, c.ttl).Err()
	return lang, ok, nil
}

// SetLanguage stores the choice in the source, then in the cache. When the
// cache cannot be updated the choice is stored all the same, but this
// instance may answer the former one for up to the TTL: the error says so.
func (c *LanguageCache) SetLanguage(ctx context.Context, phone, lang string) error {
	if err := c.src.SetLanguage(ctx, phone, lang); err != nil {
		return err
	}
	if err := c.rdb.Set(ctx, c.key(phone), lang, c.ttl).Err(); err != nil {
		return fmt.Errorf("language saved, but not cached (the former one may be used until it expires): %w", err)
	}
	return nil
}

func (c *LanguageCache) key(phone string) string { return c.prefix + ":lang:" + phone }
