package migrations_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"testing"

	"github.com/openimis/imis-gateway/migrations"
	"github.com/openimis/imis-gateway/policystore/pgtest"
)

func TestDevSchemaThenMigrationsAreIdempotent(t *testing.T) {
	for _, flavor := range []migrations.Flavor{migrations.FlavorDjango, migrations.FlavorDump} {
		t.Run(string(flavor), func(t *testing.T) {
			ctx := context.Background()
			db := open(t, pgtest.NewDatabase(t, pgtest.WithFlavor(flavor)))

			created, err := migrations.CreateDevSchema(ctx, db, flavor)
			if err != nil || created {
				t.Fatalf("second --dev-schema: created=%v err=%v, want a no-op", created, err)
			}
			applied, err := migrations.Up(ctx, db, nil)
			if err != nil || len(applied) != 0 {
				t.Fatalf("second migrate: applied=%v err=%v, want nothing", applied, err)
			}
			pending, err := migrations.Pending(ctx, db)
			if err != nil || pending {
				t.Fatalf("pending=%v err=%v", pending, err)
			}
			var indexes int
			err = db.QueryRowContext(ctx, `SELECT count(*) FROM pg_indexes
				WHERE indexname IN ('imisgw_insuree_chfid', 'imisgw_insureepolicy_insuree')`).Scan(&indexes)
			if err != nil || indexes != 2 {
				t.Fatalf("enquiry indexes: %d, %v", indexes, err)
			}
			var chfidWidth int
			err = db.QueryRowContext(ctx, `SELECT character_maximum_length FROM information_schema.columns
				WHERE table_name = 'tblInsuree' AND column_name = 'CHFID'`).Scan(&chfidWidth)
			want := map[migrations.Flavor]int{migrations.FlavorDjango: 50, migrations.FlavorDump: 12}[flavor]
			if err != nil || chfidWidth != want {
				t.Fatalf("CHFID width %d (%v), want %d", chfidWidth, err, want)
			}
		})
	}
}

func TestDevSchemaRefusesAForeignOpenIMISDatabase(t *testing.T) {
	ctx := context.Background()
	db := open(t, pgtest.NewDatabase(t, pgtest.Empty()))
	if _, err := db.ExecContext(ctx, `CREATE TABLE "tblInsuree" ("InsureeID" serial PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	if _, err := migrations.CreateDevSchema(ctx, db, migrations.FlavorDjango); !errors.Is(err, migrations.ErrForeignOpenIMIS) {
		t.Fatalf("err = %v, want ErrForeignOpenIMIS", err)
	}
	if dev, err := migrations.IsDevDatabase(ctx, db); err != nil || dev {
		t.Fatalf("IsDevDatabase = %v, %v", dev, err)
	}
}

func TestUpRefusesADatabaseWithoutOpenIMIS(t *testing.T) {
	db := open(t, pgtest.NewDatabase(t, pgtest.Empty()))
	if _, err := migrations.Up(context.Background(), db, nil); !errors.Is(err, migrations.ErrNoOpenIMIS) {
		t.Fatalf("err = %v, want ErrNoOpenIMIS", err)
	}
}

func open(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := migrations.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestOpenTakesTheGatewaysURL: DATABASE_URL may carry pool settings for the
// gateway's pool; the migrations' own connection must not pass them on.
func TestOpenTakesTheGatewaysURL(t *testing.T) {
	dbURL, err := url.Parse(pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	q := dbURL.Query()
	q.Set("pool_max_conns", "3")
	dbURL.RawQuery = q.Encode()
	db, err := migrations.Open(dbURL.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if pending, err := migrations.Pending(context.Background(), db); err != nil || pending {
		t.Fatalf("pending=%v err=%v", pending, err)
	}
}
