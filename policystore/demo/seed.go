// Package demo loads deterministic, realistic demo data into an openIMIS
// database: `imis-gateway seed-demo` calls Seed, and the tests of the
// gateway's packages use the same data. Catalogue lists the insurance numbers
// worth trying and what each shows; Officers the enrolment officers.
//
// Everything is fixed (names, numbers, amounts, UUIDs derived by name)
// except the dates, computed from the seeding day so that "expires in 9 days"
// stays true whenever the demo is loaded.
package demo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/openimis/imis-gateway/migrations"
	"github.com/openimis/imis-gateway/policystore"
)

// ErrNotDevDatabase refuses a reset of a database whose openIMIS tables the
// gateway did not create.
var ErrNotDevDatabase = errors.New("demo: refusing to reset: this database's openIMIS tables were not created by `imis-gateway migrate --dev-schema`, and a reset deletes every row of them")

// Summary says what Seed did.
type Summary struct {
	Today time.Time // the day the dates were computed from
	// AlreadySeeded: the demo data was there already; nothing was written.
	AlreadySeeded bool
	// Reset: the openIMIS tables were emptied before seeding.
	Reset bool

	Locations, HealthFacilities, Products, Officers int
	Families, Insurees, Policies, InsureePolicies   int
	Premiums, Renewals, Claims                      int
	HistoryRows                                     int // older versions, "ValidityTo" set
}

func (s Summary) String() string {
	if s.AlreadySeeded {
		return "demo data already present; nothing written (use --reset on a development database to reload it with today's dates)"
	}
	var b strings.Builder
	if s.Reset {
		b.WriteString("openIMIS tables emptied; ")
	}
	fmt.Fprintf(&b, "demo data seeded for %s: %d locations, %d health facilities, %d products, %d officers, "+
		"%d families, %d insurees, %d policies (%d member rows), %d premiums, %d renewal reminders, %d claims, %d history rows",
		s.Today.Format(time.DateOnly), s.Locations, s.HealthFacilities, s.Products, s.Officers,
		s.Families, s.Insurees, s.Policies, s.InsureePolicies, s.Premiums, s.Renewals, s.Claims, s.HistoryRows)
	return b.String()
}

// devTables are the openIMIS tables that `migrate --dev-schema` creates and a
// reset empties; "tblIMISDefaults" is configuration, not data, and stays.
var devTables = []string{
	"tblClaimDedRem", "tblClaim", "tblPolicyRenewals", "tblPremium", "tblInsureePolicy", "tblPolicy",
	"tblFamilySMS", "tblInsuree", "tblFamilies", "tblOfficerVillages", "tblOfficer", "tblProduct",
	"tblHF", "tblLocations",
}

// gatewayTables are the gateway's own tables that hold what users did with
// the demo data; a reset empties those that exist.
var gatewayTables = []string{"renewal", "outbox", "inbound_sms", "delivery_report", "phone_language"}

// Written on every row, as the gateway writes "AuditUserID" by default
// (README.md, "Configuration"), and as the origin of the rows.
const (
	auditUser = -1
	source    = "imis-gateway demo"
)

