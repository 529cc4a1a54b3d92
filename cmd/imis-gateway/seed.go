package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/policystore/demo"
)

func seedDemo(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "seed-demo",
		"Load the deterministic demo data (locations, products, officers, families, policies in every\n"+
			"state, claims) into a development database made by 'migrate --dev-schema'. Dates are computed\n"+
			"from today, so the demo shows the same cases whenever it is loaded.",
		[][2]string{
			{"DATABASE_URL", "PostgreSQL URL of the development database (required)"},
			{"TIME_ZONE", "the scheme's time zone, deciding \"today\" (default UTC)"},
		})
	reset := fs.Bool("reset", false, "empty the openIMIS tables first (only on a database made by --dev-schema)")
	todayFlag := fs.String("today", "", "compute dates from this day (YYYY-MM-DD) instead of today")
	quiet := fs.Bool("quiet", false, "do not print the table of demo insurance numbers")
	grow := fs.Int("grow", 0, "then add this many synthetic families (about four insurees each, with policies, claims,\n"+
		"villages and officers), with COPY and a progress line per chunk: 2500000 makes a national scheme\n"+
		"of ten million insurees (numbers from 1000000000 up; see BENCHMARKS.md)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	url := env.getenv("DATABASE_URL")
	if url == "" {
		return errors.New("DATABASE_URL is required")
	}
	loc, err := time.LoadLocation(cmp.Or(env.getenv("TIME_ZONE"), "UTC"))
	if err != nil {
		return fmt.Errorf("TIME_ZONE: %w", err)
	}
	today := time.Now().In(loc)
	if *todayFlag != "" {
		if today, err = time.Parse(time.DateOnly, *todayFlag); err != nil {
			return fmt.Errorf("--today: want YYYY-MM-DD: %w", err)
		}
	}

	store, err := policystore.Open(ctx, url, policystore.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	summary, err := demo.Seed(ctx, store.Pool(), today, *reset)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, summary)
	if *grow > 0 {
		fmt.Fprintf(env.stdout, "Growing the database by %d synthetic families...\n", *grow)
		start := time.Now()
		if err := demo.Grow(ctx, store.Pool(), demo.GrowOptions{Families: *grow, Today: today, Progress: env.stdout}); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "Added %d families in %s.\n", *grow, time.Since(start).Round(time.Second))
	}
	if *quiet {
		return nil
	}
	fmt.Fprintln(env.stdout, "\nDemo insurance numbers:")
	tw := tabwriter.NewWriter(env.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  CHFID\tname\tshows")
	for _, c := range demo.Catalogue {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.CHFID, c.Name, c.Shows)
	}
	tw.Flush() //nolint:errcheck
	fmt.Fprintln(env.stdout, "\nEnrolment officers (each renews only in its area):")
	tw = tabwriter.NewWriter(env.stdout, 2, 4, 2, ' ', 0)
	for _, o := range demo.Officers {
		if o.Current {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", o.Code, o.Name, o.Phone, o.Area)
		} else {
			fmt.Fprintf(tw, "  %s\t%s\t%s\tleft\n", o.Code, o.Name, o.Phone)
		}
	}
	tw.Flush() //nolint:errcheck
	return nil
}
