package sessions_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/openimis/imis-gateway/menus"
	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/policystore/pgtest"
	"github.com/openimis/imis-gateway/sessions"
	"github.com/openimis/imis-gateway/sessions/redistest"
)

const phone = "+255712345678"

// The cache stands in for the store behind it.
var _ menus.LanguageStore = (*sessions.LanguageCache)(nil)

// languageFixture is a LanguageCache on the test Redis in front of a fresh
// PostgreSQL database.
type languageFixture struct {
	rdb    redis.UniversalClient
	store  *policystore.Store
	cache  *sessions.LanguageCache
	prefix string
}

func newLanguageFixture(t *testing.T, ttl time.Duration) *languageFixture {
	t.Helper()
	store, err := policystore.Open(context.Background(), pgtest.NewDatabase(t), policystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	f := &languageFixture{rdb: redistest.Client(t), store: store, prefix: redistest.Prefix(t)}
	t.Cleanup(func() { _ = redistest.DeleteKeys(f.rdb, f.prefix+":*") })
	f.cache = sessions.NewLanguageCache(f.rdb, store, sessions.LanguageCacheOptions{TTL: ttl, Prefix: f.prefix})
	return f
}

func (f *languageFixture) lookup(t *testing.T) string {
	t.Helper()
	lang, ok, err := f.cache.Language(context.Background(), phone)
	if err != nil || ok != (lang != "") {
		t.Fatalf("Language: %q %v %v", lang, ok, err)
	}
	return lang
}

// behindTheCache changes the database directly, as another gateway
// instance (with its own cache) would.
func (f *languageFixture) behindTheCache(t *testing.T, lang string) {
	t.Helper()
	if err := f.store.SetLanguage(context.Background(), phone, lang); err != nil {
		t.Fatal(err)
	}
}

func TestLanguageCache(t *testing.T) {
	ctx := context.Background()
	f := newLanguageFixture(t, time.Hour)
	key := f.prefix + ":lang:" + phone

	// No choice yet: "none" is cached too.
	if lang := f.lookup(t); lang != "" {
		t.Fatalf("before any choice: %q", lang)
	}
	if v, err := f.rdb.Get(ctx, key).Result(); err != nil || v != "" {
		t.Fatalf("cached none: %q %v", v, err)
	}
	if ttl := f.rdb.PTTL(ctx, key).Val(); ttl < 59*time.Minute || ttl > time.Hour {
		t.Fatalf("TTL %v", ttl)
	}
	f.behindTheCache(t, "fr")
	if lang := f.lookup(t); lang != "" {
		t.Fatalf("cached none not used: %q", lang)
	}

	// A choice goes to the database and the cache.
	if err := f.cache.SetLanguage(ctx, phone, "sw"); err != nil {
		t.Fatal(err)
	}
	if lang, ok, _ := f.store.Language(ctx, phone); lang != "sw" || !ok {
		t.Fatalf("database: %q", lang)
	}
	if v := f.rdb.Get(ctx, key).Val(); v != "sw" {
		t.Fatalf("cache: %q", v)
	}
	f.behindTheCache(t, "ne")
	if lang := f.lookup(t); lang != "sw" {
		t.Fatalf("cache hit: %q, want sw", lang)
	}
	// Invalidated (deleted, expired): read through again.
	f.rdb.Del(ctx, key)
	if lang := f.lookup(t); lang != "ne" {
		t.Fatalf("after a miss: %q, want ne", lang)
	}
}

func TestLanguageCacheExpires(t *testing.T) {
	f := newLanguageFixture(t, 300*time.Millisecond)
	if err := f.cache.SetLanguage(context.Background(), phone, "fr"); err != nil {
		t.Fatal(err)
	}
	f.behindTheCache(t, "ne")
	if lang := f.lookup(t); lang != "fr" {
		t.Fatalf("within the TTL: %q", lang)
	}
	time.Sleep(400 * time.Millisecond)
	if lang := f.lookup(t); lang != "ne" {
		t.Fatalf("after the TTL: %q", lang)
	}
}

func TestLanguageCacheRedisDown(t *testing.T) {
	ctx := context.Background()
	store, err := policystore.Open(ctx, pgtest.NewDatabase(t), policystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	srv := redistest.StartServer(t)
	rdb, err := sessions.NewClient(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	cache := sessions.NewLanguageCache(rdb, store, sessions.LanguageCacheOptions{})
	if err := store.SetLanguage(ctx, phone, "sw"); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	// Reads fall through to the database.
	if lang, ok, err := cache.Language(ctx, phone); lang != "sw" || !ok || err != nil {
		t.Fatalf("Redis down: %q %v %v", lang, ok, err)
	}
	// A choice is stored, and the caller told that the cache missed it.
	err = cache.SetLanguage(ctx, phone, "fr")
	if err == nil || strings.Contains(err.Error(), "712345678") {
		t.Fatalf("SetLanguage with Redis down: %v", err)
	}
	if lang, _, _ := store.Language(ctx, phone); lang != "fr" {
		t.Fatalf("database: %q", lang)
	}
	srv.Start()
	if lang, _, err := cache.Language(ctx, phone); lang != "fr" || err != nil {
		t.Fatalf("Redis back: %q %v", lang, err)
	}
}

// gatedSource answers lookups with the value it had when asked, but only
// once released, so that a SetLanguage can run in between.
type gatedSource struct {
	mu      sync.Mutex
	lang    string
	asked   chan struct{}
	release chan struct{}
	fail    error
}

func (s *gatedSource) Language(context.Context, string) (string, bool, error) {
	s.mu.Lock()
	lang := s.lang
	s.mu.Unlock()
	if s.asked != nil {
		s.asked <- struct{}{}
		<-s.release
	}
	return lang, lang != "", s.fail
}

func (s *gatedSource) SetLanguage(_ context.Context, _, lang string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.lang = lang
	return nil
}

// A lookup that read the database before a concurrent SetLanguage must not
// cache its stale answer over the new one.
func TestLanguageCacheStaleReadLoses(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	t.Cleanup(func() { _ = redistest.DeleteKeys(rdb, prefix+":*") })
	src := &gatedSource{lang: "en", asked: make(chan struct{}), release: make(chan struct{})}
	cache := sessions.NewLanguageCache(rdb, src, sessions.LanguageCacheOptions{Prefix: prefix})

	stale := make(chan string)
	go func() {
		lang, _, _ := cache.Language(ctx, phone)
		stale <- lang
	}()
	<-src.asked // the lookup has read "en"
	src.asked = nil
	if err := cache.SetLanguage(ctx, phone, "ne"); err != nil {
		t.Fatal(err)
	}
	close(src.release)
	if lang := <-stale; lang != "en" {
		t.Fatalf("the racing lookup answered %q", lang)
	}
	if lang, _, _ := cache.Language(ctx, phone); lang != "ne" {
		t.Fatalf("cached %q after the race, want ne", lang)
	}
}

func TestLanguageCacheSourceFailure(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t)
	t.Cleanup(func() { _ = redistest.DeleteKeys(rdb, prefix+":*") })
	boom := errors.New("connection refused")
	src := &gatedSource{fail: boom}
	cache := sessions.NewLanguageCache(rdb, src, sessions.LanguageCacheOptions{Prefix: prefix})
	if _, _, err := cache.Language(ctx, phone); !errors.Is(err, boom) {
		t.Fatalf("lookup: %v", err)
	}
	if n := rdb.Exists(ctx, prefix+":lang:"+phone).Val(); n != 0 {
		t.Fatal("a failed lookup was cached")
	}
	if err := cache.SetLanguage(ctx, phone, "fr"); !errors.Is(err, boom) {
		t.Fatalf("set: %v", err)
	}
	if n := rdb.Exists(ctx, prefix+":lang:"+phone).Val(); n != 0 {
		t.Fatal("a failed choice was cached")
	}
}
