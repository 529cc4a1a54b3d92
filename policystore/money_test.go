package policystore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/openimis/imis-gateway/openimis"
	"github.com/openimis/imis-gateway/policystore/pgtest"
)

// TestMoneyNumericRoundTrip reads and writes numeric through pgx exactly.
func TestMoneyNumericRoundTrip(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.NewDatabase(t, pgtest.Empty()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, m := range []openimis.Money{0, 1, 3700000, 3700050, -125, openimis.MaxMoney} {
		var back openimis.Money
		var text string
		if err := conn.QueryRow(ctx, `SELECT $1::numeric(18,2), $1::numeric(18,2)::text`, m).Scan(&back, &text); err != nil {
			t.Fatal(err)
		}
		if back != m || text != m.String() {
			t.Errorf("%d: back %d, text %q", m, back, text)
		}
	}
	var m openimis.Money
	for lit, want := range map[string]openimis.Money{"30000": 3000000, "1e3": 100000, "12.3": 1230, "NULL::numeric": 0} {
		if err := conn.QueryRow(ctx, `SELECT `+lit+`::numeric`).Scan(&m); err != nil || m != want {
			t.Errorf("%s: %d, %v; want %d", lit, m, err, want)
		}
	}
	for _, lit := range []string{"12.345", "'NaN'", "'Infinity'", "1e17"} {
		if err := conn.QueryRow(ctx, `SELECT `+lit+`::numeric`).Scan(&m); !errors.Is(err, openimis.ErrMoneyRange) {
			t.Errorf("%s: err = %v, want ErrMoneyRange", lit, err)
		}
	}
}
