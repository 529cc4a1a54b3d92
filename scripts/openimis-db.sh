#!/usr/bin/env bash
# Builds a database in openIMIS's own shape for load runs: the official PostgreSQL scripts of
# openIMIS (schema dump of release 1.4.2, its functions and views, and its demo data), restored as a
# scheme restores them, then the gateway's migrations and demo families (with phones and officers),
# and optionally grown to a national scheme with seed-demo --grow.
#
# The database is left WITHOUT planner statistics, as a freshly restored database is: its tables are
# below autovacuum's thresholds or simply not analyzed yet. Autovacuum is switched off on its tables
# so that a load run measures that state from start to end (run ANALYZE by hand to compare).
#
# Usage: scripts/openimis-db.sh NAME [FAMILIES]
#   NAME      database to (re)create on the project PostgreSQL
#   FAMILIES  synthetic families to add (about four insurees each); 2500000 makes ten million insurees
#
# The openIMIS scripts come from github.com/openimis/database_postgresql at a pinned commit and are
# kept in $STATE_DIR/openimis-dump. Without internet access, put the files there (or point
# OPENIMIS_DUMP_DIR at a directory holding them): 00_dump.sql 02_aux_functions.sql 03_views.sql
# 04_functions.sql 05_stored_procs.sql demo_db.sql.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
SERVICES=scripts/services.sh
STATE_DIR=${IMIS_STATE_DIR:-$REPO_ROOT/.local}
DUMP_COMMIT=cf4dbeb96b3cd641b8ff7c963e0675eb00fe9ad8
DUMP_DIR=${OPENIMIS_DUMP_DIR:-$STATE_DIR/openimis-dump/$DUMP_COMMIT}
DUMP_URL=https://raw.githubusercontent.com/openimis/database_postgresql/$DUMP_COMMIT/database%20scripts
DUMP_FILES=(00_dump.sql 02_aux_functions.sql 03_views.sql 04_functions.sql 05_stored_procs.sql demo_db.sql)

say() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'openimis-db.sh: error: %s\n' "$*" >&2
	exit 1
}

case ${1:-} in
'' | -h | --help)
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
	[ -n "${1:-}" ] && exit 0
	exit 2
	;;
esac
db=$1
families=${2:-0}
[[ $db =~ ^[a-z_][a-z0-9_]*$ ]] || die "database name must be lower-case letters, digits and _ (got $db)"
[[ $families =~ ^[0-9]+$ ]] || die "FAMILIES must be a number (got $families)"
[ -x bin/imis-gateway ] || die "bin/imis-gateway is missing; run: make build"

mkdir -p "$DUMP_DIR"
for f in "${DUMP_FILES[@]}"; do
	[ -s "$DUMP_DIR/$f" ] && continue
	command -v curl >/dev/null || die "curl is missing, and $DUMP_DIR/$f is not there"
	say "downloading openIMIS's $f (commit ${DUMP_COMMIT:0:7})"
	curl -fsSL --retry 3 -o "$DUMP_DIR/$f.part" "$DUMP_URL/$f" ||
		die "could not download $DUMP_URL/$f; without internet access, copy the files listed in --help into $DUMP_DIR"
	mv "$DUMP_DIR/$f.part" "$DUMP_DIR/$f"
done

"$SERVICES" dropdb "$db"
"$SERVICES" createdb "$db"
psql_db() { "$SERVICES" psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }

say "restoring openIMIS's schema, functions and views into $db"
for f in 00_dump.sql 02_aux_functions.sql 03_views.sql 04_functions.sql 05_stored_procs.sql; do
	psql_db -f "$DUMP_DIR/$f" >/dev/null
done
# Before any row is written, so that no table gets statistics behind the run's back.
psql_db -c "DO \$\$ DECLARE t text; BEGIN
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE format('ALTER TABLE public.%I SET (autovacuum_enabled = false)', t);
  END LOOP; END \$\$"
say "loading openIMIS's demo data"
psql_db -f "$DUMP_DIR/demo_db.sql" >/dev/null

eval "$(IMIS_DB_NAME=$db "$SERVICES" env)"
export DATABASE_URL
say "bin/imis-gateway migrate"
bin/imis-gateway migrate
say "bin/imis-gateway seed-demo"
if [ "$families" -gt 0 ]; then
	bin/imis-gateway seed-demo --quiet --grow "$families"
else
	bin/imis-gateway seed-demo --quiet
fi

# CREATE INDEX counts a table's rows as it builds; a restored database has no such counts either.
say "removing planner statistics (as after a restore)"
psql_db -c "DELETE FROM pg_statistic WHERE starelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)" \
	-c "UPDATE pg_class SET reltuples = -1, relpages = 0 WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
say "database $db ready: openIMIS 1.4.2 shape, no planner statistics"
