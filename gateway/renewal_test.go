package gateway_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/openimis/imis-gateway/gateway"
	"github.com/openimis/imis-gateway/menus"
	"github.com/openimis/imis-gateway/openimis"
	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/providers/africastalking"
	"github.com/openimis/imis-gateway/providers/africastalking/attest"
	"github.com/openimis/imis-gateway/providers/simphone"
	"github.com/openimis/imis-gateway/sessions"
	"github.com/openimis/imis-gateway/sessions/redistest"
)

// smsGateway is the whole gateway as serve wires it: USSD, SMS callbacks,
// the inbound processor and the outbox worker sending to a fake AT API.
type smsGateway struct {
	*testGateway
	at       *attest.Server
	deps     gateway.Deps
	engine   *menus.Engine
	registry *prometheus.Registry // the gateway's metrics, SMS handler's included
	logs     *smsLogBuffer        // the SMS handler's log, from debug level up
	// options built the menus engine (with its dependencies): another
	// instance can build its own.
	options menus.Options
	// trace records what the gateway does, written every few milliseconds.
	trace *gateway.Tracer
}

// newSMSGateway builds the gateway; tune changes the menus' options.
func newSMSGateway(t *testing.T, tune ...func(*menus.Options)) *smsGateway {
	t.Helper()
	return newSMSGatewayLogging(t, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})), tune...)
}

// newSMSGatewayLogging is newSMSGateway with every part logging to log.
func newSMSGatewayLogging(t *testing.T, log *slog.Logger, tune ...func(*menus.Options)) *smsGateway {
	t.Helper()
	return newSMSGatewayOn(t, seededDatabase(t), log, tune...)
}

