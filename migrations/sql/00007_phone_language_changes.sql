-- Every gateway instance keeps the chosen languages in memory and reads
-- what changed since its last look, by updated_at, about once a second.

-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY IF NOT EXISTS imisgw_phone_language_changes
    ON imis_gateway.phone_language (updated_at);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS imis_gateway.imisgw_phone_language_changes;
