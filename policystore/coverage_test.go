package policystore_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/migrations"
	"github.com/openimis/imis-gateway/openimis"
	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/policystore/demo"
	"github.com/openimis/imis-gateway/policystore/pgtest"
)

var today = time.Date(2025, time.March, 10, 0, 0, 0, 0, time.UTC)

func d(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }

func openStore(t testing.TB, url string, opt policystore.Options) *policystore.Store {
	t.Helper()
	s, err := policystore.Open(context.Background(), url, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func seededStore(t testing.TB, flavor migrations.Flavor) *policystore.Store {
	t.Helper()
	s := openStore(t, pgtest.NewDatabase(t, pgtest.WithFlavor(flavor)), policystore.Options{})
	if _, err := demo.Seed(context.Background(), s.Pool(), today, false); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestColumnsOnBothFlavors(t *testing.T) {
	want := map[migrations.Flavor]policystore.Columns{
		migrations.FlavorDjango: {InsureeStatus: true, PolicyCreationDate: true, CHFIDMaxLen: 50},
		migrations.FlavorDump:   {InsureeStatus: false, PolicyCreationDate: false, CHFIDMaxLen: 12},
	}
	for flavor, w := range want {
		t.Run(string(flavor), func(t *testing.T) {
			s := openStore(t, pgtest.NewDatabase(t, pgtest.WithFlavor(flavor)), policystore.Options{})
			if got := s.Columns(); got != w {
				t.Fatalf("Columns() = %+v, want %+v", got, w)
			}
			if err := s.Ping(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestOpenRefusesADatabaseWithoutOpenIMIS(t *testing.T) {
	_, err := policystore.Open(context.Background(), pgtest.NewDatabase(t, pgtest.Empty()), policystore.Options{})
	if err == nil || !strings.Contains(err.Error(), "not point at an openIMIS database") {
		t.Fatalf("err = %v", err)
	}
}

func TestCoverage(t *testing.T) {
	for _, flavor := range []migrations.Flavor{migrations.FlavorDjango, migrations.FlavorDump} {
		t.Run(string(flavor), func(t *testing.T) { testCoverage(t, seededStore(t, flavor)) })
	}
}

func testCoverage(t *testing.T, s *policystore.Store) {
	ctx := context.Background()

	t.Run("unknown numbers", func(t *testing.T) {
		for _, chfid := range []string{"999999999", "", "   ", "10120340", "1012034011", "101203401\x00", "\xff\xfe", strings.Repeat("1", 60), "101203401' OR '1'='1"} {
			if _, err := s.Coverage(ctx, chfid, today); !errors.Is(err, openimis.ErrInsureeNotFound) {
				t.Errorf("Coverage(%q): err = %v, want ErrInsureeNotFound", chfid, err)
			}
		}
	})

	t.Run("covered head, input trimmed", func(t *testing.T) {
		c, err := s.Coverage(ctx, "  101203401\t", today)
		if err != nil {
			t.Fatal(err)
		}
		if c.CHFID != "101203401" || c.LastName != "Mrisho" || c.OtherNames != "Juma Hassan" ||
			c.Phone != "0712 111 222" || c.HeadPhone != "0712 111 222" {
			t.Fatalf("got %+v", c)
		}
		if len(c.Policies) != 1 {
			t.Fatalf("%d lines", len(c.Policies))
		}
		p := c.Policies[0]
		// Started five months before the seeding day, for twelve months.
		if p.ProductCode != "FAM01" || p.ProductName != "CHF Family Basic" || p.PolicyStatus != 2 || p.Status != openimis.Covered ||
			!p.EffectiveDate.Equal(d(2024, time.October, 10)) || !p.ExpiryDate.Equal(d(2025, time.October, 9)) {
			t.Fatalf("line %+v", p)
		}
	})

	t.Run("member's own phone and the head's", func(t *testing.T) {
		c, err := s.Coverage(ctx, "101203402", today)
		if err != nil || c.Phone != "0765 432 109" || c.HeadPhone != "0712 111 222" {
			t.Fatalf("%+v, %v", c, err)
		}
		c, err = s.Coverage(ctx, "48214", today) // head's phone is NULL
		if err != nil || c.Phone != "0744321987" || c.HeadPhone != "" {
			t.Fatalf("%+v, %v", c, err)
		}
	})

	t.Run("insuree without a policy", func(t *testing.T) {
		c, err := s.Coverage(ctx, "907712214", today)
		if err != nil || c.LastName != "Marwa" || len(c.Policies) != 0 {
			t.Fatalf("%+v, %v", c, err)
		}
	})

	t.Run("member added after the policy", func(t *testing.T) {
		c, err := s.Coverage(ctx, "806245533", today)
		if err != nil || len(c.Policies) != 0 || c.HeadPhone != "0712 909 808" {
			t.Fatalf("%+v, %v", c, err)
		}
	})

	t.Run("covered first, then by expiry", func(t *testing.T) {
		c, err := s.Coverage(ctx, "48213", today) // renewal + the expired policy it renewed
		if err != nil || len(c.Policies) != 2 {
			t.Fatalf("%+v, %v", c, err)
		}
		if c.Policies[0].Status != openimis.Covered || c.Policies[1].Status != openimis.Expired ||
			!c.Policies[0].ExpiryDate.After(c.Policies[1].ExpiryDate) {
			t.Fatalf("order %+v", c.Policies)
		}
		c, err = s.Coverage(ctx, "705338812", today) // two products
		if err != nil || len(c.Policies) != 2 || c.Policies[0].ProductCode != "FAM01" || c.Policies[1].ProductCode != "IND01" ||
			c.Policies[1].Status != openimis.Expired {
			t.Fatalf("%+v, %v", c, err)
		}
	})

	t.Run("covered first even when another line expires later", func(t *testing.T) {
		// An unpaid renewal (Idle, no effective date) registered for the
		// covered head: it expires later, yet the covered line leads.
		_, err := s.Pool().Exec(ctx, `
			WITH prev AS (
			  SELECT p.* FROM "tblPolicy" p JOIN "tblInsuree" i ON i."FamilyID" = p."FamilyID"
			  WHERE i."CHFID" = '604120019' AND p."ValidityTo" IS NULL AND i."ValidityTo" IS NULL
			), renewal AS (
			  INSERT INTO "tblPolicy" ("PolicyUUID", "FamilyID", "ProdID", "OfficerID", "PolicyStage", "PolicyStatus", "PolicyValue",
			    "EnrollDate", "StartDate", "EffectiveDate", "ExpiryDate", "isOffline", "ValidityFrom", "AuditUserID")
			  SELECT 'b1c1a7e2-0000-4000-8000-000000000001', "FamilyID", "ProdID", "OfficerID", 'R', 1, "PolicyValue",
			    $1::date, "ExpiryDate" + 1, NULL, ("ExpiryDate" + interval '12 months')::date, false, now(), -1 FROM prev
			  RETURNING "PolicyID", "EnrollDate", "StartDate", "ExpiryDate"
			)
			INSERT INTO "tblInsureePolicy" ("InsureeID", "PolicyId", "EnrollmentDate", "StartDate", "EffectiveDate", "ExpiryDate", "isOffline", "ValidityFrom", "AuditUserID")
			SELECT i."InsureeID", r."PolicyID", r."EnrollDate", r."StartDate", NULL, r."ExpiryDate", false, now(), -1
			FROM renewal r, "tblInsuree" i WHERE i."CHFID" = '604120019' AND i."ValidityTo" IS NULL`, today)
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.Coverage(ctx, "604120019", today)
		if err != nil || len(c.Policies) != 2 {
			t.Fatalf("%+v, %v", c, err)
		}
		if c.Policies[0].Status != openimis.Covered || c.Policies[1].Status != openimis.NotYetActive ||
			!c.Policies[1].ExpiryDate.After(c.Policies[0].ExpiryDate) {
			t.Fatalf("covered line not first: %+v", c.Policies)
		}
	})

	t.Run("expired by date while still Active", func(t *testing.T) {
		c, err := s.Coverage(ctx, "20461301", today)
		if err != nil || len(c.Policies) != 1 || c.Policies[0].PolicyStatus != 2 || c.Policies[0].Status != openimis.Expired {
			t.Fatalf("%+v, %v", c, err)
		}
	})

	t.Run("death cuts the member's line only", func(t *testing.T) {
		dead, err := s.Coverage(ctx, "120507768", today)
		if err != nil || len(dead.Policies) != 1 || dead.Policies[0].Status != openimis.Expired {
			t.Fatalf("%+v, %v", dead, err)
		}
		son, err := s.Coverage(ctx, "120507734", today)
		if err != nil || len(son.Policies) != 1 || son.Policies[0].Status != openimis.Covered {
			t.Fatalf("%+v, %v", son, err)
		}
	})
}

// The demo insuree 110034517 has an older version of her row with the same
// CHFID, and her policy an Idle version whose member rows are history too.
// Neither may add a line, nor the old name.
func TestCoverageIgnoresHistoryRows(t *testing.T) {
	ctx := context.Background()
	s := seededStore(t, migrations.FlavorDjango)
	var insurees, memberRows int
	err := s.Pool().QueryRow(ctx, `SELECT
		(SELECT count(*) FROM "tblInsuree" WHERE "CHFID" = '110034517'),
		(SELECT count(*) FROM "tblInsureePolicy" ip JOIN "tblInsuree" i ON i."InsureeID" = ip."InsureeID" WHERE i."CHFID" = '110034517')`).
		Scan(&insurees, &memberRows)
	if err != nil || insurees != 2 || memberRows != 2 {
		t.Fatalf("the demo lost its history rows: %d insuree rows, %d member rows, %v", insurees, memberRows, err)
	}
	c, err := s.Coverage(ctx, "110034517", today)
	if err != nil {
		t.Fatal(err)
	}
	if c.LastName != "Laizer" || c.Phone != "0757 246 810" || len(c.Policies) != 1 ||
		c.Policies[0].Status != openimis.Covered || c.Policies[0].EffectiveDate.IsZero() {
		t.Fatalf("%+v", c)
	}

	// A deleted insuree (its only row has "ValidityTo" set) is unknown.
	if _, err := s.Pool().Exec(ctx, `UPDATE "tblInsuree" SET "ValidityTo" = now() WHERE "CHFID" = '907712222'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Coverage(ctx, "907712222", today); !errors.Is(err, openimis.ErrInsureeNotFound) {
		t.Fatalf("deleted insuree: err = %v", err)
	}
	// A deleted policy no longer counts (its member rows still point at it).
	if _, err := s.Pool().Exec(ctx, `UPDATE "tblPolicy" p SET "ValidityTo" = now() FROM "tblInsuree" i
		WHERE i."FamilyID" = p."FamilyID" AND i."CHFID" = '20461301' AND i."ValidityTo" IS NULL`); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Coverage(ctx, "20461301", today); err != nil || len(c.Policies) != 0 {
		t.Fatalf("deleted policy: %+v, %v", c, err)
	}
	// So does a policy of a deleted product.
	if _, err := s.Pool().Exec(ctx, `UPDATE "tblProduct" SET "ValidityTo" = now() WHERE "ProductCode" = 'CHF00'`); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Coverage(ctx, "310482215", today); err != nil || len(c.Policies) != 0 {
		t.Fatalf("deleted product: %+v, %v", c, err)
	}
	// A deleted member row (a member taken off the policy) no longer counts.
	if _, err := s.Pool().Exec(ctx, `UPDATE "tblInsureePolicy" ip SET "ValidityTo" = now() FROM "tblInsuree" i
		WHERE i."InsureeID" = ip."InsureeID" AND i."CHFID" = '110034525'`); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Coverage(ctx, "110034525", today); err != nil || len(c.Policies) != 0 {
		t.Fatalf("deleted member row: %+v, %v", c, err)
	}
}

func TestOpenFailsFastWhenPostgreSQLIsUnreachable(t *testing.T) {
	// A port nobody listens on: refused at once.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	start := time.Now()
	_, err = policystore.Open(context.Background(), "postgres://gw:s3cret@"+closed+"/openimis?sslmode=disable", policystore.Options{})
	if err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("closed port: err = %v after %v", err, time.Since(start))
	}
	if msg := err.Error(); !strings.Contains(msg, "connect to PostgreSQL at 127.0.0.1:") || strings.Contains(msg, "s3cret") {
		t.Fatalf("unclear or leaky error: %v", err)
	}

	// A server that accepts and never answers: the connect timeout ends it.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start = time.Now()
	_, err = policystore.Open(context.Background(), "postgres://gw@"+silent.Addr().String()+"/openimis?sslmode=disable&connect_timeout=1", policystore.Options{})
	if took := time.Since(start); err == nil || took > 3*time.Second {
		t.Fatalf("silent server: err = %v after %v", err, took)
	}
}

// A query stuck behind a lock returns when its context, or the store's
// QueryTimeout, expires, and the store keeps working afterwards.
func TestCoverageReturnsWhenItsTimeIsUp(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	s := openStore(t, url, policystore.Options{QueryTimeout: 300 * time.Millisecond})
	if _, err := demo.Seed(ctx, s.Pool(), today, false); err != nil {
		t.Fatal(err)
	}
	blocker := openStore(t, url, policystore.Options{})
	tx, err := blocker.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if _, err := tx.Exec(ctx, `LOCK TABLE "tblInsuree" IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}

	callerCtx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = s.Coverage(callerCtx, "101203401", today)
	if took := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || took > time.Second {
		t.Fatalf("caller's deadline: err = %v after %v", err, took)
	}

	start = time.Now()
	_, err = s.Coverage(ctx, "101203401", today)
	if took := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || took > 1500*time.Millisecond {
		t.Fatalf("QueryTimeout: err = %v after %v", err, took)
	}

	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Coverage(ctx, "101203401", today); err != nil || len(c.Policies) != 1 {
		t.Fatalf("after the lock: %+v, %v", c, err)
	}
}

// BenchmarkCoverage measures one membership check against the seeded demo
// database, over the Catalogue's numbers.
func BenchmarkCoverage(b *testing.B) {
	s := seededStore(b, migrations.FlavorDjango)
	ctx := context.Background()
	numbers := make([]string, len(demo.Catalogue))
	for i, c := range demo.Catalogue {
		numbers[i] = c.CHFID
	}
	check := func(i int) {
		if _, err := s.Coverage(ctx, numbers[i%len(numbers)], today); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		i := 0
		for b.Loop() {
			check(i)
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				check(int(next.Add(1)))
			}
		})
	})
	b.Run("unknown", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Coverage(ctx, "999999999", today); !errors.Is(err, openimis.ErrInsureeNotFound) {
				b.Fatal(err)
			}
		}
	})
}
