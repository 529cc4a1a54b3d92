package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/openimis/imis-gateway/gateway"
	"github.com/openimis/imis-gateway/menus"
	"github.com/openimis/imis-gateway/openimis"
	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/providers/africastalking"
)

// Issue 10, item 3: SMS loops and floods. Each test runs the whole gateway
// (HTTP callback, inbound processor, SMS commands) on the demo database.

// smsSettled waits until n inbound SMS are recorded and none waits.
func smsSettled(t *testing.T, s *policystore.Store, n int) {
	t.Helper()
	smsEventually(t, fmt.Sprintf("%d inbound SMS handled", n), func() bool {
		return smsCount(t, s, `SELECT count(*) FROM imis_gateway.inbound_sms WHERE status <> 'received'`) == n &&
			smsCount(t, s, `SELECT count(*) FROM imis_gateway.inbound_sms`) == n
	})
}

// smsReplies counts the replies queued to phone.
func smsReplies(t *testing.T, s *policystore.Store, phone string) int {
	t.Helper()
	return smsCount(t, s, `SELECT count(*) FROM imis_gateway.outbox WHERE purpose = 'sms.reply' AND recipient = $1`, phone)
}

// smsOutcomes counts the messages from sender by outcome.
func smsOutcomes(t *testing.T, s *policystore.Store, sender string) map[string]int {
	t.Helper()
	rows, err := s.Pool().Query(context.Background(), `
		SELECT coalesce(outcome, status), count(*) FROM imis_gateway.inbound_sms WHERE sender = $1 GROUP BY 1`, sender)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	var outcome string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&outcome, &n}, func() error { out[outcome] = n; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// smsSuppressed reads imisgw_sms_suppressed_total{reason} from reg.
func smsSuppressed(t *testing.T, reg prometheus.Gatherer, reason string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "imisgw_sms_suppressed_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("imisgw_sms_suppressed_total{reason=%q} is not registered", reason)
	return 0
}

func wantOutcomes(t *testing.T, s *policystore.Store, sender string, want map[string]int) {
	t.Helper()
	got := smsOutcomes(t, s, sender)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("outcomes of %s: %v, want %v", sender, got, want)
	}
}

// TestIdenticalSMSGetOneReply: 20 HELP from one phone within seconds (some
// in other case and spacing) get one reply; the other 19 are marked
// suppressed, counted and logged once each, with the phone masked.
func TestIdenticalSMSGetOneReply(t *testing.T) {
	g := newSMSGateway(t)
	const phone = "+255712111222"
	for i := range 20 {
		g.sms(fmt.Sprintf("help-%d", i), phone, []string{"HELP", "help", " Help \n"}[i%3])
	}
	smsSettled(t, g.store, 20)

	if n := smsReplies(t, g.store, phone); n != 1 {
		t.Errorf("%d replies queued, want 1", n)
	}
	wantOutcomes(t, g.store, phone, map[string]int{"replied": 1, "suppressed:duplicate": 19})
	if n := smsSuppressed(t, g.registry, "duplicate"); n != 19 {
		t.Errorf("metric: %v duplicates, want 19", n)
	}
	logs := g.logs.String()
	if n := strings.Count(logs, `msg="sms suppressed"`); n != 19 {
		t.Errorf("%d suppression log lines, want 19:\n%s", n, logs)
	}
	if !strings.Contains(logs, `from=+*********222`) || strings.Contains(logs, phone) || !strings.Contains(logs, "reason=duplicate") {
		t.Errorf("suppression logs should carry the masked phone and the reason:\n%s", logs)
	}
}

