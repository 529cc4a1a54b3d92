package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// facts is what the database and the fake SMS API hold after the run.
type facts struct {
	premiumsByReceipt map[string]int // current "tblPremium" rows per receipt of the run (CX...)
	renewals          []renewalRow   // imis_gateway.renewal
	renewalPolicies   map[int]int    // current stage-R policies per synthetic family
	inbound           map[string]inboundRow
	replies           map[string][]outboxRow // outbox rows answering each inbound SMS id
	outbox            []outboxRow
	outboxByStatus    map[string]int
	sent              []sentSMS // the fake SMS API's log
}

type renewalRow struct {
	receipt, chfid, channel string
	familyID                int
}

type inboundRow struct{ status, outcome string }

type outboxRow struct{ recipient, body, status string }

// replyKeyPrefix starts the outbox dedup key of a reply to an inbound SMS
// (docs/design.md, "Inbound SMS").
func replyKeyPrefix() string { return "sms-reply:" + smsWire().Name + ":" }

func readFacts(ctx context.Context, db *pgxpool.Pool) (facts, error) {
	f := facts{premiumsByReceipt: map[string]int{}, renewalPolicies: map[int]int{}, inbound: map[string]inboundRow{},
		replies: map[string][]outboxRow{}, outboxByStatus: map[string]int{}}
	queries := []struct {
		sql  string
		scan func(pgx.Rows) error
	}{
		{`SELECT "Receipt", count(*) FROM "tblPremium" WHERE "ValidityTo" IS NULL AND "Receipt" LIKE 'CX%' GROUP BY 1`,
			func(rows pgx.Rows) error {
				var receipt string
				var n int
				err := rows.Scan(&receipt, &n)
				f.premiumsByReceipt[receipt] = n
				return err
			}},
		{`SELECT receipt, chfid, channel, family_id FROM imis_gateway.renewal`, func(rows pgx.Rows) error {
			var r renewalRow
			err := rows.Scan(&r.receipt, &r.chfid, &r.channel, &r.familyID)
			f.renewals = append(f.renewals, r)
			return err
		}},
		{`SELECT p."FamilyID", count(*) FROM "tblPolicy" p JOIN "tblFamilies" fam ON fam."FamilyID" = p."FamilyID"
			WHERE p."PolicyStage" = 'R' AND p."ValidityTo" IS NULL AND fam."FamilyAddress" LIKE 'Scale %' GROUP BY 1`,
			func(rows pgx.Rows) error {
				var family, n int
				err := rows.Scan(&family, &n)
				f.renewalPolicies[family] = n
				return err
			}},
		{`SELECT message_id, status, COALESCE(outcome, '') FROM imis_gateway.inbound_sms`, func(rows pgx.Rows) error {
			var id string
			var r inboundRow
			err := rows.Scan(&id, &r.status, &r.outcome)
			f.inbound[id] = r
			return err
		}},
		{`SELECT COALESCE(dedup_key, ''), recipient, body, status FROM imis_gateway.outbox`, func(rows pgx.Rows) error {
			var key string
			var r outboxRow
			err := rows.Scan(&key, &r.recipient, &r.body, &r.status)
			f.outboxByStatus[r.status]++
			f.outbox = append(f.outbox, r)
			if id, ok := strings.CutPrefix(key, replyKeyPrefix()); ok {
				f.replies[id] = append(f.replies[id], r)
			}
			return err
		}},
	}
	for _, q := range queries {
		rows, err := db.Query(ctx, q.sql)
		if err != nil {
			return f, fmt.Errorf("reading the results: %w", err)
		}
		for rows.Next() {
			if err := q.scan(rows); err != nil {
				rows.Close()
				return f, fmt.Errorf("reading the results: %w", err)
			}
		}
		if err := rows.Err(); err != nil {
			return f, fmt.Errorf("reading the results: %w", err)
		}
	}
	return f, nil
}

// checkInput is everything the checker judges: what the callers saw, and
// what the database and the SMS API hold.
type checkInput struct {
	hops                  []hopRecord
	sessions              []sessionRecord
	renewals              []renewalAttempt
	sms                   []inboundSMS
	screens               map[string]string
	faults                []fault
	start, end            time.Time
	deadline, hopDeadline time.Duration
	facts                 facts
	drained               bool
}

// report is the checker's verdict.
type report struct {
	in         checkInput
	violations []string
	lines      []string // the report, violations last
}

