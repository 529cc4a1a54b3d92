-- The indexes of 00001, 00003 and 00005 were partial (WHERE "ValidityTo"
-- IS NULL). A database restored from a dump has no planner statistics
-- until it is analyzed, and without them PostgreSQL guesses that a
-- partial index on current rows holds almost nothing: a full scan of one
-- looked as cheap as a look-up in another, and coverage look-ups scanned a
-- family index for an insurance number. Whole-table indexes make the
-- selective one the only sensible plan, analyzed or not; history rows make
-- them only slightly larger. See docs/openimis.md, "The gateway's own
-- tables".

-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY IF NOT EXISTS imisgw_insuree_chfid ON "tblInsuree" ("CHFID");
CREATE INDEX CONCURRENTLY IF NOT EXISTS imisgw_insuree_family ON "tblInsuree" ("FamilyID");
CREATE INDEX CONCURRENTLY IF NOT EXISTS imisgw_insureepolicy_insuree ON "tblInsureePolicy" ("InsureeID");
CREATE INDEX CONCURRENTLY IF NOT EXISTS imisgw_policy_family ON "tblPolicy" ("FamilyID");
CREATE INDEX CONCURRENTLY IF NOT EXISTS imisgw_premium_receipt ON "tblPremium" ("Receipt");
CREATE INDEX CONCURRENTLY IF NOT EXISTS imisgw_policyrenewals_policy ON "tblPolicyRenewals" ("PolicyID");
CREATE INDEX CONCURRENTLY IF NOT EXISTS imisgw_claim_insuree ON "tblClaim" ("InsureeID", "DateClaimed" DESC);
DROP INDEX CONCURRENTLY IF EXISTS imisgw_insuree_chfid_current;
DROP INDEX CONCURRENTLY IF EXISTS imisgw_insuree_family_current;
DROP INDEX CONCURRENTLY IF EXISTS imisgw_insureepolicy_insuree_current;
DROP INDEX CONCURRENTLY IF EXISTS imisgw_policy_family_current;
DROP INDEX CONCURRENTLY IF EXISTS imisgw_premium_receipt_current;
DROP INDEX CONCURRENTLY IF EXISTS imisgw_policyrenewals_policy_current;
DROP INDEX CONCURRENTLY IF EXISTS imisgw_claim_insuree_current;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS imisgw_insuree_chfid_current
    ON "tblInsuree" ("CHFID") WHERE "ValidityTo" IS NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS imisgw_insuree_family_current
    ON "tblInsuree" ("FamilyID") WHERE "ValidityTo" IS NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS imisgw_insureepolicy_insuree_current
    ON "tblInsureePolicy" ("InsureeID") WHERE "ValidityTo" IS NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS imisgw_policy_family_current
    ON "tblPolicy" ("FamilyID") WHERE "ValidityTo" IS NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS imisgw_premium_receipt_current
    ON "tblPremium" ("Receipt") WHERE "ValidityTo" IS NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS imisgw_policyrenewals_policy_current
    ON "tblPolicyRenewals" ("PolicyID") WHERE "ValidityTo" IS NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS imisgw_claim_insuree_current
    ON "tblClaim" ("InsureeID", "DateClaimed" DESC) WHERE "ValidityTo" IS NULL;
DROP INDEX CONCURRENTLY IF EXISTS imisgw_claim_insuree;
DROP INDEX CONCURRENTLY IF EXISTS imisgw_policyrenewals_policy;
DROP INDEX CONCURRENTLY IF EXISTS imisgw_premium_receipt;
DROP INDEX CONCURRENTLY IF EXISTS imisgw_policy_family;
DROP INDEX CONCURRENTLY IF EXISTS imisgw_insureepolicy_insuree;
DROP INDEX CONCURRENTLY IF EXISTS imisgw_insuree_family;
DROP INDEX CONCURRENTLY IF EXISTS imisgw_insuree_chfid;
