// Package migrations holds the gateway's SQL, embedded in the binary, and
// applies it with goose.
//
// Two kinds of SQL live here:
//   - sql/: the gateway's own migrations. Its tables live in the schema
//     imis_gateway (goose keeps its version table there too); on openIMIS
//     tables it only ever adds indexes (docs/openimis.md, "Two schemas: the openIMIS dump and Django migrations").
//   - devschema/: the openIMIS subset for development and tests, created only
//     by `migrate --dev-schema`, never on a database that already has
//     openIMIS tables.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Schema is the PostgreSQL schema that holds everything the gateway owns.
const Schema = "imis_gateway"

//go:embed sql/*.sql
var gatewaySQL embed.FS

//go:embed devschema/*.sql
var devSQL embed.FS

// Flavor selects which openIMIS database the development schema imitates.
type Flavor string

const (
	// FlavorDjango is a database migrated by the modular Django backend
	// (wider "CHFID", "tblInsuree"."status", "tblPolicy"."creationDate").
	FlavorDjango Flavor = "django"
	// FlavorDump is the unmodified openIMIS 1.4.2 PostgreSQL dump.
	FlavorDump Flavor = "1.4.2"
)

// ErrForeignOpenIMIS is returned by CreateDevSchema on a database whose
// openIMIS tables the gateway did not create.
var ErrForeignOpenIMIS = errors.New("database already has openIMIS tables not created by --dev-schema; refusing to touch it")

// ErrNoOpenIMIS is returned by Up on a database without openIMIS tables.
var ErrNoOpenIMIS = errors.New(`database has no openIMIS tables ("tblInsuree"); point DATABASE_URL at an openIMIS database, or run migrate --dev-schema for development`)

// Open opens database/sql on the pgx driver for goose and the schema DDL.
func Open(databaseURL string) (*sql.DB, error) {
	cfg, err := stdlibConfig(databaseURL)
	if err != nil {
		return nil, err
	}
	return stdlib.OpenDB(*cfg), nil
}

// CreateDevSchema creates the openIMIS development subset in one
// transaction. It reports created=false when an earlier --dev-schema run
// already made it, and ErrForeignOpenIMIS when openIMIS tables exist that it
// did not make.
func CreateDevSchema(ctx context.Context, db *sql.DB, flavor Flavor) (created bool, err error) {
	files := []string{"devschema/openimis.sql"}
	switch flavor {
	case FlavorDjango, "":
		flavor = FlavorDjango
	case FlavorDump:
		files = append(files, "devschema/dump-1.4.2.sql")
	default:
		return false, fmt.Errorf("unknown dev schema flavor %q (want %q or %q)", flavor, FlavorDjango, FlavorDump)
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("dev schema: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	// Serialise concurrent --dev-schema runs on one database.
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('imis_gateway.dev_schema'))`); err != nil {
		return false, fmt.Errorf("dev schema lock: %w", err)
	}
	var ours, theirs bool
	err = tx.QueryRowContext(ctx, `SELECT to_regclass('imis_gateway.dev_schema') IS NOT NULL,
	                                      to_regclass('"tblInsuree"') IS NOT NULL`).Scan(&ours, &theirs)
	if err != nil {
		return false, fmt.Errorf("dev schema: inspect database: %w", err)
	}
	switch {
	case ours:
		return false, nil
	case theirs:
		return false, ErrForeignOpenIMIS
	}

	for _, name := range files {
		body, err := fs.ReadFile(devSQL, name)
		if err != nil {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return false, fmt.Errorf("dev schema %s: %w", name, err)
		}
	}
	_, err = tx.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+Schema+`;
		CREATE TABLE `+Schema+`.dev_schema (flavor text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());`)
	if err != nil {
		return false, fmt.Errorf("dev schema marker: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+Schema+`.dev_schema (flavor) VALUES ($1)`, string(flavor)); err != nil {
		return false, fmt.Errorf("dev schema marker: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("dev schema: %w", err)
	}
	return true, nil
}

// IsDevDatabase reports whether the database's openIMIS tables were made by
// --dev-schema, which is what allows destructive demo seeding.
func IsDevDatabase(ctx context.Context, db *sql.DB) (bool, error) {
	var ours bool
	err := db.QueryRowContext(ctx, `SELECT to_regclass('imis_gateway.dev_schema') IS NOT NULL`).Scan(&ours)
	return ours, err
}

// Up applies the gateway's pending migrations and returns their names.
func Up(ctx context.Context, db *sql.DB, log *slog.Logger) ([]string, error) {
	var hasOpenIMIS bool
	if err := db.QueryRowContext(ctx, `SELECT to_regclass('"tblInsuree"') IS NOT NULL`).Scan(&hasOpenIMIS); err != nil {
		return nil, fmt.Errorf("migrate: inspect database: %w", err)
	}
	if !hasOpenIMIS {
		return nil, ErrNoOpenIMIS
	}
	// goose keeps its version table in our schema, which must exist first.
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+Schema); err != nil {
		return nil, fmt.Errorf("migrate: create schema %s: %w", Schema, err)
	}
	p, err := provider(db, log)
	if err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	var applied []string
	for _, r := range results {
		applied = append(applied, r.Source.Path)
	}
	if err != nil {
		return applied, fmt.Errorf("migrate: %w", err)
	}
	return applied, nil
}

// Pending reports the migrations not yet applied; serve refuses to start
// while any are, rather than run against a schema it does not expect.
func Pending(ctx context.Context, db *sql.DB) (bool, error) {
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT to_regclass('`+Schema+`.goose_db_version') IS NOT NULL`).Scan(&exists); err != nil {
		return false, fmt.Errorf("migration status: %w", err)
	}
	if !exists {
		return true, nil
	}
	p, err := provider(db, nil)
	if err != nil {
		return false, err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("migration status: %w", err)
	}
	return pending, nil
}

func provider(db *sql.DB, log *slog.Logger) (*goose.Provider, error) {
	fsys, err := fs.Sub(gatewaySQL, "sql")
	if err != nil {
		return nil, err
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{
		goose.WithTableName(Schema + ".goose_db_version"),
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
	}
	if log != nil {
		opts = append(opts, goose.WithSlog(log))
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

func stdlibConfig(databaseURL string) (*pgx.ConnConfig, error) {
	if databaseURL == "" {
		return nil, errors.New("DATABASE_URL is empty")
	}
	// pgxpool's parser, so that the pool settings the gateway's URL may carry
	// (pool_max_conns, ...) are taken out rather than sent to the server,
	// which refuses them as unknown parameters.
	poolCfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	cfg := poolCfg.ConnConfig
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	return cfg, nil
}
