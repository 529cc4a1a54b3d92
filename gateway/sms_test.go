package gateway_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openimis/imis-gateway/gateway"
	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/providers/africastalking"
	"github.com/openimis/imis-gateway/providers/africastalking/attest"
)

const smsInboundID = "ec9adc86-51d5-4bc8-8eb0-d8ab0bb53dc3"

func smsInboundForm(id, text string) string {
	return url.Values{
		"from":        {"+255712345678"},
		"to":          {"15522"},
		"text":        {text},
		"date":        {"2026-03-01 06:04:45"},
		"id":          {id},
		"linkId":      {""},
		"networkCode": {"64004"},
	}.Encode()
}

func smsPost(t *testing.T, target, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(target, "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type smsInboundRow struct {
	Status, Error, Sender, Body string
	Attempts                    int
}

func smsInbound(t *testing.T, s *policystore.Store, id string) smsInboundRow {
	t.Helper()
	var r smsInboundRow
	err := s.Pool().QueryRow(context.Background(), `
		SELECT status, coalesce(error, ''), sender, body, attempts FROM imis_gateway.inbound_sms
		WHERE provider = 'africastalking' AND message_id = $1`, id).Scan(&r.Status, &r.Error, &r.Sender, &r.Body, &r.Attempts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func smsCount(t *testing.T, s *policystore.Store, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := s.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// smsReplyHook is the shape of the SMS command handler the gateway wires in:
// it queues a reply in the transaction it is given, keyed on the message.
func smsReplyHook(calls *atomic.Int32, after func(m gateway.InboundMessage) error) gateway.InboundHandler {
	return func(ctx context.Context, tx pgx.Tx, m gateway.InboundMessage) error {
		calls.Add(1)
		err := policystore.EnqueueSMS(ctx, tx, policystore.OutboundSMS{Provider: m.Provider, Recipient: m.From,
			Body: "You sent: " + m.Text, Purpose: "sms.reply", DedupKey: "sms.reply:" + m.Provider + ":" + m.MessageID})
		if err != nil {
			return err
		}
		if after != nil {
			return after(m)
		}
		return nil
	}
}

func smsFastInbound() gateway.InboundOptions {
	return gateway.InboundOptions{PollInterval: 10 * time.Millisecond, HandleTimeout: 5 * time.Second, Lease: time.Minute}
}

// docs/design.md, "Failure modes the tests cover": the same AT message id posted twice, and again an hour
// later: one row, one processing, 200 every time.
func TestInboundSMSDeliveredTwice(t *testing.T) {
	s := smsStore(t)
	var calls, processed atomic.Int32
	opts := smsFastInbound()
	opts.OnProcessed = func() { processed.Add(1) }
	proc := gateway.NewInboundProcessor(s, smsReplyHook(&calls, nil), opts, nil)
	var wakes atomic.Int32
	h := gateway.NewInboundSMSHandler(africastalking.Provider.SMS, s, func() { wakes.Add(1); proc.Notify() }, nil)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	smsRun(t, proc.Run)

	for i := range 2 {
		if code, body := smsPost(t, srv.URL, smsInboundForm(smsInboundID, "CHECK TZ1234567")); code != 200 || body != "OK" {
			t.Fatalf("post %d: %d %q", i+1, code, body)
		}
	}
	smsEventually(t, "processed", func() bool { return smsInbound(t, s, smsInboundID).Status == "processed" })
	// An hour later, AT still retrying.
	if _, err := s.Pool().Exec(context.Background(), `UPDATE imis_gateway.inbound_sms SET received_at = received_at - interval '1 hour'`); err != nil {
		t.Fatal(err)
	}
	if code, _ := smsPost(t, srv.URL, smsInboundForm(smsInboundID, "CHECK TZ1234567")); code != 200 {
		t.Fatalf("post an hour later: %d", code)
	}
	time.Sleep(50 * time.Millisecond) // a few polls

	if n := smsCount(t, s, `SELECT count(*) FROM imis_gateway.inbound_sms`); n != 1 {
		t.Errorf("%d inbound rows, want 1", n)
	}
	if calls.Load() != 1 || wakes.Load() != 1 || processed.Load() != 1 {
		t.Errorf("handler called %d times, woken %d times, OnProcessed %d times; want 1 each",
			calls.Load(), wakes.Load(), processed.Load())
	}
	if n := smsCount(t, s, `SELECT count(*) FROM imis_gateway.outbox WHERE purpose = 'sms.reply'`); n != 1 {
		t.Errorf("%d replies queued, want 1", n)
	}
	row := smsInbound(t, s, smsInboundID)
	if row.Sender != "+255712345678" || row.Body != "CHECK TZ1234567" || row.Attempts != 1 {
		t.Errorf("row %+v", row)
	}
}

type smsDownStore struct{}

func (smsDownStore) RecordInbound(context.Context, gateway.InboundMessage) (bool, error) {
	return false, errors.New("connection refused")
}

func TestInboundSMSHandlerStatuses(t *testing.T) {
	s := smsStore(t)
	ok := httptest.NewServer(gateway.NewInboundSMSHandler(africastalking.Provider.SMS, s, nil, nil))
	t.Cleanup(ok.Close)
	down := httptest.NewServer(gateway.NewInboundSMSHandler(africastalking.Provider.SMS, smsDownStore{}, nil, nil))
	t.Cleanup(down.Close)

	for _, tc := range []struct {
		label, target, body string
		status              int
	}{
		{"well-formed", ok.URL, smsInboundForm("m-1", "HELP"), 200},
		{"empty text", ok.URL, smsInboundForm("m-2", ""), 200},
		{"missing id", ok.URL, "from=%2B255712345678&text=HELP", 400},
		{"missing from", ok.URL, "id=m-3&text=HELP", 400},
		{"database down: AT retries later", down.URL, smsInboundForm("m-4", "HELP"), 503},
	} {
		if code, _ := smsPost(t, tc.target, tc.body); code != tc.status {
			t.Errorf("%s: %d, want %d", tc.label, code, tc.status)
		}
	}
	resp, err := http.Post(ok.URL, "application/json", strings.NewReader(`{"id":"m-5"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("JSON body: %d", resp.StatusCode)
	}
}

// The handler's reply and the processed mark commit together or not at all:
// a handler that fails after queueing its reply leaves no reply, and the
// message failed with the error.
func TestInboundProcessorIsAtomic(t *testing.T) {
	s := smsStore(t)
	ctx := context.Background()
	for _, id := range []string{"fails", "panics", "works"} {
		if _, err := s.RecordInbound(ctx, gateway.InboundMessage{Provider: africastalking.Name, MessageID: id,
			From: "+255712345678", Text: id}); err != nil {
			t.Fatal(err)
		}
	}
	var calls atomic.Int32
	hook := smsReplyHook(&calls, func(m gateway.InboundMessage) error {
		switch m.Text {
		case "fails":
			return errors.New("menus: renewal refused by a bug")
		case "panics":
			panic("menus: nil map")
		}
		return nil
	})
	var logs smsLogBuffer
	proc := gateway.NewInboundProcessor(s, hook, smsFastInbound(), logs.logger())
	smsRun(t, proc.Run)
	smsEventually(t, "all finished", func() bool {
		return smsCount(t, s, `SELECT count(*) FROM imis_gateway.inbound_sms WHERE status <> 'received'`) == 3
	})

	if row := smsInbound(t, s, "fails"); row.Status != "failed" || row.Error != "menus: renewal refused by a bug" {
		t.Errorf("fails: %+v", row)
	}
	if row := smsInbound(t, s, "panics"); row.Status != "failed" || !strings.Contains(row.Error, "panicked") {
		t.Errorf("panics: %+v", row)
	}
	if row := smsInbound(t, s, "works"); row.Status != "processed" {
		t.Errorf("works: %+v", row)
	}
	rows, err := s.Pool().Query(ctx, `SELECT body FROM imis_gateway.outbox`)
	if err != nil {
		t.Fatal(err)
	}
	bodies, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 1 || bodies[0] != "You sent: works" {
		t.Errorf("outbox %q, want only the reply to the message that worked", bodies)
	}
	if calls.Load() != 3 {
		t.Errorf("handler called %d times, want 3", calls.Load())
	}
	if !strings.Contains(logs.String(), "inbound sms failed") || strings.Contains(logs.String(), "+255712345678") {
		t.Errorf("log:\n%s", logs.String())
	}
}

// A processor that died mid-message leaves its lease; when it ends the
// message is handled again, and the handler's dedup key keeps the reply
// single.
func TestInboundProcessorReRunsAnAbandonedMessage(t *testing.T) {
	s := smsStore(t)
	ctx := context.Background()
	if _, err := s.RecordInbound(ctx, gateway.InboundMessage{Provider: africastalking.Name, MessageID: "abandoned",
		From: "+255712345678", Text: "HELP"}); err != nil {
		t.Fatal(err)
	}
	// The dead processor leased it and even queued its reply (in a
	// transaction that committed apart from the finish, as a buggy handler
	// might), then died.
	leases, err := s.LeaseInbound(ctx, 10, 100*time.Millisecond)
	if err != nil || len(leases) != 1 {
		t.Fatalf("leases %v %v", leases, err)
	}
	var calls atomic.Int32
	hook := smsReplyHook(&calls, nil)
	tx, err := s.BeginInbound(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := hook(ctx, tx, leases[0].InboundSMS); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	proc := gateway.NewInboundProcessor(s, hook, smsFastInbound(), nil)
	smsRun(t, proc.Run)
	smsEventually(t, "processed", func() bool { return smsInbound(t, s, "abandoned").Status == "processed" })
	if row := smsInbound(t, s, "abandoned"); row.Attempts != 2 {
		t.Errorf("row %+v", row)
	}
	if n := smsCount(t, s, `SELECT count(*) FROM imis_gateway.outbox`); n != 1 || calls.Load() != 2 {
		t.Errorf("%d replies after %d handler runs, want 1 reply", n, calls.Load())
	}
}

func smsDLRForm(id, status, reason string) string {
	v := url.Values{"id": {id}, "status": {status}, "phoneNumber": {"+255712345678"}, "networkCode": {"64004"}}
	if reason != "" {
		v.Set("failureReason", reason)
	}
	return v.Encode()
}

// docs/design.md, "Failure modes the tests cover": every AT status plus a made-up one: 200, raw status stored.
func TestDeliveryReportEveryStatus(t *testing.T) {
	s := smsStore(t)
	fake := attest.New(t)
	srv := httptest.NewServer(gateway.NewDeliveryReportHandler(africastalking.Provider.SMS, s, nil))
	t.Cleanup(srv.Close)
	w := gateway.NewOutboxWorker(s, smsATSenders(fake), smsFastOutbox(), nil)
	smsRun(t, w.Run)

	for _, tc := range []struct{ raw, reason, status string }{
		{"Sent", "", "sent"},
		{"Submitted", "", "sent"},
		{"Buffered", "", "sent"},
		{"Success", "", "delivered"},
		{"Rejected", "UserInBlackList", "failed"},
		{"Failed", "InsufficientCredit", "failed"},
		{"Expired", "", "failed"},
		{"AbsentSubscriber", "", "failed"},
		{"SomethingAfricasTalkingAddsNextYear", "", "sent"},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			id := smsEnqueue(t, s, africastalking.Name, "+255712345678", "Renewal recorded "+tc.raw)
			smsEventually(t, "sent", smsStatusIs(t, s, id, "sent"))
			msgID := smsOutboxRow(t, s, id).MessageID
			if code, _ := smsPost(t, srv.URL, smsDLRForm(msgID, tc.raw, tc.reason)); code != 200 {
				t.Fatalf("status %d", code)
			}
			row := smsOutboxRow(t, s, id)
			if row.Status != tc.status || row.ProviderStatus != tc.raw {
				t.Errorf("row %+v, want %s with raw %s", row, tc.status, tc.raw)
			}
			if tc.reason != "" && row.Reason != tc.reason {
				t.Errorf("reason %q, want %q", row.Reason, tc.reason)
			}
			if n := smsCount(t, s, `SELECT count(*) FROM imis_gateway.delivery_report WHERE provider_message_id = $1
				AND raw_status = $2 AND applied_at IS NOT NULL`, msgID, tc.raw); n != 1 {
				t.Errorf("%d stored reports", n)
			}
		})
	}
	// Malformed reports are refused; unknown ids are kept.
	for body, want := range map[string]int{
		"status=Success": 400,
		"id=ATXid_x":     400,
		smsDLRForm("ATXid_unknown", "Success", ""): 200,
	} {
		if code, _ := smsPost(t, srv.URL, body); code != want {
			t.Errorf("%q: %d, want %d", body, code, want)
		}
	}
	if n := smsCount(t, s, `SELECT count(*) FROM imis_gateway.delivery_report WHERE provider_message_id = 'ATXid_unknown'
		AND applied_at IS NULL`); n != 1 {
		t.Errorf("report for an unknown id not kept")
	}
}

// smsHeldStore holds the recording of a send until released: the window in
// which a delivery report can overtake it.
type smsHeldStore struct {
	*policystore.Store
	sent    chan struct{}
	release chan struct{}
	once    sync.Once
}

func (h *smsHeldStore) MarkSent(ctx context.Context, id int64, msgID, status string, parts int) error {
	h.once.Do(func() { close(h.sent) })
	<-h.release
	return h.Store.MarkSent(ctx, id, msgID, status, parts)
}

// docs/design.md, "Failure modes the tests cover": the delivery report arrives before the send is recorded.
// It is parked, answered 200, and applied when the send is recorded.
func TestDeliveryReportBeforeTheSendIsRecorded(t *testing.T) {
	s := smsStore(t)
	fake := attest.New(t)
	held := &smsHeldStore{Store: s, sent: make(chan struct{}), release: make(chan struct{})}
	srv := httptest.NewServer(gateway.NewDeliveryReportHandler(africastalking.Provider.SMS, s, nil))
	t.Cleanup(srv.Close)
	id := smsEnqueue(t, s, africastalking.Name, "+255712345678", "Renewal recorded")
	w := gateway.NewOutboxWorker(held, smsATSenders(fake), smsFastOutbox(), nil)
	smsRun(t, w.Run)

	<-held.sent
	if code, _ := smsPost(t, srv.URL, smsDLRForm(attest.MessageID(1), "Success", "")); code != 200 {
		t.Fatalf("early report: %d", code)
	}
	if row := smsOutboxRow(t, s, id); row.Status != "sending" {
		t.Fatalf("row changed before the send was recorded: %+v", row)
	}
	close(held.release)
	smsEventually(t, "delivered", smsStatusIs(t, s, id, "delivered"))
	if n := smsCount(t, s, `SELECT count(*) FROM imis_gateway.delivery_report WHERE applied_at IS NULL`); n != 0 {
		t.Errorf("%d reports still parked", n)
	}
}
