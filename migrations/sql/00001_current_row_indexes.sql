-- Indexes for the gateway's hot queries on openIMIS tables. Only current rows
-- ("ValidityTo" IS NULL) are ever read, so the indexes are partial. Built
-- CONCURRENTLY so that a live openIMIS database keeps accepting writes;
-- IF NOT EXISTS so that re-running, or a deployment that already has them,
-- is harmless. docs/openimis.md, "Two schemas: the openIMIS dump and Django migrations": indexes only, never columns or constraints.

-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY IF NOT EXISTS imisgw_insuree_chfid_current
    ON "tblInsuree" ("CHFID") WHERE "ValidityTo" IS NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS imisgw_insureepolicy_insuree_current
    ON "tblInsureePolicy" ("InsureeID") WHERE "ValidityTo" IS NULL;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS imisgw_insureepolicy_insuree_current;
DROP INDEX CONCURRENTLY IF EXISTS imisgw_insuree_chfid_current;
