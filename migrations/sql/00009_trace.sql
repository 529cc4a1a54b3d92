-- The conversation trace (issue 14; README.md, "Support: tracing a caller"):
-- every USSD hop, SMS in and out, delivery report, renewal and refusal, for
-- the support page and `imis-gateway trace`. The gateway writes it in
-- batches, off the hop's path (gateway/trace.go); losing lines is allowed,
-- slowing a hop is not.
--
-- Partitioned by day (UTC) so that the retention purge drops whole tables
-- instead of deleting rows. The partitions are made and dropped by
-- imis_gateway.trace_maintain, which every instance calls at start and then
-- hourly: it runs as this migration's owner (SECURITY DEFINER), because the
-- least-privilege role (deploy/postgres-role.sql) may neither create nor
-- drop tables, and it is the only way that role can.

-- +goose Up
CREATE TABLE IF NOT EXISTS imis_gateway.trace (
    at         timestamptz NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('hop', 'sms_in', 'sms_out', 'delivery', 'renewal', 'refusal')),
    phone      text,          -- E.164 when it could be read as such, else as the provider sent it
    provider   text NOT NULL,
    session_id text,          -- the USSD session, as the aggregator names it
    node       text,          -- hop: the menu node the session was left on
    asked      text,          -- hop: the node whose question the input answered
    input      text,          -- hop: what was typed, unless withheld (gateway/trace.go, withheldInput)
    screen     text,          -- hop: the screen as sent; sms: the body
    ended      boolean,       -- hop: the screen ended the session
    outcome    text,          -- hop: answered, refused, ...; sms_out: sent, retry, failed, unknown; delivery: its state
    took_us    integer,       -- hop: latency in microseconds
    message_id text,          -- sms: the provider's message id
    link       text,          -- ties rows of one business event: 'renewal:<policy uuid>', 'sms:<provider>:<id>'
    chfid      text,          -- insurance number: renewals, refusals
    receipt    text,          -- renewals, refusals
    detail     text           -- a reason, a purpose: words for the support person
) PARTITION BY RANGE (at);

CREATE INDEX IF NOT EXISTS trace_phone ON imis_gateway.trace (phone, at);
CREATE INDEX IF NOT EXISTS trace_session ON imis_gateway.trace (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS trace_message ON imis_gateway.trace (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS trace_link ON imis_gateway.trace (link) WHERE link IS NOT NULL;
CREATE INDEX IF NOT EXISTS trace_chfid ON imis_gateway.trace (chfid) WHERE chfid IS NOT NULL;
CREATE INDEX IF NOT EXISTS trace_receipt ON imis_gateway.trace (receipt) WHERE receipt IS NOT NULL;

-- trace_maintain makes the partitions of today and the next `ahead` days,
-- and drops those wholly older than `keep_days` days (0 drops them all,
-- today's included, which is what turning the trace off does). Partitions
-- are named trace_YYYYMMDD; nothing else is touched.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION imis_gateway.trace_maintain(ahead integer, keep_days integer)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    day  date;
    part record;
BEGIN
    IF ahead < 0 OR ahead > 31 OR keep_days < 0 THEN
        RAISE EXCEPTION 'trace_maintain: ahead % must be 0..31 and keep_days % at least 0', ahead, keep_days;
    END IF;
    -- Instances starting together would otherwise race on the same names.
    PERFORM pg_advisory_xact_lock(hashtext('imis_gateway.trace_maintain'));
    FOR part IN
        SELECT c.relname FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'imis_gateway.trace'::regclass AND c.relname ~ '^trace_[0-9]{8}$'
          AND (keep_days = 0 OR to_date(substr(c.relname, 7), 'YYYYMMDD') + 1
               <= (now() AT TIME ZONE 'UTC')::date - keep_days)
    LOOP
        EXECUTE format('DROP TABLE imis_gateway.%I', part.relname);
    END LOOP;
    IF keep_days = 0 THEN
        RETURN;
    END IF;
    FOR i IN 0..ahead LOOP
        day := (now() AT TIME ZONE 'UTC')::date + i;
        EXECUTE format('CREATE TABLE IF NOT EXISTS imis_gateway.%I PARTITION OF imis_gateway.trace
                        FOR VALUES FROM (%L) TO (%L)',
                       'trace_' || to_char(day, 'YYYYMMDD'),
                       day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
    END LOOP;
END $$;
-- +goose StatementEnd
-- Only the roles granted it (deploy/postgres-role.sql) may purge the trace.
REVOKE ALL ON FUNCTION imis_gateway.trace_maintain(integer, integer) FROM PUBLIC;
SELECT imis_gateway.trace_maintain(2, 30);

-- +goose Down
DROP FUNCTION IF EXISTS imis_gateway.trace_maintain(integer, integer);
DROP TABLE IF EXISTS imis_gateway.trace;
