package policystore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/cases"
)

// What the SMS command handler needs to decide whether a message gets a
// reply at all (gateway.SMSCommands). All of it runs in the transaction
// that queues the reply, after LockSender, so that one phone's messages are
// decided one at a time across gateway instances and a decision commits
// with its reply or not at all.

// PurposeSMSReply is the outbox purpose of a reply to an inbound SMS; the
// reply budget counts these.
const PurposeSMSReply = "sms.reply"

// MobileNumber returns raw in E.164 when it is a number a reply can reach:
// valid in its numbering plan and a mobile one (or one the plan cannot tell
// from a fixed line, as in North America). Alphanumeric sender ids
// ("MPESA"), short codes ("15000", "+25515000") and fixed lines give false.
// National numbers are read in region ("0712 345 678" with "TZ").
//
// Unlike openimis.NormalizePhone it is not cached: it runs once per inbound SMS,
// whose transaction costs far more than the parse.
func MobileNumber(raw, region string) (e164 string, ok bool) {
	var n phonenumbers.PhoneNumber
	if err := phonenumbers.ParseToNumber(raw, region, &n); err != nil || !phonenumbers.IsValidNumber(&n) {
		return "", false
	}
	switch phonenumbers.GetNumberType(&n) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		return phonenumbers.Format(&n, phonenumbers.E164), true
	}
	return "", false
}

// LockSender makes tx the only transaction deciding sender's messages until
// it ends, across gateway instances (a transaction-level advisory lock).
func LockSender(ctx context.Context, tx pgx.Tx, sender string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('imis_gateway.sms-from:' || $1, 0))`, sender); err != nil {
		return fmt.Errorf("policystore: lock SMS sender: %w", err)
	}
	return nil
}

// repeatAnsweredSQL finds another message from the same sender, with the
// same normalised text, received within the window either side of this
// one, that was answered. Either side, because a later message may be
// handled first (its lease ran out, another instance took it).
const repeatAnsweredSQL = `
SELECT EXISTS (
    SELECT 1
    FROM imis_gateway.inbound_sms cur
    JOIN imis_gateway.inbound_sms prev
      ON prev.sender = cur.sender
     AND prev.outcome = 'replied'
     AND prev.received_at BETWEEN cur.received_at - make_interval(secs => $4)
                              AND cur.received_at + make_interval(secs => $4)
     AND prev.normalized_body = $3
     AND (prev.provider, prev.message_id) <> (cur.provider, cur.message_id)
    WHERE cur.provider = $1 AND cur.message_id = $2)`

// RepeatAnswered reports whether the inbound message (provider, id), whose
// text is body, repeats one from the same sender that was answered within
// window of it. Texts are compared normalised: trimmed, runs of whitespace
// made one space, case folded ("help", " HELP " and "Help\n" are one text).
func RepeatAnswered(ctx context.Context, tx pgx.Tx, provider, id, body string, window time.Duration) (bool, error) {
	var repeat bool
	if err := tx.QueryRow(ctx, repeatAnsweredSQL, provider, id, normalizeSMSBody(body), window.Seconds()).Scan(&repeat); err != nil {
		return false, fmt.Errorf("policystore: repeated SMS %s: %w", id, err)
	}
	return repeat, nil
}

// recentRepliesSQL names the purpose literally, not as a parameter, so that
// even a generic plan matches the partial index outbox_reply_recipient.
const recentRepliesSQL = `
SELECT count(*) FROM (
    SELECT 1 FROM imis_gateway.outbox
    WHERE recipient = $1 AND purpose = '` + PurposeSMSReply + `' AND created_at > now() - make_interval(secs => $2)
    LIMIT $3) recent`

// RecentReplies counts the replies to inbound SMS queued for recipient in
// the last period, up to limit (the count stops there: it only has to tell
// whether a budget of limit is spent).
func RecentReplies(ctx context.Context, tx pgx.Tx, recipient string, period time.Duration, limit int) (int, error) {
	var n int
	err := tx.QueryRow(ctx, recentRepliesSQL, recipient, period.Seconds(), limit).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("policystore: count SMS replies: %w", err)
	}
	return n, nil
}

// SetInboundOutcome records, in tx, what was done with the inbound message
// (provider, id) whose text is body: "replied"; "replied:unavailable" (the
// command failed and the sender was asked to try again: no repeat of it is
// suppressed); or "suppressed:<reason>" with reason not_mobile, duplicate or
// budget. The normalised text is kept with it for RepeatAnswered.
func SetInboundOutcome(ctx context.Context, tx pgx.Tx, provider, id, body, outcome string) error {
	_, err := tx.Exec(ctx, `
		UPDATE imis_gateway.inbound_sms SET outcome = $3, normalized_body = $4
		WHERE provider = $1 AND message_id = $2`, provider, id, outcome, normalizeSMSBody(body))
	if err != nil {
		return fmt.Errorf("policystore: inbound SMS %s outcome: %w", id, err)
	}
	return nil
}

// normalizeSMSBody is the text as RepeatAnswered compares it.
func normalizeSMSBody(body string) string {
	return cases.Fold().String(strings.Join(strings.Fields(body), " "))
}
