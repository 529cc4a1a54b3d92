package policystore_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/openimis/imis-gateway/migrations"
	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/policystore/demo"
	"github.com/openimis/imis-gateway/policystore/pgtest"
)

// tablesThatGrow are the tables whose rows grow with the scheme: a look-up
// must reach them by key, never by scanning them.
var tablesThatGrow = []string{"tblInsuree", "tblFamilies", "tblInsureePolicy", "tblPolicy", "tblClaim"}

// The look-up queries reach every table that grows by a key, on a database
// without planner statistics (as restored from a dump) and after ANALYZE,
// in the plans PostgreSQL makes for given values and in the generic plan
// it may switch a prepared statement to.
func TestLookupPlansDoNotDependOnStatistics(t *testing.T) {
	ctx := context.Background()
	for _, flavor := range []migrations.Flavor{migrations.FlavorDump, migrations.FlavorDjango} {
		t.Run(string(flavor), func(t *testing.T) {
			s := openStore(t, pgtest.NewDatabase(t, pgtest.WithFlavor(flavor)), policystore.Options{})
			today := time.Now()
			if _, err := demo.Seed(ctx, s.Pool(), today, false); err != nil {
				t.Fatal(err)
			}
			// Compiling a look-up whose estimate passes jit_above_cost, as
			// every one does without statistics on a large scheme, takes longer
			// than a hop may.
			var jit string
			if err := s.Pool().QueryRow(ctx, "SHOW jit").Scan(&jit); err != nil || jit != "off" {
				t.Errorf("the store's connections have jit = %q (%v), want off", jit, err)
			}
			conn, err := pgx.Connect(ctx, s.Pool().Config().ConnConfig.ConnString())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			exec := func(sql string) {
				if _, err := conn.Exec(ctx, sql); err != nil {
					t.Fatal(err)
				}
			}
			grow := func(families int) {
				if err := demo.Grow(ctx, s.Pool(), demo.GrowOptions{Families: families, Today: today}); err != nil {
					t.Fatal(err)
				}
			}
			// On a few dozen rows an analyzed planner rightly scans; that
			// stage has no statistics. 2,000 more families give a scan a
			// cost once the planner knows the tables' sizes.
			for _, stage := range []struct {
				name    string
				prepare func()
			}{
				{"demo data, no statistics", func() { forgetStatistics(t, conn) }},
				{"2,000 families, analyzed", func() { grow(2000); exec("ANALYZE") }},
				{"2,000 families, no statistics", func() { forgetStatistics(t, conn) }},
			} {
				stage.prepare()
				for _, q := range []struct {
					name, sql string
					args      []any
				}{
					{"coverage", policystore.CoverageSQL, []any{"101203401"}},
					{"claims", policystore.ClaimsSQL, []any{"101203401", 5}},
				} {
					for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
						scanned := fullScans(t, conn, mode, q.sql, q.args)
						for _, table := range tablesThatGrow {
							if slices.Contains(scanned, table) {
								t.Errorf("%s, %s, %s: %s read whole", stage.name, q.name, mode, table)
							}
						}
					}
				}
			}
		})
	}
}

// forgetStatistics puts the openIMIS tables back in the state of a fresh
// restore: no column statistics, row counts unknown.
func forgetStatistics(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	for _, sql := range []string{
		`DELETE FROM pg_statistic WHERE starelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)`,
		`UPDATE pg_class SET reltuples = -1, relpages = 0 WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'`,
	} {
		if _, err := conn.Exec(context.Background(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

// fullScans explains sql under plan_cache_mode mode and returns the tables
// its plan reads whole: by a sequential scan, or by an index scan with no
// condition on the index (which a partial index matching the query's
// filter makes look cheap). A bitmap index scan without a condition counts
// as "index".
func fullScans(t *testing.T, conn *pgx.Conn, mode, sql string, args []any) []string {
	t.Helper()
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "SET plan_cache_mode = "+mode); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Prepare(ctx, "lookup", sql); err != nil {
		t.Fatal(err)
	}
	defer conn.Deallocate(ctx, "lookup") //nolint:errcheck // the connection is the test's
	var plan []struct{ Plan planNode }
	// A prepared statement is explained through EXECUTE, which takes
	// literals only.
	explain := "EXPLAIN (FORMAT JSON) EXECUTE lookup(" + literals(args) + ")"
	if err := conn.QueryRow(ctx, explain).Scan(&plan); err != nil {
		t.Fatalf("%s: %v", explain, err)
	}
	var scanned []string
	var walk func(n planNode)
	walk = func(n planNode) {
		switch {
		case n.NodeType == "Seq Scan":
			scanned = append(scanned, n.RelationName)
		case strings.HasPrefix(n.NodeType, "Index") && n.IndexCond == "":
			scanned = append(scanned, n.RelationName)
		case n.NodeType == "Bitmap Index Scan" && n.IndexCond == "":
			scanned = append(scanned, "index")
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(plan[0].Plan)
	return scanned
}

type planNode struct {
	NodeType     string     `json:"Node Type"`
	RelationName string     `json:"Relation Name"`
	IndexCond    string     `json:"Index Cond"`
	Plans        []planNode `json:"Plans"`
}

func literals(args []any) string {
	out := make([]string, len(args))
	for i, a := range args {
		if s, ok := a.(string); ok {
			out[i] = "'" + strings.ReplaceAll(s, "'", "''") + "'"
		} else {
			out[i] = fmt.Sprint(a)
		}
	}
	return strings.Join(out, ", ")
}
