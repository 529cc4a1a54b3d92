// Package pgtest gives tests a fresh database on the project's real
// PostgreSQL (started by scripts/services.sh), with the openIMIS development
// schema and the gateway's migrations applied. There is no in-memory stand-in.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openimis/imis-gateway/migrations"
)

// DefaultAdminURL is the project-local instance scripts/services.sh starts.
const DefaultAdminURL = "postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable"

// AdminURL is the URL tests use to create and drop their databases.
func AdminURL() string {
	if u := os.Getenv("IMIS_TEST_PG_URL"); u != "" {
		return u
	}
	return DefaultAdminURL
}

// Option adjusts NewDatabase.
type Option func(*options)

type options struct {
	flavor   migrations.Flavor
	noSchema bool
}

// WithFlavor makes the dev schema imitate the given openIMIS database.
func WithFlavor(f migrations.Flavor) Option { return func(o *options) { o.flavor = f } }

// Empty leaves the database without any schema.
func Empty() Option { return func(o *options) { o.noSchema = true } }

// NewDatabase creates a uniquely named database, applies the dev schema and
// the gateway's migrations, drops it when the test ends, and returns its URL.
func NewDatabase(t testing.TB, opts ...Option) string {
	t.Helper()
	o := options{flavor: migrations.FlavorDjango}
	for _, opt := range opts {
		opt(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatalf("connect to the test PostgreSQL at %s: %v\n(start it with `make services`, or set IMIS_TEST_PG_URL)", AdminURL(), err)
	}
	defer admin.Close(ctx)

	name := "imis_test_" + randomSuffix(t)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, AdminURL())
		if err != nil {
			t.Logf("drop test database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})

	dbURL, err := withDatabase(AdminURL(), name)
	if err != nil {
		t.Fatal(err)
	}
	if o.noSchema {
		return dbURL
	}
	db, err := migrations.Open(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := migrations.CreateDevSchema(ctx, db, o.flavor); err != nil {
		t.Fatalf("dev schema: %v", err)
	}
	if _, err := migrations.Up(ctx, db, nil); err != nil {
		t.Fatalf("migrations: %v", err)
	}
	return dbURL
}

func withDatabase(rawURL, name string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("IMIS_TEST_PG_URL must be a postgres:// URL: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

func randomSuffix(t testing.TB) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
