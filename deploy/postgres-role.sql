-- The least rights `imis-gateway serve` needs on an openIMIS database, for a
-- login role of its own, imis_gateway_app (rename it throughout if you like).
--
--   1. As the database owner:   imis-gateway migrate
--      (it creates the schema imis_gateway and indexes on openIMIS tables,
--      which only a table's owner may do)
--   2. As the database owner:   CREATE ROLE imis_gateway_app LOGIN PASSWORD '...';
--                               psql "$OWNER_DATABASE_URL" -f deploy/postgres-role.sql
--   3. serve with DATABASE_URL=postgres://imis_gateway_app:...@host/openimis
--
-- Run it again after every `imis-gateway migrate` that adds a table. The
-- gateway's test suite applies this file and runs USSD, SMS and renewals
-- through a role that has nothing else.

-- Its own schema: everything.
GRANT USAGE ON SCHEMA imis_gateway TO imis_gateway_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA imis_gateway TO imis_gateway_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA imis_gateway TO imis_gateway_app;

-- openIMIS: membership, claims, officers and their areas, renewal quotes.
GRANT SELECT ON "tblInsuree", "tblFamilies", "tblInsureePolicy", "tblPolicy", "tblProduct", "tblPremium",
  "tblPolicyRenewals", "tblClaim", "tblHF", "tblOfficer", "tblOfficerVillages", "tblLocations",
  "tblIMISDefaults" TO imis_gateway_app;

-- openIMIS: what a renewal writes (a policy, its members, the premium) and
-- the previous policy's reminders it closes.
GRANT INSERT ON "tblPolicy", "tblInsureePolicy", "tblPremium" TO imis_gateway_app;
GRANT UPDATE ("ResponseStatus", "ResponseDate", "ValidityTo") ON "tblPolicyRenewals" TO imis_gateway_app;
-- A renewal locks its family's row (SELECT ... FOR UPDATE), which PostgreSQL
-- allows only with an UPDATE right on some column; the gateway never
-- updates it.
GRANT UPDATE ("FamilyID") ON "tblFamilies" TO imis_gateway_app;
DO $$
BEGIN
  EXECUTE format('GRANT USAGE ON SEQUENCE %s, %s, %s TO imis_gateway_app',
    pg_get_serial_sequence('"tblPolicy"', 'PolicyID'),
    pg_get_serial_sequence('"tblInsureePolicy"', 'InsureePolicyID'),
    pg_get_serial_sequence('"tblPremium"', 'PremiumId'));
END $$;

-- The conversation trace's daily partitions: made ahead and dropped past
-- TRACE_RETENTION by a function that runs as its owner (the role may not
-- create or drop tables itself).
GRANT EXECUTE ON FUNCTION imis_gateway.trace_maintain(integer, integer) TO imis_gateway_app;
-- openIMIS: renewal reminders read the policy module's renewal interval and
-- the families' SMS consent, where those tables exist.
DO $$
BEGIN
  IF to_regclass('"core_ModuleConfiguration"') IS NOT NULL THEN
    GRANT SELECT ON "core_ModuleConfiguration" TO imis_gateway_app;
  END IF;
  IF to_regclass('"tblFamilySMS"') IS NOT NULL THEN
    GRANT SELECT ON "tblFamilySMS" TO imis_gateway_app;
  END IF;
END $$;
