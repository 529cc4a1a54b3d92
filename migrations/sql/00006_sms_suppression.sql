-- What the SMS command handler needs to leave some messages unanswered
-- (issue 10): senders that are not mobile numbers, a phone repeating itself
-- within a window, a phone past its reply budget (gateway.SMSCommands).
--
-- NO TRANSACTION because the index on the outbox, which grows with every SMS
-- sent, is built CONCURRENTLY so that replies keep being queued meanwhile.
-- Every statement is IF NOT EXISTS, so a run that failed halfway is finished
-- by the next one.

-- +goose NO TRANSACTION
-- +goose Up

-- normalized_body: the text as the repeat check compares it (trimmed,
-- whitespace collapsed, case folded). outcome: what the handler did with the
-- message, written in the transaction that queues its reply
-- ('replied:unavailable': the command failed and the sender was asked to try
-- again, which is then no repeat); NULL for messages handled before this
-- migration and for failed ones.
ALTER TABLE imis_gateway.inbound_sms ADD COLUMN IF NOT EXISTS normalized_body text;
ALTER TABLE imis_gateway.inbound_sms ADD COLUMN IF NOT EXISTS outcome text
    CHECK (outcome IN ('replied', 'replied:unavailable',
                       'suppressed:not_mobile', 'suppressed:duplicate', 'suppressed:budget'));

-- The repeat check looks for an answered message from the same sender around
-- the new one's arrival. Only answered messages are indexed: a flood of
-- suppressed ones never lengthens the scan, which the reply budget bounds.
CREATE INDEX CONCURRENTLY IF NOT EXISTS inbound_sms_replied_sender
    ON imis_gateway.inbound_sms (sender, received_at) WHERE outcome = 'replied';

-- The reply budget counts a phone's replies of the last hour.
CREATE INDEX CONCURRENTLY IF NOT EXISTS outbox_reply_recipient
    ON imis_gateway.outbox (recipient, created_at) WHERE purpose = 'sms.reply';

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS imis_gateway.outbox_reply_recipient;
DROP INDEX CONCURRENTLY IF EXISTS imis_gateway.inbound_sms_replied_sender;
ALTER TABLE imis_gateway.inbound_sms DROP COLUMN IF EXISTS outcome;
ALTER TABLE imis_gateway.inbound_sms DROP COLUMN IF EXISTS normalized_body;
