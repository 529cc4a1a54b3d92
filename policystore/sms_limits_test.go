package policystore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/providers"
)

func TestMobileNumber(t *testing.T) {
	for _, tc := range []struct {
		raw, region, want string
	}{
		{"+255712345678", "TZ", "+255712345678"},
		{"0712 345 678", "TZ", "+255712345678"},
		{"255712345678", "TZ", "+255712345678"},
		{"+9779841234567", "TZ", "+9779841234567"}, // a mobile abroad
		{"+14155550100", "TZ", "+14155550100"},     // North America: fixed line or mobile
		{"MPESA", "TZ", ""},                        // alphanumeric sender id
		{"15000", "TZ", ""},                        // short code
		{"+25515000", "TZ", ""},                    // short code in international form
		{"+255222123456", "TZ", ""},                // Dar es Salaam fixed line
		{"+15005550006", "TZ", ""},                 // personal number, not a handset's
		{"", "TZ", ""},
	} {
		got, ok := policystore.MobileNumber(tc.raw, tc.region)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("MobileNumber(%q, %s) = %q, %v; want %q", tc.raw, tc.region, got, ok, tc.want)
		}
	}
}

// smsDecide runs f in a transaction, as the SMS handler does, and commits.
func smsDecide(t *testing.T, s *policystore.Store, f func(tx pgx.Tx) error) {
	t.Helper()
	ctx := context.Background()
	tx, err := s.BeginInbound(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := policystore.LockSender(ctx, tx, "+255712345678"); err != nil {
		t.Fatal(err)
	}
	if err := f(tx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestRepeatAnswered: the same text, normalised, from the same sender,
// answered within the window of the new message, is a repeat; nothing else.
func TestRepeatAnswered(t *testing.T) {
	ctx := context.Background()
	s := obxStore(t)
	record := func(id, from, text string, ago time.Duration, outcome string) {
		t.Helper()
		m := providers.InboundSMS{Provider: obxProvider, MessageID: id, From: from, Text: text}
		if _, err := s.RecordInbound(ctx, m); err != nil {
			t.Fatal(err)
		}
		_, err := s.Pool().Exec(ctx, `UPDATE imis_gateway.inbound_sms SET received_at = now() - make_interval(secs => $2)
			WHERE message_id = $1`, id, ago.Seconds())
		if err != nil {
			t.Fatal(err)
		}
		if outcome != "" {
			smsDecide(t, s, func(tx pgx.Tx) error {
				return policystore.SetInboundOutcome(ctx, tx, obxProvider, id, text, outcome)
			})
		}
	}
	const me, other = "+255712345678", "+255754321098"
	record("answered", me, "Check  101203401", 5*time.Minute, "replied")
	record("answered-long-ago", me, "CLAIMS 101203401", 20*time.Minute, "replied")
	record("suppressed", me, "HELP", time.Minute, "suppressed:budget")
	record("other-phone", other, "LANG sw", time.Minute, "replied")

	for _, tc := range []struct {
		text string
		want bool
	}{
		{"check 101203401", true},
		{" CHECK\t101203401\n", true},
		{"CHECK 101203402", false},
		{"CLAIMS 101203401", false}, // answered before the window
		{"HELP", false},             // never answered
		{"LANG sw", false},          // answered, to another phone
	} {
		id := fmt.Sprintf("new %q", tc.text)
		record(id, me, tc.text, 0, "")
		var got bool
		smsDecide(t, s, func(tx pgx.Tx) (err error) {
			got, err = policystore.RepeatAnswered(ctx, tx, obxProvider, id, tc.text, 10*time.Minute)
			return err
		})
		if got != tc.want {
			t.Errorf("%q: repeat = %v, want %v", tc.text, got, tc.want)
		}
	}
	// A message is no repeat of itself.
	smsDecide(t, s, func(tx pgx.Tx) error {
		got, err := policystore.RepeatAnswered(ctx, tx, obxProvider, "answered", "Check  101203401", 10*time.Minute)
		if got {
			t.Error("a message counted as a repeat of itself")
		}
		return err
	})
}

// TestRecentReplies counts one recipient's replies of the period, up to the
// limit, and nothing else in the outbox.
func TestRecentReplies(t *testing.T) {
	ctx := context.Background()
	s := obxStore(t)
	const me = "+255712345678"
	smsDecide(t, s, func(tx pgx.Tx) error {
		for i, m := range []policystore.OutboundSMS{
			{Recipient: me, Purpose: policystore.PurposeSMSReply},
			{Recipient: me, Purpose: policystore.PurposeSMSReply},
			{Recipient: me, Purpose: policystore.PurposeSMSReply},
			{Recipient: me, Purpose: "renewal.officer"},
			{Recipient: "+255754321098", Purpose: policystore.PurposeSMSReply},
		} {
			m.Provider, m.Body, m.DedupKey = obxProvider, "reply", fmt.Sprint("k", i)
			if err := policystore.EnqueueSMS(ctx, tx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if _, err := s.Pool().Exec(ctx, `UPDATE imis_gateway.outbox SET created_at = now() - interval '61 minutes' WHERE dedup_key = 'k0'`); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ limit, want int }{{20, 2}, {2, 2}, {1, 1}} {
		smsDecide(t, s, func(tx pgx.Tx) error {
			n, err := policystore.RecentReplies(ctx, tx, me, time.Hour, tc.limit)
			if n != tc.want {
				t.Errorf("limit %d: %d replies, want %d", tc.limit, n, tc.want)
			}
			return err
		})
	}
}
