-- Inbound SMS and delivery reports (issue 3; docs/providers.md, "Africa's Talking inbound SMS"; "Africa's Talking delivery reports").

-- +goose Up

-- One row per SMS a user sent, keyed by the provider's message id: AT
-- retries an unanswered callback every minute for 12 hours, so the same id
-- arrives more than once and must be processed once. The webhook only
-- records the row; the inbound processor handles it and writes the reply to
-- the outbox in the transaction that marks the row processed.
CREATE TABLE IF NOT EXISTS imis_gateway.inbound_sms (
    provider             text NOT NULL,                -- 'africastalking'
    message_id           text NOT NULL,                -- the provider's id
    sender               text NOT NULL,                -- E.164 as the provider sent it
    recipient            text,                         -- our short code or long number
    body                 text NOT NULL,
    provider_received_at timestamptz,                  -- the provider's date, when it sent one
    received_at          timestamptz NOT NULL DEFAULT now(),
    status               text NOT NULL DEFAULT 'received'
                         CHECK (status IN ('received', 'processed', 'failed')),
    attempts             int NOT NULL DEFAULT 0,       -- times claimed by a processor
    claimed_until        timestamptz,                  -- a processor's lease; an expired lease is re-run
    processed_at         timestamptz,
    error                text,                         -- why it failed
    PRIMARY KEY (provider, message_id)
);
CREATE INDEX IF NOT EXISTS inbound_sms_pending ON imis_gateway.inbound_sms (received_at) WHERE status = 'received';

-- Every delivery report received, with its raw status (AT's list grows;
-- an unknown status is kept, never refused). A report whose message is not
-- yet recorded as sent (it can arrive before the worker commits the send,
-- docs/design.md, "Failure modes the tests cover") or was never ours stays unapplied (applied_at NULL) and is
-- applied when the send is recorded. Retried reports collapse on the UNIQUE.
CREATE TABLE IF NOT EXISTS imis_gateway.delivery_report (
    id                  bigserial PRIMARY KEY,
    provider            text NOT NULL,
    provider_message_id text NOT NULL,
    raw_status          text NOT NULL,
    status              text CHECK (status IN ('sent', 'delivered', 'failed')),   -- NULL: a status we do not know
    failure_reason      text,
    received_at         timestamptz NOT NULL DEFAULT now(),
    applied_at          timestamptz,                  -- NULL: parked until the send is recorded
    outbox_id           bigint,                       -- the outbox row it was applied to
    CONSTRAINT delivery_report_once UNIQUE (provider, provider_message_id, raw_status)
);

-- +goose Down
DROP TABLE IF EXISTS imis_gateway.delivery_report;
DROP TABLE IF EXISTS imis_gateway.inbound_sms;
