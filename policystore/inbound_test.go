package policystore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/providers"
)

func inboundFixture(id string) providers.InboundSMS {
	return providers.InboundSMS{Provider: obxProvider, MessageID: id, From: "+255712345678", To: "15522",
		Text: "CHECK TZ1234567", Received: time.Date(2026, 3, 1, 6, 4, 45, 0, time.UTC)}
}

func inboundStatus(t *testing.T, s *policystore.Store, id string) (status, errText string) {
	t.Helper()
	err := s.Pool().QueryRow(context.Background(), `SELECT status, coalesce(error, '') FROM imis_gateway.inbound_sms
		WHERE provider = $1 AND message_id = $2`, obxProvider, id).Scan(&status, &errText)
	if err != nil {
		t.Fatal(err)
	}
	return status, errText
}

func TestRecordInboundOnce(t *testing.T) {
	ctx := context.Background()
	s := obxStore(t)
	m := inboundFixture("ec9adc86-51d5-4bc8-8eb0-d8ab0bb53dc3")
	for i, want := range []bool{true, false, false} {
		isNew, err := s.RecordInbound(ctx, m)
		if err != nil || isNew != want {
			t.Fatalf("record #%d: new=%v err=%v, want new=%v", i+1, isNew, err, want)
		}
	}
	// The same id from another provider is another message.
	other := m
	other.Provider = "twilio"
	if isNew, err := s.RecordInbound(ctx, other); err != nil || !isNew {
		t.Errorf("other provider: new=%v err=%v", isNew, err)
	}
	// Text PostgreSQL cannot hold is repaired, not refused (no 12-hour retry loop).
	bad := inboundFixture("bad-bytes")
	bad.Text, bad.Received = "HE\x00LP \xff", time.Time{}
	if isNew, err := s.RecordInbound(ctx, bad); err != nil || !isNew {
		t.Errorf("unstorable text: new=%v err=%v", isNew, err)
	}
	if _, err := s.RecordInbound(ctx, providers.InboundSMS{Provider: obxProvider, From: "+255712345678"}); err == nil {
		t.Error("recorded a message without an id")
	}
}

func TestLeaseInboundLeases(t *testing.T) {
	ctx := context.Background()
	s := obxStore(t)
	for _, id := range []string{"m1", "m2", "m3"} {
		if _, err := s.RecordInbound(ctx, inboundFixture(id)); err != nil {
			t.Fatal(err)
		}
	}
	leases, err := s.LeaseInbound(ctx, 2, time.Minute)
	if err != nil || len(leases) != 2 {
		t.Fatalf("leased %d, %v", len(leases), err)
	}
	c := leases[0]
	want := inboundFixture("m1")
	if c.InboundSMS != want || c.Attempts != 1 {
		t.Errorf("lease %+v, want %+v", c, want)
	}
	rest, err := s.LeaseInbound(ctx, 10, time.Minute)
	if err != nil || len(rest) != 1 || rest[0].MessageID != "m3" {
		t.Fatalf("second lease %+v %v; want only m3", rest, err)
	}
	if none, err := s.LeaseInbound(ctx, 10, time.Minute); err != nil || len(none) != 0 {
		t.Errorf("leased messages leased again: %+v", none)
	}
	// An expired lease (its processor died) is leased again.
	if _, err := s.Pool().Exec(ctx, `UPDATE imis_gateway.inbound_sms SET claimed_until = now() - interval '1 second' WHERE message_id = 'm2'`); err != nil {
		t.Fatal(err)
	}
	again, err := s.LeaseInbound(ctx, 10, time.Minute)
	if err != nil || len(again) != 1 || again[0].MessageID != "m2" || again[0].Attempts != 2 {
		t.Errorf("after lease expiry: %+v %v", again, err)
	}
}

// The processor marks a message processed in the transaction that writes its
// reply: both commit, or neither.
func TestFinishInboundWithTheReply(t *testing.T) {
	ctx := context.Background()
	s := obxStore(t)
	for _, id := range []string{"ok", "rolled-back"} {
		if _, err := s.RecordInbound(ctx, inboundFixture(id)); err != nil {
			t.Fatal(err)
		}
	}
	reply := func(id string) policystore.OutboundSMS {
		return policystore.OutboundSMS{Provider: obxProvider, Recipient: "+255712345678", Body: "Covered until 31/12/2026",
			Purpose: "sms.reply", DedupKey: "sms.reply:" + id}
	}

	tx, err := s.BeginInbound(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := policystore.EnqueueSMS(ctx, tx, reply("ok")); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishInbound(ctx, tx, obxProvider, "ok", nil); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	tx, err = s.BeginInbound(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := policystore.EnqueueSMS(ctx, tx, reply("rolled-back")); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishInbound(ctx, tx, obxProvider, "rolled-back", nil); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	if st, _ := inboundStatus(t, s, "ok"); st != "processed" {
		t.Errorf("ok: %s", st)
	}
	if st, _ := inboundStatus(t, s, "rolled-back"); st != "received" {
		t.Errorf("rolled-back: %s", st)
	}
	var replies int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM imis_gateway.outbox`).Scan(&replies); err != nil || replies != 1 {
		t.Errorf("%d replies queued (%v), want 1", replies, err)
	}

	// Finishing twice: the second finisher learns it lost.
	if err := s.FinishInbound(ctx, nil, obxProvider, "ok", nil); !errors.Is(err, policystore.ErrInboundNotPending) {
		t.Errorf("second finish: %v", err)
	}
	// A failure without a transaction, with its reason.
	if err := s.FinishInbound(ctx, nil, obxProvider, "rolled-back", errors.New("menus: boom")); err != nil {
		t.Fatal(err)
	}
	if st, e := inboundStatus(t, s, "rolled-back"); st != "failed" || e != "menus: boom" {
		t.Errorf("failed row: %s %q", st, e)
	}
}
