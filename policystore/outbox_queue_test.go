package policystore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/policystore/pgtest"
)

const obxProvider = "africastalking"

// obxStore is a store on a fresh database with the gateway's migrations.
func obxStore(t *testing.T) *policystore.Store {
	t.Helper()
	s, err := policystore.Open(context.Background(), pgtest.NewDatabase(t), policystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// obxEnqueue queues one message per recipient, each in its own transaction
// as the business writes do, and returns their ids in order.
func obxEnqueue(t *testing.T, s *policystore.Store, provider string, recipients ...string) []int64 {
	t.Helper()
	ctx := context.Background()
	var ids []int64
	for _, to := range recipients {
		tx, err := s.Pool().Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		err = policystore.EnqueueSMS(ctx, tx, policystore.OutboundSMS{Provider: provider, Recipient: to,
			Body: "Policy renewed for " + to, Purpose: "test", DedupKey: "test:" + provider + ":" + to})
		if err != nil {
			t.Fatal(err)
		}
		var id int64
		if err := tx.QueryRow(ctx, `SELECT id FROM imis_gateway.outbox WHERE dedup_key = $1`, "test:"+provider+":"+to).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// obxRow is what a test checks of an outbox row.
type obxRow struct {
	Status, ProviderMessageID, ProviderStatus, FailureReason string
	Attempts, Parts                                          int
	Sent                                                     bool
}

func obxGet(t *testing.T, s *policystore.Store, id int64) obxRow {
	t.Helper()
	var r obxRow
	err := s.Pool().QueryRow(context.Background(), `
		SELECT status, coalesce(provider_message_id, ''), coalesce(provider_status, ''), coalesce(failure_reason, ''),
		       attempts, coalesce(parts, 0), sent_at IS NOT NULL
		FROM imis_gateway.outbox WHERE id = $1`, id).
		Scan(&r.Status, &r.ProviderMessageID, &r.ProviderStatus, &r.FailureReason, &r.Attempts, &r.Parts, &r.Sent)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTakeDue(t *testing.T) {
	ctx := context.Background()
	s := obxStore(t)
	ids := obxEnqueue(t, s, obxProvider, "+255700000001", "+255700000002", "+255700000003")
	other := obxEnqueue(t, s, "hubtel", "+233200000001")
	// Not due yet.
	if _, err := s.Pool().Exec(ctx, `UPDATE imis_gateway.outbox SET next_attempt_at = now() + interval '1 hour' WHERE id = $1`, ids[2]); err != nil {
		t.Fatal(err)
	}

	got, err := s.TakeDue(ctx, []string{obxProvider}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != ids[0] || got[1].ID != ids[1] {
		t.Fatalf("took %+v, want ids %v", got, ids[:2])
	}
	m := got[0]
	if m.Provider != obxProvider || m.Recipient != "+255700000001" || m.Body != "Policy renewed for +255700000001" ||
		m.Purpose != "test" || m.DedupKey != "test:africastalking:+255700000001" || m.Attempts != 1 || m.CreatedAt.IsZero() {
		t.Errorf("message %+v", m)
	}
	if r := obxGet(t, s, ids[0]); r.Status != "sending" || r.Attempts != 1 {
		t.Errorf("row %+v", r)
	}
	if again, err := s.TakeDue(ctx, []string{obxProvider}, 10); err != nil || len(again) != 0 {
		t.Errorf("taken twice: %+v %v", again, err)
	}
	if r := obxGet(t, s, other[0]); r.Status != "queued" {
		t.Errorf("other provider's row %+v", r)
	}
	if none, err := s.TakeDue(ctx, nil, 10); err != nil || none != nil {
		t.Errorf("no providers: %v %v", none, err)
	}
}

// Several gateways taking at once never get the same message.
func TestTakeDueConcurrently(t *testing.T) {
	ctx := context.Background()
	s := obxStore(t)
	var recipients []string
	for i := range 40 {
		recipients = append(recipients, fmt.Sprintf("+2557000%05d", i))
	}
	obxEnqueue(t, s, obxProvider, recipients...)

	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				msgs, err := s.TakeDue(ctx, []string{obxProvider}, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(msgs) == 0 {
					return
				}
				mu.Lock()
				for _, m := range msgs {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 40 {
		t.Errorf("took %d distinct messages, want 40", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("message %d taken %d times", id, n)
		}
	}
}

func TestOutboxOutcomes(t *testing.T) {
	ctx := context.Background()
	s := obxStore(t)
	ids := obxEnqueue(t, s, obxProvider, "+255700000001", "+255700000002", "+255700000003", "+255700000004", "+255700000005")
	if _, err := s.TakeDue(ctx, []string{obxProvider}, 10); err != nil {
		t.Fatal(err)
	}
	next := time.Now().Add(time.Hour)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.MarkSent(ctx, ids[0], "ATXid_1", "Success", 2))
	must(s.MarkRetry(ctx, ids[1], next, "HTTP 500: Internal Server Error"))
	must(s.MarkFailed(ctx, ids[2], "InvalidPhoneNumber", "recipient status 403 InvalidPhoneNumber"))
	must(s.MarkUnknown(ctx, ids[3], "no answer in time after the request reached Africa's Talking"))
	must(s.PutBack(ctx, ids[4], next, "throttled"))

	for i, want := range []obxRow{
		{Status: "sent", ProviderMessageID: "ATXid_1", ProviderStatus: "Success", Attempts: 1, Parts: 2, Sent: true},
		{Status: "queued", FailureReason: "HTTP 500: Internal Server Error", Attempts: 1},
		{Status: "failed", ProviderStatus: "InvalidPhoneNumber", FailureReason: "recipient status 403 InvalidPhoneNumber", Attempts: 1},
		{Status: "unknown", FailureReason: "no answer in time after the request reached Africa's Talking", Attempts: 1},
		{Status: "queued", FailureReason: "throttled", Attempts: 0},
	} {
		if got := obxGet(t, s, ids[i]); got != want {
			t.Errorf("row %d\n got %+v\nwant %+v", i, got, want)
		}
	}
	// Retried and put back rows wait for their time.
	if msgs, err := s.TakeDue(ctx, []string{obxProvider}, 10); err != nil || len(msgs) != 0 {
		t.Errorf("taken before next_attempt_at: %+v %v", msgs, err)
	}
	// Outcomes only apply to messages being sent.
	for name, err := range map[string]error{
		"sent again":  s.MarkSent(ctx, ids[0], "ATXid_2", "Success", 1),
		"retry sent":  s.MarkRetry(ctx, ids[0], next, "x"),
		"fail queued": s.MarkFailed(ctx, ids[1], "x", "y"),
		"unknown":     s.MarkUnknown(ctx, ids[2], "x"),
		"missing":     s.PutBack(ctx, 999999, next, "x"),
	} {
		if !errors.Is(err, policystore.ErrOutboxNotSending) {
			t.Errorf("%s: err %v, want ErrOutboxNotSending", name, err)
		}
	}
	counts, err := s.OutboxQueued(ctx)
	if err != nil || counts[obxProvider] != 2 || len(counts) != 1 {
		t.Errorf("queued counts %v %v", counts, err)
	}
}

// A message a crash left 'sending' becomes 'unknown': never resent, never
// dropped. A late answer for it is still recorded.
func TestRecoverStuck(t *testing.T) {
	ctx := context.Background()
	s := obxStore(t)
	ids := obxEnqueue(t, s, obxProvider, "+255700000001", "+255700000002")
	if _, err := s.TakeDue(ctx, []string{obxProvider}, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `UPDATE imis_gateway.outbox SET updated_at = now() - interval '10 minutes' WHERE id = $1`, ids[0]); err != nil {
		t.Fatal(err)
	}
	n, err := s.RecoverStuck(ctx, 2*time.Minute)
	if err != nil || n != 1 {
		t.Fatalf("recovered %d, %v; want 1", n, err)
	}
	if r := obxGet(t, s, ids[0]); r.Status != "unknown" || r.FailureReason != policystore.StuckReason {
		t.Errorf("stuck row %+v", r)
	}
	if r := obxGet(t, s, ids[1]); r.Status != "sending" {
		t.Errorf("in-flight row %+v", r)
	}
	if msgs, err := s.TakeDue(ctx, []string{obxProvider}, 10); err != nil || len(msgs) != 0 {
		t.Errorf("unknown row taken again: %+v %v", msgs, err)
	}
	if err := s.MarkSent(ctx, ids[0], "ATXid_late", "Success", 1); err != nil {
		t.Fatal(err)
	}
	if r := obxGet(t, s, ids[0]); r.Status != "sent" || r.FailureReason != "" {
		t.Errorf("late answer: %+v", r)
	}
}

// docs/design.md, "Failure modes the tests cover": every AT status, and one AT has not invented yet.
func TestApplyDeliveryReportEveryStatus(t *testing.T) {
	ctx := context.Background()
	s := obxStore(t)
	for i, tc := range []struct {
		raw, state, reason string
		status, failure    string
	}{
		{"Success", "delivered", "", "delivered", ""},
		{"Sent", "sent", "", "sent", ""},
		{"Submitted", "sent", "", "sent", ""},
		{"Buffered", "sent", "", "sent", ""},
		{"Rejected", "failed", "UserInBlackList", "failed", "UserInBlackList"},
		{"Failed", "failed", "", "failed", "delivery report: Failed"},
		{"Expired", "failed", "", "failed", "delivery report: Expired"},
		{"AbsentSubscriber", "failed", "", "failed", "delivery report: AbsentSubscriber"},
		{"QuantumEntangled", "", "", "sent", ""},
		{"Bogus", "not-a-state", "", "sent", ""},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			id := obxEnqueue(t, s, obxProvider, fmt.Sprintf("+25570000%04d", i))[0]
			if _, err := s.TakeDue(ctx, []string{obxProvider}, 1); err != nil {
				t.Fatal(err)
			}
			msgID := fmt.Sprintf("ATXid_every_%d", i)
			if err := s.MarkSent(ctx, id, msgID, "Success", 1); err != nil {
				t.Fatal(err)
			}
			matched, err := s.ApplyDeliveryReport(ctx, obxProvider, msgID, tc.state, tc.raw, tc.reason)
			if err != nil || !matched {
				t.Fatalf("matched %v, err %v", matched, err)
			}
			r := obxGet(t, s, id)
			if r.Status != tc.status || r.ProviderStatus != tc.raw || r.FailureReason != tc.failure {
				t.Errorf("row %+v, want status %s, provider status %s, reason %q", r, tc.status, tc.raw, tc.failure)
			}
			var raw string
			var applied bool
			err = s.Pool().QueryRow(ctx, `SELECT raw_status, applied_at IS NOT NULL FROM imis_gateway.delivery_report
				WHERE provider_message_id = $1`, msgID).Scan(&raw, &applied)
			if err != nil || raw != tc.raw || !applied {
				t.Errorf("stored report %q applied=%v err=%v", raw, applied, err)
			}
		})
	}
}

func TestDeliveryReportsOnlyMoveForward(t *testing.T) {
	ctx := context.Background()
	s := obxStore(t)
	id := obxEnqueue(t, s, obxProvider, "+255700000001")[0]
	if _, err := s.TakeDue(ctx, []string{obxProvider}, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSent(ctx, id, "ATXid_fwd", "Success", 1); err != nil {
		t.Fatal(err)
	}
	for _, rep := range []struct{ state, raw string }{
		{"sent", "Submitted"}, {"delivered", "Success"}, {"sent", "Buffered"}, {"failed", "Failed"},
		{"delivered", "Success"}, // AT's retry of the same report
	} {
		if _, err := s.ApplyDeliveryReport(ctx, obxProvider, "ATXid_fwd", rep.state, rep.raw, ""); err != nil {
			t.Fatal(err)
		}
	}
	if r := obxGet(t, s, id); r.Status != "delivered" || r.ProviderStatus != "Success" || r.FailureReason != "" {
		t.Errorf("row %+v", r)
	}
	var reports int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM imis_gateway.delivery_report`).Scan(&reports); err != nil || reports != 4 {
		t.Errorf("%d reports stored (%v), want 4: the retried one once", reports, err)
	}
}

// docs/design.md, "Failure modes the tests cover": a report that arrives before the send is recorded is
// parked and applied when it is.
func TestDeliveryReportBeforeSendIsParked(t *testing.T) {
	ctx := context.Background()
	s := obxStore(t)
	id := obxEnqueue(t, s, obxProvider, "+255700000001")[0]
	if _, err := s.TakeDue(ctx, []string{obxProvider}, 1); err != nil {
		t.Fatal(err)
	}
	for _, rep := range []struct{ state, raw string }{{"sent", "Sent"}, {"delivered", "Success"}} {
		matched, err := s.ApplyDeliveryReport(ctx, obxProvider, "ATXid_early", rep.state, rep.raw, "")
		if err != nil || matched {
			t.Fatalf("matched %v, err %v; want parked", matched, err)
		}
	}
	if r := obxGet(t, s, id); r.Status != "sending" {
		t.Errorf("row changed before its send was recorded: %+v", r)
	}
	if err := s.MarkSent(ctx, id, "ATXid_early", "Success", 1); err != nil {
		t.Fatal(err)
	}
	if r := obxGet(t, s, id); r.Status != "delivered" || r.ProviderStatus != "Success" {
		t.Errorf("row %+v, want delivered", r)
	}
	var parked int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM imis_gateway.delivery_report WHERE applied_at IS NULL`).Scan(&parked); err != nil || parked != 0 {
		t.Errorf("%d reports still parked (%v)", parked, err)
	}
	// A report for an id that is not ours stays parked, visible.
	if matched, err := s.ApplyDeliveryReport(ctx, obxProvider, "ATXid_stranger", "delivered", "Success", ""); err != nil || matched {
		t.Errorf("stranger: matched %v err %v", matched, err)
	}
}

// The report and the recording of the send race (docs/design.md, "Failure modes the tests cover"): whoever
// wins, the report ends up applied.
func TestDeliveryReportRacesMarkSent(t *testing.T) {
	ctx := context.Background()
	s := obxStore(t)
	const n = 20
	var recipients []string
	for i := range n {
		recipients = append(recipients, fmt.Sprintf("+2557001%05d", i))
	}
	ids := obxEnqueue(t, s, obxProvider, recipients...)
	if msgs, err := s.TakeDue(ctx, []string{obxProvider}, n); err != nil || len(msgs) != n {
		t.Fatalf("took %d, %v", len(msgs), err)
	}
	var wg sync.WaitGroup
	for i, id := range ids {
		msgID := fmt.Sprintf("ATXid_race_%d", i)
		wg.Go(func() {
			if err := s.MarkSent(ctx, id, msgID, "Success", 1); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if _, err := s.ApplyDeliveryReport(ctx, obxProvider, msgID, "delivered", "Success", ""); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		if r := obxGet(t, s, id); r.Status != "delivered" {
			t.Errorf("row %d: %+v", id, r)
		}
	}
}
