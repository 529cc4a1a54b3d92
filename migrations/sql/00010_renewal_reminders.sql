-- Renewal reminders by SMS (issue 15; README.md, "Renewal reminders"): one
-- row per reminder queued, written in the transaction that queues its SMS
-- (imis_gateway.outbox, dedup_key 'reminder:' || id).
-- Its unique keys make a reminder go out once per policy and expiry date,
-- and an officer's digest once per officer and day, however many instances
-- run the job and however often.
--
-- NO TRANSACTION because the index on "tblPolicy" is built CONCURRENTLY, so
-- that a live openIMIS database keeps accepting writes. Every statement is
-- IF NOT EXISTS, so a run that failed halfway is finished by the next one.

-- +goose NO TRANSACTION
-- +goose Up
CREATE TABLE IF NOT EXISTS imis_gateway.renewal_reminder (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('family', 'officer')),
    -- family: the policy expiring and its expiry date (a policy whose
    -- expiry openIMIS moves is reminded again for the new date).
    policy_id   integer,
    expiry_date date,
    family_id   integer,
    -- officer: the officer and the scheme-local day of the digest.
    officer_id  integer,
    digest_date date,
    recipient   text NOT NULL,                    -- E.164
    lang        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (kind <> 'family' OR (policy_id IS NOT NULL AND expiry_date IS NOT NULL)),
    CHECK (kind <> 'officer' OR (officer_id IS NOT NULL AND digest_date IS NOT NULL))
);
CREATE UNIQUE INDEX IF NOT EXISTS renewal_reminder_policy
    ON imis_gateway.renewal_reminder (policy_id, expiry_date) WHERE kind = 'family';
CREATE UNIQUE INDEX IF NOT EXISTS renewal_reminder_officer_day
    ON imis_gateway.renewal_reminder (officer_id, digest_date) WHERE kind = 'officer';

-- The job and the DUE command look for policies by expiry date.
CREATE INDEX CONCURRENTLY IF NOT EXISTS imisgw_policy_expiry ON "tblPolicy" ("ExpiryDate");

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS imisgw_policy_expiry;
DROP TABLE IF EXISTS imis_gateway.renewal_reminder;