func (r *report) printf(format string, a ...any) {
	r.lines = append(r.lines, fmt.Sprintf(format, a...))
}

func (r *report) violate(format string, a ...any) {
	r.violations = append(r.violations, fmt.Sprintf(format, a...))
}

func (r *report) print(w io.Writer) {
	for _, l := range r.lines {
		fmt.Fprintln(w, l)
	}
	if len(r.violations) == 0 {
		fmt.Fprintln(w, "\nInvariants: all hold.")
		return
	}
	fmt.Fprintf(w, "\nInvariants BROKEN (%d):\n", len(r.violations))
	for _, v := range r.violations {
		fmt.Fprintln(w, "  - "+v)
	}
}

// check judges the run. Each invariant is a section of its own.
func check(in checkInput) *report {
	r := &report{in: in}
	r.printf("Chaos run: %s of traffic, %d requests to the gateways (%.0f/s), %d USSD sessions and SMS",
		in.end.Sub(in.start).Round(time.Second), len(in.hops), float64(len(in.hops))/in.end.Sub(in.start).Seconds(), len(in.sessions))
	r.sessionsByKind()
	r.hopTimes()
	r.renewalsWrittenOnce()
	r.confirmedRenewalsKept()
	r.inboundAnsweredOnce()
	r.outboundSentOnce()
	r.recovery()
	if len(in.screens) > 0 {
		r.printf("\nUnexpected screens (one example per kind):")
		for _, kind := range slices.Sorted(maps.Keys(in.screens)) {
			r.printf("  %-10s %s", kind, in.screens[kind])
		}
	}
	return r
}

func (r *report) sessionsByKind() {
	results := []string{resultOK, resultUnavailable, resultWrongScreen, resultAbandoned}
	count := map[string]map[string]int{}
	for _, s := range r.in.sessions {
		key := s.kind + " (" + s.provider + ")"
		if count[key] == nil {
			count[key] = map[string]int{}
		}
		count[key][s.result]++
	}
	r.printf("\nSessions per kind and outcome:")
	r.printf("  %-28s %8s %12s %18s %10s", "kind (provider)", results[0], results[1], results[2], results[3])
	for _, key := range slices.Sorted(maps.Keys(count)) {
		c := count[key]
		r.printf("  %-28s %8d %12d %18d %10d", key, c[results[0]], c[results[1]], c[results[2]], c[results[3]])
	}
}

// hopTimes: every request answered within the aggregator's deadline. A
// request cut off while its instance was being killed is the kill's; any
// other cut or timeout is a hop nobody answered.
func (r *report) hopTimes() {
	var answered []time.Duration
	outcomes := map[hopOutcome]int{}
	overHop, overDeadline, unanswered, retries := 0, 0, 0, 0
	for _, h := range r.in.hops {
		outcomes[h.outcome]++
		if h.retry {
			retries++
		}
		switch h.outcome {
		case hopOK, hopUnavailable, hopBadStatus:
			answered = append(answered, h.took)
			if h.took > r.in.hopDeadline {
				overHop++
			}
			if h.took > r.in.deadline {
				overDeadline++
			}
			if h.outcome == hopBadStatus && !strings.HasPrefix(h.kind, "sms") {
				unanswered++ // an SMS webhook answers 503 when it cannot record the message, by design; a hop never should
			}
		case hopCut:
			if !r.duringGatewayKill(h) {
				unanswered++
			}
		}
	}
	slices.Sort(answered)
	r.printf("\nRequests: %d ok, %d \"temporarily unavailable\", %d refused (instance down: sent to the other), %d cut, %d other status; %d were retries",
		outcomes[hopOK], outcomes[hopUnavailable], outcomes[hopRefused], outcomes[hopCut], outcomes[hopBadStatus], retries)
	r.printf("Answer time: p50 %s, p99 %s, max %s; %d over HOP_DEADLINE (%s), %d over the aggregator's deadline (%s)",
		percentile(answered, .5), percentile(answered, .99), percentile(answered, 1), overHop, r.in.hopDeadline, overDeadline, r.in.deadline)
	if overDeadline > 0 {
		r.violate("%d requests answered after the aggregator's deadline of %s", overDeadline, r.in.deadline)
	}
	if unanswered > 0 {
		r.violate("%d requests got no answer (cut, timed out or an error status) outside the kill of a gateway instance", unanswered)
	}
}

