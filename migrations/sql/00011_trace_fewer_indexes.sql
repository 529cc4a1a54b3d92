-- The trace's write cost is mostly its index entries (issue 14: under 5% of
-- hop throughput). Two of 00009's indexes served no query, and one held
-- three entries per session where one does:
--
--   trace_chfid, trace_receipt: a search by insurance number or receipt
--   also looks for the number inside pre-dialled routes and SMS texts
--   (gateway/trace_read.go), an OR no index can answer, so PostgreSQL
--   scanned the days searched anyway and these indexes were only written.
--
--   trace_phone: a search by phone needs a session's first line only; the
--   session's other hops follow through trace_session. It now holds the
--   lines that are not hops, and the hops with no question answered (a
--   session's first, and those refused, lost or failed), about one line in
--   three of a USSD session. SearchTrace's phone predicate repeats this
--   condition so that PostgreSQL may use it.
--
-- Building an index on the partitions locks each one against writes while it
-- is built; lines that arrive then are dropped by the batching writer, hops
-- are not delayed.

-- +goose Up
DROP INDEX IF EXISTS imis_gateway.trace_chfid;
DROP INDEX IF EXISTS imis_gateway.trace_receipt;
DROP INDEX IF EXISTS imis_gateway.trace_phone;
CREATE INDEX IF NOT EXISTS trace_phone_first ON imis_gateway.trace (phone, at)
    WHERE kind <> 'hop' OR asked IS NULL;

-- +goose Down
DROP INDEX IF EXISTS imis_gateway.trace_phone_first;
CREATE INDEX IF NOT EXISTS trace_phone ON imis_gateway.trace (phone, at);
CREATE INDEX IF NOT EXISTS trace_chfid ON imis_gateway.trace (chfid) WHERE chfid IS NOT NULL;
CREATE INDEX IF NOT EXISTS trace_receipt ON imis_gateway.trace (receipt) WHERE receipt IS NOT NULL;
