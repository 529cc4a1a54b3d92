-- The gateway's outbox of SMS to send, its log of renewals, and the indexes
-- the renewal path needs on openIMIS tables (issue 3; docs/renewals.md, "The write set, in one transaction").
--
-- NO TRANSACTION because the indexes on openIMIS tables are built
-- CONCURRENTLY, so that a live openIMIS database keeps accepting writes. Every
-- statement is IF NOT EXISTS, so a run that failed halfway is finished by the
-- next one. The gateway's own tables have no foreign keys to openIMIS tables
-- (docs/openimis.md, "Two schemas: the openIMIS dump and Django migrations": no constraints that openIMIS would trip over).

-- +goose NO TRANSACTION
-- +goose Up

-- One row per SMS to send. The business write enqueues it in its own
-- transaction (policystore.EnqueueSMS); the outbox worker sends it.
CREATE TABLE IF NOT EXISTS imis_gateway.outbox (
    id                  bigserial PRIMARY KEY,
    provider            text NOT NULL,               -- 'africastalking'
    recipient           text NOT NULL,               -- E.164
    body                text NOT NULL,
    purpose             text NOT NULL,               -- 'renewal.officer', 'renewal.head', 'sms.reply'
    dedup_key           text UNIQUE,                 -- one message per business event, e.g. 'renewal:<policy uuid>:officer'
    status              text NOT NULL DEFAULT 'queued'
                        CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'unknown')),
    attempts            int NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    provider_message_id text,
    provider_status     text,
    failure_reason      text,
    parts               int,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    sent_at             timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_due ON imis_gateway.outbox (next_attempt_at) WHERE status = 'queued';
CREATE INDEX IF NOT EXISTS outbox_provider_message ON imis_gateway.outbox (provider, provider_message_id);

-- One row per renewal the gateway wrote, in the same transaction as the
-- openIMIS rows. It makes renewals idempotent: the same request_key, or the
-- same receipt for the same family and product, finds the earlier renewal
-- instead of writing a second one; the UNIQUE constraints hold even when two
-- requests race past the look-up.
CREATE TABLE IF NOT EXISTS imis_gateway.renewal (
    id                 bigserial PRIMARY KEY,
    policy_id          integer NOT NULL,             -- "tblPolicy"."PolicyID" of the new policy
    policy_uuid        text NOT NULL,
    previous_policy_id integer NOT NULL,             -- the policy renewed
    family_id          integer NOT NULL,
    product_id         integer NOT NULL,             -- product of the new policy (after conversion)
    officer_id         integer NOT NULL,
    chfid              text NOT NULL,                -- the insurance number the officer entered
    receipt            text NOT NULL,
    amount             numeric(18,2) NOT NULL,       -- paid
    value              numeric(18,2) NOT NULL,       -- due ("PolicyValue")
    start_date         date NOT NULL,
    expiry_date        date NOT NULL,
    status             smallint NOT NULL,            -- "PolicyStatus" as written: 1, 2 or 16
    channel            text NOT NULL CHECK (channel IN ('USSD', 'SMS')),
    request_key        text,                         -- the caller's idempotency key, e.g. 'ussd:<session>'
    created_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT renewal_request_key_key UNIQUE (request_key),
    CONSTRAINT renewal_family_product_receipt_key UNIQUE (family_id, product_id, receipt)
);
CREATE INDEX IF NOT EXISTS renewal_policy ON imis_gateway.renewal (policy_id);

-- The renewal path reads a family's members and policies, premiums by
-- receipt, and the reminders of a policy; only current rows.
CREATE INDEX CONCURRENTLY IF NOT EXISTS imisgw_insuree_family_current
    ON "tblInsuree" ("FamilyID") WHERE "ValidityTo" IS NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS imisgw_policy_family_current
    ON "tblPolicy" ("FamilyID") WHERE "ValidityTo" IS NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS imisgw_premium_receipt_current
    ON "tblPremium" ("Receipt") WHERE "ValidityTo" IS NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS imisgw_policyrenewals_policy_current
    ON "tblPolicyRenewals" ("PolicyID") WHERE "ValidityTo" IS NULL;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS imisgw_policyrenewals_policy_current;
DROP INDEX CONCURRENTLY IF EXISTS imisgw_premium_receipt_current;
DROP INDEX CONCURRENTLY IF EXISTS imisgw_policy_family_current;
DROP INDEX CONCURRENTLY IF EXISTS imisgw_insuree_family_current;
DROP TABLE IF EXISTS imis_gateway.renewal;
DROP TABLE IF EXISTS imis_gateway.outbox;