// duringGatewayKill: h was in flight when an instance was killed, or sent
// before it was started again.
func (r *report) duringGatewayKill(h hopRecord) bool {
	for _, f := range r.in.faults {
		if f.cutsAnswers && h.start.Before(f.restored) && h.start.Add(h.took).After(f.at) {
			return true
		}
	}
	return false
}

// renewalsWrittenOnce: a receipt is on one premium, and a family renewed
// once has one renewal policy and one imis_gateway.renewal row.
func (r *report) renewalsWrittenOnce() {
	for receipt, n := range r.in.facts.premiumsByReceipt {
		if n > 1 {
			r.violate("receipt %s is on %d premiums", receipt, n)
		}
	}
	rowsPerFamily := map[int]int{}
	for _, row := range r.in.facts.renewals {
		rowsPerFamily[row.familyID]++
	}
	for family, n := range rowsPerFamily {
		if n > 1 {
			r.violate("family %d was renewed %d times", family, n)
		}
		if p := r.in.facts.renewalPolicies[family]; p != n {
			r.violate("family %d has %d renewal policies for %d renewals", family, p, n)
		}
	}
	for family, p := range r.in.facts.renewalPolicies {
		if rowsPerFamily[family] == 0 {
			r.violate("family %d has %d renewal policies the gateway did not record", family, p)
		}
	}
}

// confirmedRenewalsKept: every renewal whose confirmation the officer saw
// (the USSD screen, or the reply to RENEW) is in the database.
func (r *report) confirmedRenewalsKept() {
	written := map[string]bool{}
	for _, row := range r.in.facts.renewals {
		written[row.receipt] = true
	}
	type tally struct{ asked, confirmed, written, unconfirmedWritten int }
	byChannel := map[string]*tally{"USSD": {}, "SMS": {}}
	for _, a := range r.in.renewals {
		confirmed := a.confirmed
		if a.channel == "SMS" {
			for _, reply := range r.in.facts.replies[a.smsID] {
				confirmed = confirmed || (reply.status == "sent" || reply.status == "delivered") && strings.Contains(reply.body, "renewed: ")
			}
		}
		t := byChannel[a.channel]
		t.asked++
		if confirmed {
			t.confirmed++
		}
		if written[a.receipt] {
			t.written++
			if !confirmed {
				t.unconfirmedWritten++
			}
		} else if confirmed {
			r.violate("%s renewal of %s with receipt %s was confirmed to the officer but is not in the database", a.channel, a.chfid, a.receipt)
		}
	}
	r.printf("\nRenewals:")
	for _, ch := range []string{"USSD", "SMS"} {
		t := byChannel[ch]
		r.printf("  %-4s asked %d, confirmed to the officer %d, written %d (of which %d without a confirmation seen: the answer was lost, the write was not)",
			ch, t.asked, t.confirmed, t.written, t.unconfirmedWritten)
	}
	r.printf("  receipts on a premium: %d, each once: %v", len(r.in.facts.premiumsByReceipt), !slices.ContainsFunc(r.violations, func(v string) bool {
		return strings.HasPrefix(v, "receipt ")
	}))
}

// inboundAnsweredOnce: every SMS a gateway took (200) was processed and has
// exactly one reply, sent exactly once.
func (r *report) inboundAnsweredOnce() {
	sentCount := map[[2]string]int{}
	for _, s := range r.in.facts.sent {
		sentCount[[2]string{s.to, s.message}]++
	}
	accepted, replied, lostInCrash := 0, 0, 0
	for _, m := range r.in.sms {
		if !m.accepted {
			continue
		}
		accepted++
		row, ok := r.in.facts.inbound[m.id]
		replies := r.in.facts.replies[m.id]
		switch {
		case !ok:
			r.violate("SMS %s was taken (200) but is not recorded", m.id)
		case row.status != "processed" || !strings.HasPrefix(row.outcome, "replied"):
			r.violate("SMS %s is %s (outcome %q), not answered", m.id, row.status, row.outcome)
		case len(replies) != 1:
			r.violate("SMS %s has %d replies in the outbox", m.id, len(replies))
		default:
			reply := replies[0]
			switch n := sentCount[[2]string{reply.recipient, reply.body}]; {
			case n == 1:
				replied++
			case n == 0 && (reply.status == "sending" || reply.status == "unknown"):
				// Taken by an instance killed before its request reached the
				// API: never sent again, by design (at most once).
				lostInCrash++
			default:
				r.violate("the reply to SMS %s was sent %d times (outbox status %s)", m.id, n, reply.status)
			}
		}
	}
	r.printf("\nInbound SMS: %d sent to the gateways, %d taken, %d answered exactly once, %d replies lost with the instance sending them (never resent); queues drained: %v",
		len(r.in.sms), accepted, replied, lostInCrash, r.in.drained)
	if !r.in.drained {
		r.violate("the inbound SMS and the outbox did not drain after the traffic")
	}
}

