package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/openimis/imis-gateway/gateway"
	"github.com/openimis/imis-gateway/policystore"
)

var traceEnv = [][2]string{
	{"DATABASE_URL", "PostgreSQL URL of the openIMIS database the gateway serves (required)"},
	{"PHONE_REGION", "ISO country for local phone numbers given to --phone (default TZ)"},
}

// traceCmd prints a caller's conversations from the conversation trace, as
// the support page shows them.
func traceCmd(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "trace", "Show what a caller saw and did: USSD sessions hop by hop (the screen sent, what was typed),\n"+
		"SMS in and out with their delivery reports, renewals and refusals, oldest first.\n"+
		"Give exactly one of --phone, --session, --chfid or --receipt. Examples:\n"+
		"  imis-gateway trace --phone 0712111222 --since 24h\n"+
		"  imis-gateway trace --session ATUid_1234 --json", traceEnv)
	var q gateway.TraceQuery
	fs.StringVar(&q.Phone, "phone", "", "the caller's phone number, in any usual form (+255712111222, 0712 111 222)")
	fs.StringVar(&q.SessionID, "session", "", "a USSD session id, as the aggregator names it")
	fs.StringVar(&q.CHFID, "chfid", "", "an insurance number typed or renewed")
	fs.StringVar(&q.Receipt, "receipt", "", "a renewal's receipt number")
	since := fs.String("since", "7d", "how far back to look: 24h, 7d, ...")
	asJSON := fs.Bool("json", false, "print the timeline as JSON, one document")
	if err := fs.Parse(args); err != nil {
		return err
	}
	back, err := gateway.ParseSince(*since, 0)
	if err != nil {
		return err
	}
	q.Since = time.Now().Add(-back)
	q.PhoneRegion = strings.ToUpper(cmp.Or(env.getenv("PHONE_REGION"), "TZ"))
	if q.Phone == "" && q.SessionID == "" && q.CHFID == "" && q.Receipt == "" {
		fs.Usage()
		return errUsage
	}
	databaseURL := env.getenv("DATABASE_URL")
	if databaseURL == "" {
		return fmt.Errorf("DATABASE_URL is required")
	}
	store, err := policystore.Open(ctx, databaseURL, policystore.Options{MaxConns: 1})
	if err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	defer store.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tl, err := gateway.SearchTrace(ctx, store.Pool(), q)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(tl)
	}
	printTimeline(env.stdout, tl)
	return nil
}

// printTimeline writes tl for a terminal: each hop's input, then the screen
// indented as the phone showed it.
func printTimeline(w io.Writer, tl gateway.Timeline) {
	if len(tl.Items) == 0 {
		fmt.Fprintln(w, "Nothing recorded for this search in that time.")
		return
	}
	if tl.Truncated {
		fmt.Fprintln(w, "(only the newest lines found; narrow the search with --since)")
	}
	clock := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }
	indent := func(s string) string { return "      | " + strings.ReplaceAll(s, "\n", "\n      | ") }
	for _, item := range tl.Items {
		if c := item.Session; c != nil {
			fmt.Fprintf(w, "\n%s  USSD session %s (%s) %s\n", clock(item.At), c.SessionID, c.Provider, c.Phone)
			for _, h := range c.Hops {
				typed := "(dialled)"
				if h.Input != "" {
					typed = fmt.Sprintf("typed %q at %s", h.Input, h.Asked)
				}
				end := ""
				if h.Ended {
					end = ", session ended"
				}
				fmt.Fprintf(w, "  %s  %s → %s, %s in %s%s\n", clock(h.At), typed, h.Node, h.Outcome,
					h.Took.Round(100*time.Microsecond), end)
				if h.Screen != "" {
					fmt.Fprintln(w, indent(h.Screen))
				}
			}
			continue
		}
		l := item.Line
		fmt.Fprintf(w, "\n%s  %s %s %s (%s)", clock(l.At), l.Kind, l.Outcome, l.Phone, l.Provider)
		for _, f := range [][2]string{{"insurance number", l.CHFID}, {"receipt", l.Receipt}, {"session", l.SessionID},
			{"message", l.MessageID}, {"link", l.Link}, {"", l.Detail}} {
			if f[1] != "" {
				fmt.Fprintf(w, ", %s", strings.TrimSpace(f[0]+" "+f[1]))
			}
		}
		fmt.Fprintln(w)
		if l.Screen != "" {
			fmt.Fprintln(w, indent(l.Screen))
		}
		for _, d := range item.Deliveries {
			fmt.Fprintf(w, "  %s  delivery report: %s (%s)\n", clock(d.At), d.Outcome, d.Detail)
		}
	}
}
