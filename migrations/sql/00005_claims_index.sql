-- Claim status lists an insuree's latest claims (policystore.Claims): an
-- index on current claims by insuree keeps that one query cheap on a large
-- "tblClaim". CONCURRENTLY and IF NOT EXISTS as in 00001.

-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY IF NOT EXISTS imisgw_claim_insuree_current
    ON "tblClaim" ("InsureeID", "DateClaimed" DESC) WHERE "ValidityTo" IS NULL;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS imisgw_claim_insuree_current;
