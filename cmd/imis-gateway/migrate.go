package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/openimis/imis-gateway/migrations"
)

func migrate(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "migrate",
		"Apply the gateway's migrations: its own schema "+migrations.Schema+" and indexes on openIMIS tables.\n"+
			"With --dev-schema, first create the openIMIS tables a development database needs\n"+
			"(refused on a database that already has openIMIS tables).",
		[][2]string{{"DATABASE_URL", "PostgreSQL URL of the openIMIS database (required)"}})
	dev := fs.Bool("dev-schema", false, "also create the openIMIS development schema (development and tests only)")
	flavor := fs.String("flavor", string(migrations.FlavorDjango),
		"with --dev-schema: imitate a Django-migrated database (\"django\") or the 1.4.2 dump (\"1.4.2\")")
	if err := fs.Parse(args); err != nil {
		return err
	}
	url := env.getenv("DATABASE_URL")
	if url == "" {
		return errors.New("DATABASE_URL is required")
	}
	db, err := migrations.Open(url)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}

	if *dev {
		created, err := migrations.CreateDevSchema(ctx, db, migrations.Flavor(*flavor))
		if err != nil {
			return err
		}
		if created {
			fmt.Fprintf(env.stdout, "created the openIMIS development schema (%s)\n", *flavor)
		} else {
			fmt.Fprintln(env.stdout, "openIMIS development schema already present")
		}
	}
	applied, err := migrations.Up(ctx, db, slog.New(slog.DiscardHandler))
	for _, name := range applied {
		fmt.Fprintf(env.stdout, "applied %s\n", name)
	}
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(env.stdout, "migrations: up to date")
	}
	return nil
}