// outboundSentOnce: the fake SMS API got no message twice.
func (r *report) outboundSentOnce() {
	count := map[[2]string]int{}
	for _, s := range r.in.facts.sent {
		count[[2]string{s.to, s.message}]++
	}
	inOutbox := map[[2]string]bool{}
	for _, row := range r.in.facts.outbox {
		inOutbox[[2]string{row.recipient, row.body}] = true
	}
	twice := 0
	for k, n := range count {
		if n > 1 {
			twice++
			r.violate("SMS to %s sent %d times: %q", k[0], n, k[1])
		}
		if !inOutbox[k] {
			r.violate("SMS to %s was sent but the outbox has no such message (a commit lost?): %q", k[0], k[1])
		}
	}
	statuses := make([]string, 0, len(r.in.facts.outboxByStatus))
	for _, s := range slices.Sorted(maps.Keys(r.in.facts.outboxByStatus)) {
		statuses = append(statuses, fmt.Sprintf("%s %d", s, r.in.facts.outboxByStatus[s]))
	}
	r.printf("Outbound SMS: %d sent to the SMS API, %d of them more than once; outbox: %s",
		len(r.in.facts.sent), twice, strings.Join(statuses, ", "))
}

// recovery: per fault, when callers first saw an error, when the first
// session started after that error completed cleanly (of a kind that saw
// an error: SMS need no Redis, navigation no PostgreSQL), and when the last
// error was seen before the next fault.
func (r *report) recovery() {
	if len(r.in.faults) == 0 {
		r.printf("\nNo faults (-no-faults).")
		return
	}
	r.printf("\nFaults (times from the fault; \"errors\" are answers other than a good one: unavailable, cut, error status):")
	for i, f := range r.in.faults {
		until := r.in.end
		if i+1 < len(r.in.faults) {
			until = r.in.faults[i+1].at
		}
		var firstBad, lastBad time.Time
		bad := 0
		hurt := map[string]bool{} // kinds that saw an error
		for _, h := range r.in.hops {
			// A request belongs to the fault in force when it ended.
			end := h.start.Add(h.took)
			if end.Before(f.at) || !end.Before(until) || h.outcome == hopOK || h.outcome == hopRefused {
				continue
			}
			bad++
			hurt[h.kind] = true
			// A request sent just before the fault counts from the fault.
			if begin := later(h.start, f.at); firstBad.IsZero() || begin.Before(firstBad) {
				firstBad = begin
			}
			if end.After(lastBad) {
				lastBad = end
			}
		}
		restored := "-"
		if !f.restored.IsZero() {
			restored = "+" + f.restored.Sub(f.at).Round(100*time.Millisecond).String()
		}
		at := "+" + f.at.Sub(r.in.start).Round(time.Second).String()
		if bad == 0 {
			r.printf("  %s at %s (undone at %s): no error seen by callers", f.name, at, restored)
			continue
		}
		var firstGood time.Duration = -1
		for _, s := range r.in.sessions {
			if s.result == resultOK && hurt[s.kind] && !s.start.Before(firstBad) && s.start.Before(until) {
				if d := s.end.Sub(f.at); firstGood < 0 || d < firstGood {
					firstGood = d
				}
			}
		}
		good := "never"
		if firstGood >= 0 {
			good = "+" + firstGood.Round(100*time.Millisecond).String()
		}
		r.printf("  %s at %s (undone at %s): %d errors, the first at +%s; first clean session of a kind hit, started after it, ended at %s; errors back to 0 at +%s",
			f.name, at, restored, bad, firstBad.Sub(f.at).Round(100*time.Millisecond), good, lastBad.Sub(f.at).Round(100*time.Millisecond))
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))].Round(time.Millisecond)
}