// TestSMSFromNonMobileSendersGetNoReply: a sender id, a short code and a
// short code in international form run no command and get no reply; a
// mobile number is answered.
func TestSMSFromNonMobileSendersGetNoReply(t *testing.T) {
	g := newSMSGateway(t)
	senders := []string{"MPESA", "15000", "+25515000"}
	for i, from := range senders {
		g.sms(fmt.Sprintf("robot-%d", i), from, "CHECK 101203401")
	}
	g.sms("human", stranger, "CHECK 101203401")
	smsSettled(t, g.store, 4)

	for _, from := range senders {
		if n := smsReplies(t, g.store, from); n != 0 {
			t.Errorf("%s: %d replies, want none", from, n)
		}
		wantOutcomes(t, g.store, from, map[string]int{"suppressed:not_mobile": 1})
	}
	if n := smsReplies(t, g.store, stranger); n != 1 {
		t.Errorf("a mobile phone got %d replies, want 1", n)
	}
	if n := smsSuppressed(t, g.registry, "not_mobile"); n != 3 {
		t.Errorf("metric: %v not_mobile, want 3", n)
	}
	if logs := g.logs.String(); strings.Count(logs, "reason=not_mobile") != 3 || strings.Contains(logs, "MPESA") {
		t.Errorf("logs:\n%s", logs)
	}
}

// TestSMSReplyBudget: 25 different messages within the hour get 20 replies;
// another phone is not affected; an officer's phone has a larger budget.
func TestSMSReplyBudget(t *testing.T) {
	g := newSMSGateway(t)
	const public = "+255712111222"
	for i := range 25 {
		g.sms(fmt.Sprintf("public-%d", i), public, fmt.Sprintf("HELP %d", i))
		g.sms(fmt.Sprintf("officer-%d", i), officerEO001, fmt.Sprintf("HELP %d", i))
	}
	g.sms("other", stranger, "HELP")
	smsSettled(t, g.store, 51)

	for phone, want := range map[string]int{public: 20, officerEO001: 25, stranger: 1} {
		if n := smsReplies(t, g.store, phone); n != want {
			t.Errorf("%s: %d replies, want %d", phone, n, want)
		}
	}
	wantOutcomes(t, g.store, public, map[string]int{"replied": 20, "suppressed:budget": 5})
	if n := smsSuppressed(t, g.registry, "budget"); n != 5 {
		t.Errorf("metric: %v over budget, want 5", n)
	}
}

// TestSMSRepeatWindowExpires: the same text is suppressed within the window
// and answered again once the earlier messages are older than it.
func TestSMSRepeatWindowExpires(t *testing.T) {
	g := newSMSGateway(t)
	const phone = "+255712111222"
	g.sms("first", phone, "CHECK 101203401")
	smsSettled(t, g.store, 1)
	g.sms("second", phone, "CHECK 101203401")
	smsSettled(t, g.store, 2)
	if n := smsReplies(t, g.store, phone); n != 1 {
		t.Fatalf("within the window: %d replies, want 1", n)
	}

	_, err := g.store.Pool().Exec(context.Background(), `UPDATE imis_gateway.inbound_sms
		SET received_at = received_at - $1::interval`, (gateway.DefaultSMSRepeatWindow + time.Second).String())
	if err != nil {
		t.Fatal(err)
	}
	g.sms("third", phone, "CHECK 101203401")
	smsSettled(t, g.store, 3)
	if n := smsReplies(t, g.store, phone); n != 2 {
		t.Errorf("after the window: %d replies, want 2", n)
	}
	wantOutcomes(t, g.store, phone, map[string]int{"replied": 2, "suppressed:duplicate": 1})
}

// TestIdenticalSMSOnSeveralInstancesGetOneReply: gateway instances on one
// database, each with its inbound processor, share a burst of identical
// messages; the phone still gets one reply.
func TestIdenticalSMSOnSeveralInstancesGetOneReply(t *testing.T) {
	g := newSMSGateway(t)
	const phone = "+255712111222"
	registries := []*prometheus.Registry{g.registry}
	for range 3 {
		reg := prometheus.NewRegistry()
		registries = append(registries, reg)
		p := gateway.NewInboundProcessor(g.store, gateway.SMSCommands(g.engine, smsOptions(nil, g.store, gateway.NewMetrics(reg))),
			gateway.InboundOptions{PollInterval: 5 * time.Millisecond, BatchSize: 1}, nil)
		smsRun(t, p.Run)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() { g.sms(fmt.Sprintf("burst-%d", i), phone, "HELP") })
	}
	wg.Wait()
	smsSettled(t, g.store, 20)

	if n := smsReplies(t, g.store, phone); n != 1 {
		t.Errorf("%d replies queued, want 1", n)
	}
	var total float64
	for _, reg := range registries {
		total += smsSuppressed(t, reg, "duplicate")
	}
	if total != 19 {
		t.Errorf("instances counted %v duplicates, want 19", total)
	}
}