// Seed writes the demo data in one transaction, with dates computed from
// today (the scheme-local date).
//
// Without reset it is idempotent: when the demo data is there already it
// writes nothing and says so in Summary; when other rows use the demo's
// insurance numbers or codes it refuses rather than mix with them.
//
// With reset, allowed only on a database made by `migrate --dev-schema`
// (migrations.IsDevDatabase), it first deletes every row of the openIMIS
// tables (TRUNCATE … RESTART IDENTITY CASCADE, so identifiers restart too
// and the data comes out identical).
func Seed(ctx context.Context, pool *pgxpool.Pool, today time.Time, reset bool) (Summary, error) {
	if pool == nil {
		return Summary{}, errors.New("demo: no database")
	}
	if today.IsZero() {
		return Summary{}, errors.New("demo: no seeding day")
	}
	sum := Summary{Today: date(today)}
	if reset {
		db := stdlib.OpenDBFromPool(pool)
		dev, err := migrations.IsDevDatabase(ctx, db)
		_ = db.Close()
		if err != nil {
			return sum, fmt.Errorf("demo: reset: %w", err)
		}
		if !dev {
			return sum, ErrNotDevDatabase
		}
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		return sum, fmt.Errorf("demo: begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit

	// Two seeders at once would both find no demo data and both write it.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('imis_gateway.seed_demo'))`); err != nil {
		return sum, fmt.Errorf("demo: lock: %w", err)
	}
	cols, err := policystore.DetectColumns(ctx, tx)
	if err != nil {
		return sum, err
	}
	if reset {
		names := make([]string, len(devTables))
		for i, t := range devTables {
			names[i] = pgx.Identifier{t}.Sanitize()
		}
		// The gateway's own records of the old data go too: a receipt or an
		// SMS id remembered from before the reset would otherwise still be
		// "already used".
		var own []string
		err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(format('%I.%I', schemaname, tablename)), '{}')
			FROM pg_tables WHERE schemaname = 'imis_gateway' AND tablename = ANY($1)`, gatewayTables).Scan(&own)
		if err != nil {
			return sum, fmt.Errorf("demo: reset: %w", err)
		}
		if _, err := tx.Exec(ctx, "TRUNCATE "+strings.Join(append(names, own...), ", ")+" RESTART IDENTITY CASCADE"); err != nil {
			return sum, fmt.Errorf("demo: reset: %w", err)
		}
		sum.Reset = true
	} else {
		var seeded bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM "tblProduct" WHERE "ProdUUID" = $1)`,
			uuidOf("product", markerProduct)).Scan(&seeded)
		if err != nil {
			return sum, fmt.Errorf("demo: look for earlier demo data: %w", err)
		}
		if seeded {
			sum.AlreadySeeded = true
			return sum, nil
		}
		if err := checkClashes(ctx, tx); err != nil {
			return sum, err
		}
	}

	w := &writer{tx: tx, cols: cols, today: sum.Today, sum: &sum}
	if err := tx.QueryRow(ctx, `SELECT now()`).Scan(&w.now); err != nil {
		return sum, fmt.Errorf("demo: %w", err)
	}
	if err := w.seed(ctx); err != nil {
		return sum, err
	}
	if err := tx.Commit(ctx); err != nil {
		return sum, fmt.Errorf("demo: commit: %w", err)
	}
	return sum, nil
}

// checkClashes refuses to seed next to current rows that already use the
// demo's insurance numbers or codes (say, a real deployment's): the demo's
// numbers would then answer for two people.
func checkClashes(ctx context.Context, tx pgx.Tx) error {
	var chfids, codes, officerCodes, hfCodes, locCodes []string
	for _, f := range families {
		for _, m := range f.members {
			chfids = append(chfids, m.chfid)
		}
	}
	for _, p := range products {
		codes = append(codes, p.code)
	}
	for _, o := range officers {
		officerCodes = append(officerCodes, o.Code)
	}
	for _, h := range healthFacilities {
		hfCodes = append(hfCodes, h.code)
	}
	for _, l := range locations {
		locCodes = append(locCodes, l.code)
	}
	var n [5]int
	err := tx.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM "tblInsuree"   WHERE "ValidityTo" IS NULL AND "CHFID"        = ANY ($1)),
		(SELECT count(*) FROM "tblProduct"   WHERE "ValidityTo" IS NULL AND "ProductCode"  = ANY ($2)),
		(SELECT count(*) FROM "tblOfficer"   WHERE "ValidityTo" IS NULL AND "Code"         = ANY ($3)),
		(SELECT count(*) FROM "tblHF"        WHERE "ValidityTo" IS NULL AND "HFCode"       = ANY ($4)),
		(SELECT count(*) FROM "tblLocations" WHERE "ValidityTo" IS NULL AND "LocationCode" = ANY ($5))`,
		chfids, codes, officerCodes, hfCodes, locCodes).Scan(&n[0], &n[1], &n[2], &n[3], &n[4])
	if err != nil {
		return fmt.Errorf("demo: look for clashing rows: %w", err)
	}
	var clashes []string
	for i, what := range []string{"insurance numbers", "product codes", "officer codes", "health facility codes", "location codes"} {
		if n[i] > 0 {
			clashes = append(clashes, fmt.Sprintf("%d %s", n[i], what))
		}
	}
	if len(clashes) > 0 {
		return fmt.Errorf("demo: the database already uses %s of the demo data; seed a database made by `migrate --dev-schema`, or reset it", strings.Join(clashes, ", "))
	}
	return nil
}

// namespace derives the demo's UUIDs (version 5, by name): the same on every
// run, lower-case like Django's.
var namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/openimis/imis-gateway/policystore/demo"))

func uuidOf(kind, key string) string {
	return uuid.NewSHA1(namespace, []byte(kind+"/"+key)).String()
}