// newSMSGatewayOn is newSMSGatewayLogging on the database at databaseURL.
func newSMSGatewayOn(t *testing.T, databaseURL string, log *slog.Logger, tune ...func(*menus.Options)) *smsGateway {
	t.Helper()
	ctx := context.Background()
	registry := prometheus.NewRegistry()
	metrics := gateway.NewMetrics(registry)
	store, err := policystore.Open(ctx, databaseURL, policystore.Options{Tracer: metrics.PostgresTracer()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	metrics.WatchOutbox(store)
	rdb := redistest.Client(t)
	rdb.AddHook(metrics.RedisHook())

	at := attest.New(t)
	at.Respond(func(r attest.Request) attest.Response {
		return attest.Accepted(r.Form.Get("to"), attest.MessageID(at.Count()))
	})
	client := africastalking.NewSMSClient(africastalking.SMSConfig{Username: "imis", APIKey: "k3y", BaseURL: at.URL})
	trace := gateway.NewTracer(store.Pool(), gateway.TraceOptions{FlushInterval: 10 * time.Millisecond}, log)
	outbox := gateway.NewOutboxWorker(store, map[string]gateway.Sender{africastalking.Name: client},
		gateway.OutboxOptions{PollInterval: 20 * time.Millisecond, Metrics: metrics, Trace: trace}, log)
	prefix := redistest.Prefix(t)
	options := menus.Options{
		CHFIDMaxLen: store.Columns().CHFIDMaxLen,
		Claims:      store,
		Languages:   store,
		Officers:    store,
		Renewals:    gateway.RenewalsNotifying{Store: store, Notify: outbox.Notify, Metrics: metrics, Trace: trace},
		Version:     "test",
	}
	for _, f := range tune {
		f(&options)
	}
	engine := menus.New(store, options)
	logs := &smsLogBuffer{}
	smsLog := slog.New(slog.NewMultiHandler(log.Handler(), logs.logger().Handler()))
	inbound := gateway.NewInboundProcessor(store, gateway.SMSCommands(engine, smsOptions(smsLog, store, metrics)),
		gateway.InboundOptions{PollInterval: 20 * time.Millisecond, OnProcessed: outbox.Notify}, log)
	workCtx, stop := context.WithCancel(ctx)
	var workers sync.WaitGroup
	workers.Go(func() { outbox.Run(workCtx) })  //nolint:errcheck
	workers.Go(func() { inbound.Run(workCtx) }) //nolint:errcheck
	workers.Go(func() { trace.Run(workCtx) })   //nolint:errcheck
	t.Cleanup(func() { stop(); workers.Wait() })

	deps := gateway.Deps{
		Logger:   log,
		Sessions: redistest.NewStore(t, rdb, sessions.Options{Prefix: prefix}),
		Menus:    engine,
		Registry: registry,
		Metrics:  metrics,
		SMS:      &gateway.SMSDeps{Store: store, Wake: inbound.Notify},
		Trace:    trace,
	}
	g := &smsGateway{testGateway: &testGateway{t: t, store: store, prefix: prefix}, at: at, deps: deps,
		engine: engine, registry: registry, logs: logs, options: options, trace: trace}
	g.Server = g.serve(deps)
	return g
}

// smsOptions are the SMS handler's settings as serve makes them by default,
// counted in metrics (nil: nowhere).
func smsOptions(log *slog.Logger, store *policystore.Store, metrics *gateway.Metrics) gateway.SMSOptions {
	return gateway.SMSOptions{Log: log, Officers: store, Metrics: metrics}
}

// instance starts another gateway instance of the same deployment: the same
// database, Redis and workers, its own memory of the sessions.
func (g *smsGateway) instance() *testGateway {
	deps := g.deps
	deps.Sessions = sessions.New(redistest.Client(g.t), sessions.Options{Prefix: g.prefix})
	deps.Registry, deps.Metrics = nil, nil // its own metrics, as another process has
	return &testGateway{Server: g.serve(deps), t: g.t, store: g.store, prefix: g.prefix}
}

func (g *smsGateway) serve(deps gateway.Deps) *httptest.Server {
	ts := httptest.NewServer(gateway.NewServer(deps, gateway.Config{Providers: allProviders()}))
	g.t.Cleanup(ts.Close)
	return ts
}

// sms posts an inbound SMS as Africa's Talking would.
func (g *smsGateway) sms(id, from, text string) {
	g.t.Helper()
	form := url.Values{"from": {from}, "to": {"15000"}, "text": {text}, "date": {"2026-11-25 10:00:00"},
		"id": {id}, "linkId": {""}, "networkCode": {"64004"}}
	if r := g.post("/sms/africastalking/"+token+"/inbound", "application/x-www-form-urlencoded", form.Encode()); r.status != http.StatusOK {
		g.t.Fatalf("inbound sms: %d %q", r.status, r.body)
	}
}

// sent waits until the fake AT API has received an SMS to each of the
// numbers, and returns the texts by number.
func (g *smsGateway) sent(numbers ...string) map[string][]string {
	g.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := map[string][]string{}
		for _, r := range g.at.Requests() {
			got[r.Form.Get("to")] = append(got[r.Form.Get("to")], r.Form.Get("message"))
		}
		missing := 0
		for _, n := range numbers {
			if len(got[n]) == 0 {
				missing++
			}
		}
		if missing == 0 {
			return got
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("SMS to %v not sent; the fake AT API got %v", numbers, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func policiesOf(t *testing.T, pool *pgxpool.Pool, chfid string) int {
	t.Helper()
	var n int
	err := pool.QueryRow(context.Background(), `
		SELECT count(*) FROM "tblPolicy" p JOIN "tblInsuree" i ON i."FamilyID" = p."FamilyID"
		WHERE i."CHFID" = $1 AND i."ValidityTo" IS NULL AND p."ValidityTo" IS NULL`, chfid).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Demo officers (policystore/demo), as the aggregators send their numbers.
const (
	officerEO001 = "+255712345678" // EO001, stored as "0712 345 678": Dodoma Mjini, and Buigiri and Chinangali in Chamwino
	officerEO003 = "+255767890123" // EO003, stored as "+255 767 890 123": the village of Kolo only
	officerEO004 = "+255784220330" // EO004, stored as "0784 220 330": no village, the district of Chamwino
)

// quoteFor is the quote of chfid's renewal for the officer calling from
// phone, as "Renew policy" asks for it.
func quoteFor(t *testing.T, store *policystore.Store, phone, chfid, product string) openimis.RenewalQuote {
	t.Helper()
	ctx := context.Background()
	o, ok, err := store.OfficerByPhone(ctx, phone, time.Now().UTC())
	if err != nil || !ok {
		t.Fatalf("officer %s: %v %v", phone, ok, err)
	}
	q, err := store.RenewalQuote(ctx, o, chfid, product, time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// renewalRows counts what a renewal writes: the openIMIS rows, the
// gateway's log and the confirmation SMS (not the replies to SMS
// commands, which every command gets).
func renewalRows(t *testing.T, pool *pgxpool.Pool) [5]int {
	t.Helper()
	var n [5]int
	err := pool.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM "tblPolicy"), (SELECT count(*) FROM "tblPremium"), (SELECT count(*) FROM "tblInsureePolicy"),
		(SELECT count(*) FROM imis_gateway.renewal), (SELECT count(*) FROM imis_gateway.outbox WHERE purpose LIKE 'renewal.%')`).
		Scan(&n[0], &n[1], &n[2], &n[3], &n[4])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestOfficerRenewsByUSSDAndTheConfirmationSMSGoesOut walks "Renew policy"
// through HTTP as Africa's Talking would; the renewal is written once and
// the confirmation SMS reach the (fake) Africa's Talking API.
func TestOfficerRenewsByUSSDAndTheConfirmationSMSGoesOut(t *testing.T) {
	g := newSMSGateway(t)
	quote := quoteFor(t, g.store, officerEO001, "604120019", "")
	before := policiesOf(t, g.store.Pool(), "604120019")

	s := "ATUid_renew"
	if menu := mustCON(t, g.hop(s, officerEO001, "")); !strings.Contains(menu, "3. Renew policy") {
		t.Fatalf("an officer's main menu: %q", menu)
	}
	mustCON(t, g.hop(s, officerEO001, "3"))
	if q := mustCON(t, g.hop(s, officerEO001, "3*604120019")); !strings.Contains(q, "receipt") {
		t.Fatalf("quote: %q", q)
	}
	mustCON(t, g.hop(s, officerEO001, "3*604120019*RC-1001"))
	amount := quote.Value.String()
	if c := mustCON(t, g.hop(s, officerEO001, "3*604120019*RC-1001*"+amount)); !strings.Contains(c, "1. Confirm") {
		t.Fatalf("confirm screen: %q", c)
	}
	confirm := "3*604120019*RC-1001*" + amount + "*1"
	done := mustEND(t, g.hop(s, officerEO001, confirm))
	if !strings.Contains(done, "renewed") || !strings.Contains(done, "active") {
		t.Fatalf("result: %q", done)
	}
	// The confirming hop retried: the same answer, nothing written again.
	if again := g.hop(s, officerEO001, confirm); again.body != "END "+done {
		t.Fatalf("retried confirm: %q", again.body)
	}
	if n := policiesOf(t, g.store.Pool(), "604120019"); n != before+1 {
		t.Fatalf("policies %d → %d, want one more", before, n)
	}

	sms := g.sent(officerEO001, "+255754100200") // the officer and the family head (0754 100 200)
	if !strings.Contains(sms[officerEO001][0], "604120019") || !strings.Contains(sms[officerEO001][0], "RC-1001") {
		t.Fatalf("officer's confirmation: %q", sms[officerEO001])
	}
}

// TestRenewalConfirmedOnAnInstanceWithAStaleMemory: an officer goes back
// and changes the amount on one instance, then confirms on another that
// last saw the first amount. The renewal is written with the amount on the
// confirmation screen the officer saw, never with the remembered one.
func TestRenewalConfirmedOnAnInstanceWithAStaleMemory(t *testing.T) {
	a := newSMSGateway(t)
	b := a.instance()
	ctx := context.Background()
	p, err := simphone.New("nalo", a.URL, token, officerEO001, "*384*1234#", nil)
	if err != nil {
		t.Fatal(err)
	}
	must := screenOf(t)
	must(p.Dial(ctx, ""))
	for _, in := range []string{"3", "604120019", "RC-STALE", "5000"} {
		must(p.Send(ctx, in))
	}
	p.BaseURL = b.URL // the aggregator moves the session: a's memory is now stale
	must(p.Send(ctx, "0"))
	if c := must(p.Send(ctx, "7000")); !strings.Contains(c.Text, "7,000") {
		t.Fatalf("confirmation screen: %q", c.Text)
	}
	p.BaseURL = a.URL
	if done := must(p.Send(ctx, "1")); !done.End || !strings.Contains(done.Text, "renewed") {
		t.Fatalf("result: %+v", done)
	}
	var paid string
	if err := a.store.Pool().QueryRow(ctx, `SELECT "Amount"::text FROM "tblPremium" WHERE "Receipt" = 'RC-STALE'`).Scan(&paid); err != nil {
		t.Fatal(err)
	}
	if paid != "7000.00" {
		t.Fatalf("premium written: %s, want the 7000 confirmed", paid)
	}
}

// TestRenewBySMSIsWrittenOnceAndAnsweredOnce: RENEW by SMS, delivered twice
// as Africa's Talking retries, renews once and answers once.
func TestRenewBySMSIsWrittenOnceAndAnsweredOnce(t *testing.T) {
	g := newSMSGateway(t)
	const officer = officerEO001 // family B lives in her village Ipagala
	quote := quoteFor(t, g.store, officer, "20461301", "")
	before := policiesOf(t, g.store.Pool(), "20461301")
	text := fmt.Sprintf("renew 20461301 %s RC-2002", quote.Value.String())
	g.sms("ec9adc86-51d5-4bc8-8eb0-d8ab0bb53dc3", officer, text)
	g.sms("ec9adc86-51d5-4bc8-8eb0-d8ab0bb53dc3", officer, text) // AT's retry

	replies := g.sent(officer, "+255713111333")[officer] // the officer and the head (+255 713 111 333)
	time.Sleep(300 * time.Millisecond)                   // room for a wrong second answer to show up
	replies = g.sent(officer)[officer]
	var answers int
	for _, r := range replies {
		if strings.Contains(r, "20461301") {
			answers++
		}
	}
	// One reply (the officer's RENEW needs no separate confirmation), never more.
	if answers != 1 {
		t.Fatalf("officer got %d messages about the renewal: %q", answers, replies)
	}
	if n := policiesOf(t, g.store.Pool(), "20461301"); n != before+1 {
		t.Fatalf("policies %d → %d, want one more", before, n)
	}
}

// TestConcurrentRenewalsOfOneFamilyWriteOne fires 20 renewals of one family
// at once, by USSD and by SMS, from two officers whose areas both hold it
// (EO001 by her village, EO004 by his district), with different receipts.
func TestConcurrentRenewalsOfOneFamilyWriteOne(t *testing.T) {
	g := newSMSGateway(t)
	quote := quoteFor(t, g.store, officerEO001, "604120019", "FAM01")
	before := policiesOf(t, g.store.Pool(), "604120019")
	amount := quote.Value.String()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			receipt := fmt.Sprintf("RC-C%02d", i)
			if i%2 == 0 {
				g.sms(fmt.Sprintf("conc-%d", i), officerEO004, "RENEW 604120019 "+amount+" "+receipt+" FAM01")
				return
			}
			s := fmt.Sprintf("ATUid_conc_%d", i)
			g.hop(s, officerEO001, "")
			g.hop(s, officerEO001, "3*604120019")
			g.hop(s, officerEO001, "3*604120019*"+receipt)
			g.hop(s, officerEO001, "3*604120019*"+receipt+"*"+amount)
			g.hop(s, officerEO001, "3*604120019*"+receipt+"*"+amount+"*1")
		})
	}
	wg.Wait()
	// Let the inbound processor finish the SMS renewals.
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		var pending int
		if err := g.store.Pool().QueryRow(context.Background(),
			`SELECT count(*) FROM imis_gateway.inbound_sms WHERE status = 'received'`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := policiesOf(t, g.store.Pool(), "604120019"); n != before+1 {
		t.Fatalf("policies %d → %d, want exactly one more", before, n)
	}
}

// waitForInbound waits until the inbound processor has answered every SMS.
func (g *smsGateway) waitForInbound() {
	g.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		var pending int
		if err := g.store.Pool().QueryRow(context.Background(),
			`SELECT count(*) FROM imis_gateway.inbound_sms WHERE status = 'received'`).Scan(&pending); err != nil {
			g.t.Fatal(err)
		}
		if pending == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	g.t.Fatal("inbound SMS still unanswered")
}

// TestOfficersRenewOnlyInTheirArea: EO003, whose area is the village of
// Kolo, asks for family F (Buigiri, EO001's village) by USSD and by SMS:
// both answers say why, no screen names the family, nothing is written
// and the head gets no SMS. She renews family M in Kolo; EO004, who has no
// village, renews family F in his district.
func TestOfficersRenewOnlyInTheirArea(t *testing.T) {
	g := newSMSGateway(t)
	const head = "+255754100200" // family F's head, 0754 100 200
	before := renewalRows(t, g.store.Pool())

	s := "ATUid_area"
	mustCON(t, g.hop(s, officerEO003, ""))
	mustCON(t, g.hop(s, officerEO003, "3"))
	refused := mustCON(t, g.hop(s, officerEO003, "3*604120019"))
	if !strings.HasPrefix(refused, "The family of 604120019 is not in your area.\n") || strings.Contains(refused, "Mwakalinga") {
		t.Fatalf("USSD: %q", refused)
	}
	g.sms("area-1", officerEO003, "RENEW 604120019 37000 RC-AREA")
	if reply := g.sent(officerEO003)[officerEO003]; len(reply) != 1 || reply[0] != "The family of 604120019 is not in your area." {
		t.Fatalf("SMS reply: %q", reply)
	}
	g.waitForInbound()
	if after := renewalRows(t, g.store.Pool()); after != before {
		t.Fatalf("rows %v after refusals, want %v", after, before)
	}

	// In their own areas.
	m := quoteFor(t, g.store, officerEO003, "48213", "")
	s = "ATUid_area_kolo"
	for _, text := range []string{"", "3", "3*48213", "3*48213*KND-0300", "3*48213*KND-0300*" + m.Value.String()} {
		mustCON(t, g.hop(s, officerEO003, text))
	}
	if done := mustEND(t, g.hop(s, officerEO003, "3*48213*KND-0300*"+m.Value.String()+"*1")); !strings.HasPrefix(done, "Policy renewed: active") {
		t.Fatalf("EO003 in Kolo: %q", done)
	}
	f := quoteFor(t, g.store, officerEO004, "604120019", "")
	g.sms("area-2", officerEO004, "RENEW 604120019 "+f.Value.String()+" RC-EO4")
	sent := g.sent(officerEO004, head)
	if !strings.HasPrefix(sent[officerEO004][0], "Policy renewed: active") {
		t.Fatalf("EO004 in Chamwino: %q", sent[officerEO004])
	}
	g.waitForInbound()
	// Family M: 3 members, EO003's confirmation (the head has no phone);
	// family F: 5 members, the head's SMS (the reply is EO004's).
	want := [5]int{before[0] + 2, before[1] + 2, before[2] + 3 + 5, before[3] + 2, before[4] + 2}
	if after := renewalRows(t, g.store.Pool()); after != want {
		t.Fatalf("rows %v, want %v", after, want)
	}
}

// TestAbsurdAmountIsRefused: the RENEW of issue 10 gets the amount due
// back, writes nothing and sends the head nothing; by USSD the amount
// screen refuses it and asks again.
func TestAbsurdAmountIsRefused(t *testing.T) {
	g := newSMSGateway(t)
	const head = "+255754100200" // family F's head
	due := "TZS " + quoteFor(t, g.store, officerEO001, "604120019", "").Value.Format()
	before := renewalRows(t, g.store.Pool())

	g.sms("absurd-1", officerEO001, "RENEW 604120019 9999999999999999 RC-A2b")
	want := "Amount TZS 9,999,999,999,999,999 is more than the " + due + " due."
	if reply := g.sent(officerEO001)[officerEO001]; len(reply) != 1 || reply[0] != want {
		t.Fatalf("SMS reply: %q, want %q", reply, want)
	}
	s := "ATUid_absurd"
	for _, text := range []string{"", "3", "3*604120019", "3*604120019*RC-A2c"} {
		mustCON(t, g.hop(s, officerEO001, text))
	}
	again := mustCON(t, g.hop(s, officerEO001, "3*604120019*RC-A2c*9999999999999999"))
	if !strings.HasPrefix(again, want+"\n") || !strings.HasSuffix(again, "Enter the amount paid:\n0 Back 00 Menu") {
		t.Fatalf("USSD amount: %q", again)
	}
	g.waitForInbound()
	time.Sleep(200 * time.Millisecond) // room for a wrong SMS to the head to show up
	if after := renewalRows(t, g.store.Pool()); after != before {
		t.Fatalf("rows %v after refusals, want %v", after, before)
	}
	for _, r := range g.at.Requests() {
		if r.Form.Get("to") == head {
			t.Fatalf("the head was told: %q", r.Form.Get("message"))
		}
	}
}

// TestUSSDRenewalConfirmedThroughTheSMSProvider: a renewal made over a USSD
// aggregator that sends no SMS (Hubtel) is confirmed through the configured
// SMS provider, not queued for ever under the aggregator's name.
func TestUSSDRenewalConfirmedThroughTheSMSProvider(t *testing.T) {
	g := newSMSGateway(t, func(o *menus.Options) { o.SMSProvider = "africastalking" })
	quote := quoteFor(t, g.store, officerEO001, "604120019", "")
	p, err := simphone.New("hubtel", g.URL, token, officerEO001, "*384*1234#", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.Dial(ctx, ""); err != nil {
		t.Fatal(err)
	}
	var last simphone.Screen
	for _, in := range []string{"3", "604120019", "RC-HUB-1", quote.Value.String(), "1"} {
		if last, err = p.Send(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if !last.End || !strings.Contains(last.Text, "renewed") {
		t.Fatalf("result: %+v", last)
	}
	if sms := g.sent(officerEO001)[officerEO001]; !strings.Contains(sms[0], "RC-HUB-1") {
		t.Fatalf("officer's confirmation: %q", sms)
	}
}