// TestRepeatedRenewBySMSIsNotRun: an officer's RENEW sent again (other
// message id, other spacing and case) within the window is suppressed: the
// command does not run, and the first renewal stands, written once.
func TestRepeatedRenewBySMSIsNotRun(t *testing.T) {
	g := newSMSGateway(t)
	ctx := context.Background()
	officer, _, err := g.store.OfficerByPhone(ctx, officerEO001, time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	quote, err := g.store.RenewalQuote(ctx, officer, "604120019", "", time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	before := policiesOf(t, g.store.Pool(), "604120019")
	amount := quote.Value.String()
	g.sms("renew-1", officerEO001, "RENEW 604120019 "+amount+" RC-DUP1")
	smsSettled(t, g.store, 1)
	g.sms("renew-2", officerEO001, "renew  604120019 "+amount+" RC-DUP1\n")
	smsSettled(t, g.store, 2)

	if n := policiesOf(t, g.store.Pool(), "604120019"); n != before+1 {
		t.Errorf("policies %d → %d, want one more", before, n)
	}
	if n := smsCount(t, g.store, `SELECT count(*) FROM imis_gateway.renewal WHERE receipt = 'RC-DUP1'`); n != 1 {
		t.Errorf("%d renewals recorded, want 1", n)
	}
	if n := smsReplies(t, g.store, officerEO001); n != 1 {
		t.Errorf("%d replies to the officer, want 1", n)
	}
	wantOutcomes(t, g.store, officerEO001, map[string]int{"replied": 1, "suppressed:duplicate": 1})
}

// smsFlakySource is the policy store's coverage, failing while down.
type smsFlakySource struct {
	*policystore.Store
	down atomic.Bool
}

func (s *smsFlakySource) Coverage(ctx context.Context, chfid string, today time.Time) (openimis.Coverage, error) {
	if s.down.Load() {
		return openimis.Coverage{}, errors.New("connection reset by peer")
	}
	return s.Store.Coverage(ctx, chfid, today)
}

// TestSMSRetriedAfterAFailureIsAnswered: a command that failed was answered
// "please try again"; trying again with the same text is answered, not
// suppressed as a repeat. Once it succeeds, its repeats are suppressed.
func TestSMSRetriedAfterAFailureIsAnswered(t *testing.T) {
	ctx := context.Background()
	store, err := policystore.Open(ctx, seededDatabase(t), policystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	source := &smsFlakySource{Store: store}
	engine := menus.New(source, menus.Options{CHFIDMaxLen: store.Columns().CHFIDMaxLen})
	smsRun(t, gateway.NewInboundProcessor(store, gateway.SMSCommands(engine, gateway.SMSOptions{}), smsFastInbound(), nil).Run)
	const phone = "+255712111222"
	send := func(id string) {
		t.Helper()
		if _, err := store.RecordInbound(ctx, gateway.InboundMessage{Provider: africastalking.Name, MessageID: id,
			From: phone, Text: "CHECK 101203401"}); err != nil {
			t.Fatal(err)
		}
	}

	source.down.Store(true)
	send("while-down")
	smsSettled(t, store, 1)
	source.down.Store(false)
	for i, id := range []string{"retry", "repeat"} {
		send(id)
		smsSettled(t, store, i+2)
	}

	if n := smsReplies(t, store, phone); n != 2 {
		t.Errorf("%d replies, want 2 (try again, then the answer)", n)
	}
	wantOutcomes(t, store, phone, map[string]int{"replied:unavailable": 1, "replied": 1, "suppressed:duplicate": 1})
}
