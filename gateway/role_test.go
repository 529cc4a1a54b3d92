package gateway_test

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestServesWithTheLeastPrivilegeRole runs the gateway's work as the role
// deploy/postgres-role.sql makes (the README's production checklist): a
// membership check, a claims list, a renewal by USSD with its confirmation
// SMS, SMS commands and a language choice. A right missing from the file
// fails here, not on a scheme's server.
func TestServesWithTheLeastPrivilegeRole(t *testing.T) {
	ctx := context.Background()
	ownerURL := seededDatabase(t)
	grants, err := os.ReadFile("../deploy/postgres-role.sql")
	if err != nil {
		t.Fatal(err)
	}
	owner, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close(ctx)
	// Roles belong to the whole cluster: another test run may have made it.
	if _, err := owner.Exec(ctx, `DO $$ BEGIN CREATE ROLE imis_gateway_app LOGIN;
		EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Exec(ctx, string(grants)); err != nil {
		t.Fatalf("deploy/postgres-role.sql: %v", err)
	}
	appURL, err := url.Parse(ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	appURL.User = url.User("imis_gateway_app")

	g := newSMSGatewayOn(t, appURL.String(), slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if got := mustEND(t, g.hop("ATUid_role_1", headA, "1*101203401")); !strings.Contains(got, "Juma Hassan Mrisho") {
		t.Errorf("membership: %q", got)
	}
	if got := mustCON(t, g.hop("ATUid_role_2", headA, "2*101203401")); !strings.Contains(got, "MKH00342") {
		t.Errorf("claims: %q", got)
	}
	quote := quoteFor(t, g.store, officerEO001, "604120019", "")
	route := "3*604120019*RC-ROLE-1*" + quote.Value.String() + "*1"
	if got := mustEND(t, g.hop("ATUid_role_3", officerEO001, route)); !strings.Contains(got, "renewed") {
		t.Errorf("renewal: %q", got)
	}
	g.sms("role-1", headA, "LANG sw")
	g.sms("role-2", stranger, "CHECK 101203401")
	sent := g.sent(officerEO001, "+255754100200", headA, stranger)
	if got := sent[headA]; len(got) != 1 || got[0] != "Lugha imehifadhiwa." {
		t.Errorf("LANG: %q", got)
	}
	if got := sent[stranger]; len(got) != 1 || !strings.Contains(got[0], "J*** H*** M***") {
		t.Errorf("CHECK: %q", got)
	}
}
