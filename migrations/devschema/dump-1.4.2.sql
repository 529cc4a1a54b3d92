-- Turns the development schema back into the shape of the unmodified
-- openIMIS 1.4.2 PostgreSQL dump, before the Django migrations widened and
-- extended it (docs/openimis.md, "Two schemas: the openIMIS dump and Django migrations"): the gateway must run on both.
ALTER TABLE "tblInsuree" ALTER COLUMN "CHFID" TYPE varchar(12);
ALTER TABLE "tblInsuree" ALTER COLUMN "DOB" SET NOT NULL;
ALTER TABLE "tblInsuree" DROP COLUMN "status", DROP COLUMN "status_date", DROP COLUMN "StatusReason";
ALTER TABLE "tblPolicy" DROP COLUMN "creationDate";
ALTER TABLE "tblClaim" ALTER COLUMN "ClaimCode" TYPE varchar(8);
