// Package policystore holds all SQL against the openIMIS schema and the
// gateway's own tables, on a pgx v5 pool. It reads and writes only: the
// rules it applies are package openimis's (PlanRenewal, EnquiryStatus,
// ...), and the texts it queues are worded by its callers.
//
// Every read filters current rows ("ValidityTo" IS NULL, docs/openimis.md, "Current rows and ValidityTo")
// and takes "today" from the caller (the scheme-local date), never
// CURRENT_DATE in the session's time zone (docs/openimis.md, "Two schemas: the openIMIS dump and Django migrations").
package policystore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Defaults for Options and the connection.
const (
	DefaultQueryTimeout   = 2 * time.Second
	DefaultConnectTimeout = 3 * time.Second
)

// Options tunes the pool. Zero values take the defaults.
type Options struct {
	// MaxConns caps the pool; default 4 × GOMAXPROCS, small enough for the
	// small machines openIMIS schemes run on. A pool_max_conns parameter in
	// the URL is honoured when MaxConns is zero.
	MaxConns int32
	// QueryTimeout bounds every query on top of the caller's context, so a
	// slow database costs a hop its answer, not its deadline; default 2s.
	QueryTimeout time.Duration
	// Tracer, when set, sees every statement (the gateway's metrics:
	// gateway.Metrics.PostgresTracer).
	Tracer pgx.QueryTracer
	// ApplicationName names the connections in pg_stat_activity unless the
	// URL sets application_name; default "imis-gateway".
	ApplicationName string
}

// Store reads and writes the openIMIS database.
type Store struct {
	pool         *pgxpool.Pool
	cols         Columns
	queryTimeout time.Duration
	officers     officerCache // officers.go
}

// Open connects (3s connect timeout unless the URL sets connect_timeout),
// pings, and detects the optional openIMIS columns. It fails fast, with an
// error that names no password, when PostgreSQL is unreachable or the
// database has no openIMIS tables.
func Open(ctx context.Context, databaseURL string, opt Options) (*Store, error) {
	cfg, err := poolConfig(databaseURL, opt)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("policystore: open pool: %w", err)
	}
	s := &Store{pool: pool, queryTimeout: opt.QueryTimeout}
	s.officers.opt = OfficerOptions{}.withDefaults()
	if s.queryTimeout <= 0 {
		s.queryTimeout = DefaultQueryTimeout
	}

	// The connect timeout bounds each dial; this bounds the whole start-up
	// (a URL may list several hosts) so that Open never hangs.
	startCtx, cancel := context.WithTimeout(ctx, cfg.ConnConfig.ConnectTimeout+s.queryTimeout)
	defer cancel()
	if err := pool.Ping(startCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("policystore: connect to PostgreSQL at %s: %w", where(cfg), err)
	}
	cols, err := DetectColumns(startCtx, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.cols = cols
	return s, nil
}

func poolConfig(databaseURL string, opt Options) (*pgxpool.Config, error) {
	if strings.TrimSpace(databaseURL) == "" {
		return nil, errors.New("policystore: DATABASE_URL is empty")
	}
	// pgx redacts the password from its parse errors.
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("policystore: DATABASE_URL: %w", err)
	}
	switch {
	case opt.MaxConns > 0:
		cfg.MaxConns = opt.MaxConns
	case !strings.Contains(databaseURL, "pool_max_conns"):
		cfg.MaxConns = 4 * int32(runtime.GOMAXPROCS(0))
	}
	if cfg.MinConns > cfg.MaxConns {
		cfg.MinConns = cfg.MaxConns
	}
	cfg.ConnConfig.Tracer = opt.Tracer
	if cfg.ConnConfig.ConnectTimeout <= 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = cmp.Or(opt.ApplicationName, "imis-gateway")
	}
	// The gateway's queries read a few rows by key. On a database without
	// planner statistics their estimated cost passes jit_above_cost, and
	// compiling each one took longer than the hop's whole deadline (ten
	// million insurees, no ANALYZE). A URL may still set jit=on.
	if _, ok := cfg.ConnConfig.RuntimeParams["jit"]; !ok {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	// The default exec mode, QueryExecModeCacheStatement, prepares each
	// distinct SQL text once per connection and reuses it. Behind a
	// transaction-mode pgbouncer older than 1.21, set
	// default_query_exec_mode=cache_describe (or exec) in the URL.
	return cfg, nil
}

// where names the server for error messages: host, port and database, never
// the user's password.
func where(cfg *pgxpool.Config) string {
	return fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
}

// Ping checks that PostgreSQL answers, within the query timeout.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("policystore: ping: %w", err)
	}
	return nil
}

// Close waits for queries in flight and closes every connection.
func (s *Store) Close() { s.pool.Close() }

// Columns reports the optional openIMIS columns found by Open.
func (s *Store) Columns() Columns { return s.cols }

// Pool is the underlying pool, for the demo seeder and the write paths.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Querier is what DetectColumns needs: a pool, a connection or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// columnsSQL looks the optional columns up where the unqualified table names
// resolve (the search path), as every other query here does.
const columnsSQL = `
SELECT table_name, column_name, character_maximum_length
FROM information_schema.columns
WHERE table_schema = ANY (current_schemas(false))
  AND (table_name, column_name) IN (('tblInsuree', 'CHFID'), ('tblInsuree', 'status'), ('tblPolicy', 'creationDate'))`

// DetectColumns finds the optional parts of the openIMIS schema
// (docs/openimis.md, "Two schemas: the openIMIS dump and Django migrations") with one query on information_schema.columns. Only
// "tblInsuree"."CHFID" is required: without it this is no openIMIS database.
// CHFIDMaxLen is 0 when the column has no length limit.
func DetectColumns(ctx context.Context, q Querier) (Columns, error) {
	rows, err := q.Query(ctx, columnsSQL)
	if err != nil {
		return Columns{}, fmt.Errorf("policystore: detect openIMIS columns: %w", err)
	}
	var (
		c        Columns
		hasCHFID bool
	)
	for rows.Next() {
		var table, column string
		var width *int32
		if err := rows.Scan(&table, &column, &width); err != nil {
			rows.Close()
			return Columns{}, fmt.Errorf("policystore: detect openIMIS columns: %w", err)
		}
		switch table + "." + column {
		case "tblInsuree.CHFID":
			hasCHFID = true
			if width != nil {
				c.CHFIDMaxLen = int(*width)
			}
		case "tblInsuree.status":
			c.InsureeStatus = true
		case "tblPolicy.creationDate":
			c.PolicyCreationDate = true
		}
	}
	if err := rows.Err(); err != nil {
		return Columns{}, fmt.Errorf("policystore: detect openIMIS columns: %w", err)
	}
	if !hasCHFID {
		return Columns{}, errors.New(`policystore: no "tblInsuree"."CHFID" on the search path: DATABASE_URL does not point at an openIMIS database (for development, run migrate --dev-schema)`)
	}
	return c, nil
}
