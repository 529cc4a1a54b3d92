package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/gateway"
	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/policystore/pgtest"
	"github.com/openimis/imis-gateway/providers/africastalking"
	"github.com/openimis/imis-gateway/providers/africastalking/attest"
)

// smsStore is a policy store on a fresh migrated database (no demo data:
// the outbox and inbound tables are the gateway's own).
func smsStore(t *testing.T) *policystore.Store {
	t.Helper()
	s, err := policystore.Open(context.Background(), pgtest.NewDatabase(t), policystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// smsFastOutbox keeps the worker's waits in milliseconds.
func smsFastOutbox() gateway.OutboxOptions {
	return gateway.OutboxOptions{
		PollInterval:  10 * time.Millisecond,
		SendTimeout:   2 * time.Second,
		BackoffBase:   20 * time.Millisecond,
		BackoffCap:    80 * time.Millisecond,
		ThrottlePause: 300 * time.Millisecond,
		StuckAfter:    150 * time.Millisecond,
		CheckInterval: 50 * time.Millisecond,
	}
}

func smsATSenders(fake *attest.Server) map[string]gateway.Sender {
	c := africastalking.NewSMSClient(africastalking.SMSConfig{Username: "imis", APIKey: "k3y", BaseURL: fake.URL})
	return map[string]gateway.Sender{africastalking.Name: c}
}

// smsRun runs w until the test ends (or stop is called) and returns stop,
// which waits for Run to return.
func smsRun(t *testing.T, run func(context.Context) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Run did not return after its context was cancelled")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func smsEventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func smsEnqueue(t *testing.T, s *policystore.Store, provider, to, body string) int64 {
	t.Helper()
	ctx := context.Background()
	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	key := fmt.Sprintf("test:%s:%s:%s", provider, to, body)
	if err := policystore.EnqueueSMS(ctx, tx, policystore.OutboundSMS{Provider: provider, Recipient: to, Body: body,
		Purpose: "test", DedupKey: key}); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := tx.QueryRow(ctx, `SELECT id FROM imis_gateway.outbox WHERE dedup_key = $1`, key).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return id
}

type smsOutbox struct {
	Status, MessageID, ProviderStatus, Reason string
	Attempts, Parts                           int
}

func smsOutboxRow(t *testing.T, s *policystore.Store, id int64) smsOutbox {
	t.Helper()
	var r smsOutbox
	err := s.Pool().QueryRow(context.Background(), `
		SELECT status, coalesce(provider_message_id, ''), coalesce(provider_status, ''), coalesce(failure_reason, ''),
		       attempts, coalesce(parts, 0)
		FROM imis_gateway.outbox WHERE id = $1`, id).Scan(&r.Status, &r.MessageID, &r.ProviderStatus, &r.Reason, &r.Attempts, &r.Parts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func smsStatusIs(t *testing.T, s *policystore.Store, id int64, status string) func() bool {
	return func() bool { return smsOutboxRow(t, s, id).Status == status }
}

// smsLogBuffer collects log lines for assertions, safely across goroutines.
type smsLogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *smsLogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *smsLogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *smsLogBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestOutboxWorkerSendsQueuedMessages(t *testing.T) {
	s := smsStore(t)
	fake := attest.New(t)
	ids := []int64{
		smsEnqueue(t, s, africastalking.Name, "+255712345001", "Renewal recorded: active until 31/01/2027"),
		smsEnqueue(t, s, africastalking.Name, "+255712345002", strings.Repeat("Long confirmation. ", 10)),
		smsEnqueue(t, s, africastalking.Name, "+255712345003", "Sera imesasishwa"),
	}
	var logs smsLogBuffer
	w := gateway.NewOutboxWorker(s, smsATSenders(fake), smsFastOutbox(), logs.logger())
	smsRun(t, w.Run)
	for _, id := range ids {
		smsEventually(t, "sent", smsStatusIs(t, s, id, "sent"))
	}

	reqs := fake.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	sentTo := map[string]string{} // recipient → message id the fake gave it
	for i, r := range reqs {
		sentTo[r.Form.Get("to")] = attest.MessageID(i + 1)
		if r.Header.Get("apiKey") != "k3y" || r.Form.Get("username") != "imis" {
			t.Errorf("request %d: %v %v", i, r.Header, r.Form)
		}
	}
	for i, id := range ids {
		row := smsOutboxRow(t, s, id)
		to := fmt.Sprintf("+25571234500%d", i+1)
		if row.MessageID != sentTo[to] || row.ProviderStatus != "Success" || row.Attempts != 1 {
			t.Errorf("row %d: %+v, want message id %s", id, row, sentTo[to])
		}
	}
	if row := smsOutboxRow(t, s, ids[1]); row.Parts != 2 {
		t.Errorf("a 190-character message recorded %d parts, want 2", row.Parts)
	}
	// Phones are masked in the log.
	if out := logs.String(); strings.Contains(out, "+255712345001") || !strings.Contains(out, "+*********001") {
		t.Errorf("log does not mask phones:\n%s", out)
	}
}

func TestOutboxWorkerRetriesThenSends(t *testing.T) {
	s := smsStore(t)
	fake := attest.New(t)
	fake.Enqueue(attest.ServerError(), attest.RecipientFailure("+255712345678", 500, "InternalServerError"))
	id := smsEnqueue(t, s, africastalking.Name, "+255712345678", "Renewal recorded")
	w := gateway.NewOutboxWorker(s, smsATSenders(fake), smsFastOutbox(), nil)
	smsRun(t, w.Run)
	smsEventually(t, "sent after two failures", smsStatusIs(t, s, id, "sent"))
	if row := smsOutboxRow(t, s, id); row.Attempts != 3 || row.Reason != "" || row.MessageID != attest.MessageID(1) {
		t.Errorf("row %+v", row)
	}
	reqs := fake.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	// Backoff: each retry waited at least half its base (equal jitter).
	for i := 1; i < 3; i++ {
		if gap := reqs[i].At.Sub(reqs[i-1].At); gap < 10*time.Millisecond {
			t.Errorf("retry %d after %v: no backoff", i, gap)
		}
	}
}

func TestOutboxWorkerGivesUpAfterMaxAttempts(t *testing.T) {
	s := smsStore(t)
	fake := attest.New(t)
	fake.Respond(func(attest.Request) attest.Response { return attest.ServerError() })
	id := smsEnqueue(t, s, africastalking.Name, "+255712345678", "Renewal recorded")
	opts := smsFastOutbox()
	opts.MaxAttempts = 3
	w := gateway.NewOutboxWorker(s, smsATSenders(fake), opts, nil)
	smsRun(t, w.Run)
	smsEventually(t, "failed", smsStatusIs(t, s, id, "failed"))
	row := smsOutboxRow(t, s, id)
	if row.Attempts != 3 || !strings.Contains(row.Reason, "gave up after 3 attempts") || !strings.Contains(row.Reason, "500") {
		t.Errorf("row %+v", row)
	}
	if fake.Count() != 3 {
		t.Errorf("%d requests, want 3", fake.Count())
	}
}

// Permanent refusals are final, with the provider's reason, and never retried.
func TestOutboxWorkerPermanentFailureIsFinal(t *testing.T) {
	for _, tc := range []struct {
		label          string
		answer         attest.Response
		providerStatus string
		reason         string
	}{
		{"InvalidPhoneNumber", attest.RecipientFailure("+255712345678", 403, "InvalidPhoneNumber"), "InvalidPhoneNumber", "403 InvalidPhoneNumber"},
		{"DoNotDisturbRejection", attest.RecipientFailure("+255712345678", 409, "DoNotDisturbRejection"), "DoNotDisturbRejection", "409 DoNotDisturbRejection"},
		{"plain-text 401", attest.Unauthorized(), "Unauthorized", "The supplied authentication is invalid"},
		{"InvalidSenderId", attest.InvalidSenderID(), "InvalidSenderId", "InvalidSenderId"},
	} {
		t.Run(tc.label, func(t *testing.T) {
			s := smsStore(t)
			fake := attest.New(t)
			fake.Enqueue(tc.answer)
			id := smsEnqueue(t, s, africastalking.Name, "+255712345678", "Renewal recorded")
			var logs smsLogBuffer
			w := gateway.NewOutboxWorker(s, smsATSenders(fake), smsFastOutbox(), logs.logger())
			stop := smsRun(t, w.Run)
			smsEventually(t, "failed", smsStatusIs(t, s, id, "failed"))
			time.Sleep(50 * time.Millisecond) // a few more polls
			stop()
			row := smsOutboxRow(t, s, id)
			if row.ProviderStatus != tc.providerStatus || !strings.Contains(row.Reason, tc.reason) || row.Attempts != 1 {
				t.Errorf("row %+v", row)
			}
			if fake.Count() != 1 {
				t.Errorf("%d requests, want 1", fake.Count())
			}
			if tc.label == "plain-text 401" && !strings.Contains(logs.String(), "level=ERROR") {
				t.Errorf("a refused configuration is not logged loudly:\n%s", logs.String())
			}
		})
	}
}

// docs/design.md, "Failure modes the tests cover": a 429 pauses the whole provider instead of hammering it;
// nothing is lost, nothing sent twice, and the throttle costs no attempt.
func TestOutboxWorkerPausesOnThrottle(t *testing.T) {
	s := smsStore(t)
	fake := attest.New(t)
	fake.Enqueue(attest.Throttled(0))
	var ids []int64
	for i := range 3 {
		ids = append(ids, smsEnqueue(t, s, africastalking.Name, fmt.Sprintf("+25571234500%d", i), "Renewal recorded"))
	}
	opts := smsFastOutbox()
	opts.Concurrency = 1
	w := gateway.NewOutboxWorker(s, smsATSenders(fake), opts, nil)
	smsRun(t, w.Run)
	for _, id := range ids {
		smsEventually(t, "sent", smsStatusIs(t, s, id, "sent"))
	}
	reqs := fake.Requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want 4 (one throttled, three sent)", len(reqs))
	}
	if gap := reqs[1].At.Sub(reqs[0].At); gap < 250*time.Millisecond {
		t.Errorf("next request %v after the 429, want a pause of ~300ms", gap)
	}
	seen := map[string]int{}
	for _, r := range reqs[1:] {
		seen[r.Form.Get("to")]++
	}
	if len(seen) != 3 {
		t.Errorf("sent to %v", seen)
	}
	if row := smsOutboxRow(t, s, ids[0]); row.Attempts != 1 {
		t.Errorf("throttled message: %+v, want 1 attempt", row)
	}
}

// smsDyingStore loses the database the moment it should record a send, as a
// gateway killed between the provider's answer and its commit would.
type smsDyingStore struct {
	*policystore.Store
	marks atomic.Int32
}

func (d *smsDyingStore) MarkSent(context.Context, int64, string, string, int) error {
	d.marks.Add(1)
	return errors.New("killed before recording")
}

// docs/design.md, "Failure modes the tests cover": a crash between the provider's acceptance and the record.
// On restart the message is 'unknown', the provider got exactly one request,
// and nothing is resent.
func TestOutboxWorkerCrashBetweenSendAndRecord(t *testing.T) {
	s := smsStore(t)
	fake := attest.New(t)
	id := smsEnqueue(t, s, africastalking.Name, "+255712345678", "Renewal recorded")

	dying := &smsDyingStore{Store: s}
	first := gateway.NewOutboxWorker(dying, smsATSenders(fake), smsFastOutbox(), nil)
	stopFirst := smsRun(t, first.Run)
	smsEventually(t, "the first worker sent and died", func() bool { return dying.marks.Load() == 1 })
	stopFirst()
	if row := smsOutboxRow(t, s, id); row.Status != "sending" {
		t.Fatalf("after the crash: %+v", row)
	}

	var logs smsLogBuffer
	second := gateway.NewOutboxWorker(s, smsATSenders(fake), smsFastOutbox(), logs.logger())
	smsRun(t, second.Run)
	smsEventually(t, "recovered as unknown", smsStatusIs(t, s, id, "unknown"))
	time.Sleep(100 * time.Millisecond) // several polls of the restarted worker
	if fake.Count() != 1 {
		t.Errorf("the provider got %d requests, want exactly 1", fake.Count())
	}
	if row := smsOutboxRow(t, s, id); row.Reason != policystore.StuckReason {
		t.Errorf("row %+v", row)
	}
	if !strings.Contains(logs.String(), "marked unknown") {
		t.Errorf("recovery not logged:\n%s", logs.String())
	}
}

// A timeout after the request reached the provider: maybe sent, so
// 'unknown', never resent.
func TestOutboxWorkerTimeoutAfterRequestIsNotResent(t *testing.T) {
	s := smsStore(t)
	fake := attest.New(t)
	fake.Enqueue(attest.Slow("+255712345678", "ATXid_late", 5*time.Second))
	id := smsEnqueue(t, s, africastalking.Name, "+255712345678", "Renewal recorded")
	opts := smsFastOutbox()
	opts.SendTimeout = 100 * time.Millisecond
	w := gateway.NewOutboxWorker(s, smsATSenders(fake), opts, nil)
	smsRun(t, w.Run)
	smsEventually(t, "unknown", smsStatusIs(t, s, id, "unknown"))
	time.Sleep(100 * time.Millisecond)
	if fake.Count() != 1 {
		t.Errorf("%d requests, want 1", fake.Count())
	}
	if row := smsOutboxRow(t, s, id); !strings.Contains(row.Reason, "may have been sent") {
		t.Errorf("row %+v", row)
	}
}

// Stopping the worker lets the send in flight finish and be recorded.
func TestOutboxWorkerStopFinishesTheSendInFlight(t *testing.T) {
	s := smsStore(t)
	fake := attest.New(t)
	fake.Enqueue(attest.Slow("+255712345678", "ATXid_slow", 300*time.Millisecond))
	id := smsEnqueue(t, s, africastalking.Name, "+255712345678", "Renewal recorded")
	w := gateway.NewOutboxWorker(s, smsATSenders(fake), smsFastOutbox(), nil)
	stop := smsRun(t, w.Run)
	<-fake.Received()
	stop()
	if row := smsOutboxRow(t, s, id); row.Status != "sent" || row.MessageID != "ATXid_slow" {
		t.Errorf("row %+v", row)
	}
}

// Without credentials nothing is sent, nothing is dropped, and the log says
// why, once per check interval rather than per poll.
func TestOutboxWorkerUnconfiguredProviderLeavesRowsQueued(t *testing.T) {
	s := smsStore(t)
	fake := attest.New(t)
	at := smsEnqueue(t, s, africastalking.Name, "+255712345678", "Renewal recorded")
	other := smsEnqueue(t, s, "hubtel", "+233244000000", "Renewal recorded")
	unconfigured := africastalking.NewSMSClient(africastalking.SMSConfig{BaseURL: fake.URL})
	var logs smsLogBuffer
	opts := smsFastOutbox()
	opts.CheckInterval = 100 * time.Millisecond
	w := gateway.NewOutboxWorker(s, map[string]gateway.Sender{africastalking.Name: unconfigured}, opts, logs.logger())
	stop := smsRun(t, w.Run)
	time.Sleep(250 * time.Millisecond)
	stop()
	for _, id := range []int64{at, other} {
		if row := smsOutboxRow(t, s, id); row.Status != "queued" || row.Attempts != 0 {
			t.Errorf("row %d: %+v", id, row)
		}
	}
	if fake.Count() != 0 {
		t.Errorf("%d requests without credentials", fake.Count())
	}
	out := logs.String()
	warnings := strings.Count(out, "not configured")
	if warnings < 2 || warnings > 8 || !strings.Contains(out, "provider=africastalking") || !strings.Contains(out, "provider=hubtel") {
		t.Errorf("%d warnings:\n%s", warnings, out)
	}
}

// Several gateways on one database send each message once.
func TestOutboxWorkersShareTheQueue(t *testing.T) {
	s := smsStore(t)
	fake := attest.New(t)
	var ids []int64
	for i := range 30 {
		ids = append(ids, smsEnqueue(t, s, africastalking.Name, fmt.Sprintf("+2557123450%02d", i), "Renewal recorded"))
	}
	for range 3 {
		w := gateway.NewOutboxWorker(s, smsATSenders(fake), smsFastOutbox(), nil)
		smsRun(t, w.Run)
	}
	for _, id := range ids {
		smsEventually(t, "sent", smsStatusIs(t, s, id, "sent"))
	}
	if fake.Count() != 30 {
		t.Errorf("%d requests for 30 messages", fake.Count())
	}
}
