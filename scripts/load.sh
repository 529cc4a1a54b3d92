#!/usr/bin/env bash
# Load run (make load, load-openimis, load-scale): a gateway on 127.0.0.1:$LOAD_PORT (Redis
# database 1, so demo sessions in database 0 are not disturbed), driven by bin/imis-loadgen, which
# first measures the ceiling (imis-loadgen ceiling, a constant-screen server on $CEILING_PORT) in
# the same run (LOAD_CEILING=off skips it). Expects 'make services build' to have run. LOAD_ARGS are
# passed to imis-loadgen (word-split); GATEWAY_URL, DATABASE_URL and REDIS_URL are in its
# environment too.
#
# LOAD_DATABASE chooses the database:
#   demo      (default) a fresh imis_load: the development schema and the demo data
#   openimis  a fresh imis_load_openimis restored from openIMIS's own dump (scripts/openimis-db.sh),
#             without planner statistics
#   scale     imis_scale: the same grown by LOAD_SCALE_FAMILIES families (default 2,500,000, ten
#             million insurees); built once, in minutes, and kept (LOAD_REBUILD=1 builds it again)
#
# LOAD_TRANSPORT=unix (default) connects the gateway to PostgreSQL and Redis over their Unix
# sockets, as a gateway on the same machine should be; LOAD_TRANSPORT=tcp over loopback TCP.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
SERVICES=scripts/services.sh
LOAD_PORT=${LOAD_PORT:-18080}
CEILING_PORT=${CEILING_PORT:-18081}
LOAD_CEILING=${LOAD_CEILING:-on}
LOAD_DATABASE=${LOAD_DATABASE:-demo}
LOAD_SCALE_FAMILIES=${LOAD_SCALE_FAMILIES:-2500000}
LOAD_TRANSPORT=${LOAD_TRANSPORT:-unix}
STATE_DIR=${IMIS_STATE_DIR:-$REPO_ROOT/.local}
SERVER_LOG=$STATE_DIR/load-server.log

say() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'load.sh: error: %s\n' "$*" >&2
	exit 1
}

[ -x bin/imis-gateway ] || die "bin/imis-gateway is missing; run: make build"
[ -x bin/imis-loadgen ] || die "bin/imis-loadgen is missing (is there a cmd/imis-loadgen yet?); run: make build"

# http_status PATH prints the HTTP status code the server answers on PATH (bash only, no curl).
http_status() {
	local line
	exec 3<>"/dev/tcp/127.0.0.1/$LOAD_PORT" || return 1
	printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1" >&3
	IFS= read -r -t 5 line <&3 || line=
	exec 3<&- 3>&-
	line=${line#HTTP/* }
	printf '%s\n' "${line%% *}"
}

if (exec 3<>"/dev/tcp/127.0.0.1/$LOAD_PORT") 2>/dev/null; then
	die "port $LOAD_PORT is already in use; choose another: make load LOAD_PORT=<port>"
fi

case $LOAD_DATABASE in
demo) LOAD_DB=imis_load ;;
openimis) LOAD_DB=imis_load_openimis ;;
scale) LOAD_DB=imis_scale ;;
*) die "LOAD_DATABASE must be demo, openimis or scale (got $LOAD_DATABASE)" ;;
esac
services_env=$(IMIS_DB_NAME=$LOAD_DB IMIS_REDIS_DB=1 "$SERVICES" env)
eval "$services_env"
case $LOAD_TRANSPORT in
tcp) gateway_db=$DATABASE_URL gateway_redis=$REDIS_URL ;;
unix)
	redis_sock=${REDIS_SOCKET_URL#unix://}
	redis_sock=${redis_sock%%\?*}
	[ -S "$redis_sock" ] ||
		die "Redis has no Unix socket at $redis_sock: restart it with 'scripts/services.sh down && scripts/services.sh up', or use LOAD_TRANSPORT=tcp"
	[ -w "$redis_sock" ] ||
		die "no permission to use Redis's socket $redis_sock (it belongs to the user who ran 'scripts/services.sh up'): use LOAD_TRANSPORT=tcp"
	gateway_db=$DATABASE_SOCKET_URL gateway_redis=$REDIS_SOCKET_URL
	;;
*) die "LOAD_TRANSPORT must be unix or tcp (got $LOAD_TRANSPORT)" ;;
esac
export GATEWAY_URL=http://127.0.0.1:$LOAD_PORT

# A fresh database per run keeps runs comparable; the national-scale one takes minutes to build,
# so it is kept, and stays without statistics (autovacuum is off on its tables).
case $LOAD_DATABASE in
demo)
	"$SERVICES" dropdb "$LOAD_DB"
	"$SERVICES" createdb "$LOAD_DB"
	say "bin/imis-gateway migrate --dev-schema"
	bin/imis-gateway migrate --dev-schema
	say "bin/imis-gateway seed-demo --reset"
	bin/imis-gateway seed-demo --reset
	;;
openimis) scripts/openimis-db.sh "$LOAD_DB" ;;
scale)
	if [ "${LOAD_REBUILD:-0}" = 1 ] ||
		[ "$("$SERVICES" psql -d "$LOAD_DB" -XAtc 'SELECT count(*) > 0 FROM "tblFamilies"' 2>/dev/null)" != t ]; then
		say "building $LOAD_DB with $LOAD_SCALE_FAMILIES synthetic families (kept for later runs)"
		scripts/openimis-db.sh "$LOAD_DB" "$LOAD_SCALE_FAMILIES"
	else
		say "using the existing $LOAD_DB (LOAD_REBUILD=1 builds it again)"
	fi
	;;
esac
say "flushing Redis database 1"
redis-cli -u "$REDIS_URL" flushdb >/dev/null

mkdir -p "$STATE_DIR"
say "starting bin/imis-gateway serve --dev on 127.0.0.1:$LOAD_PORT, PostgreSQL and Redis over $LOAD_TRANSPORT (log: $SERVER_LOG)"
DATABASE_URL=$gateway_db REDIS_URL=$gateway_redis LOG_LEVEL=${LOG_LEVEL:-warn} LISTEN_ADDR=127.0.0.1:$LOAD_PORT \
	bin/imis-gateway serve --dev >"$SERVER_LOG" 2>&1 &
server_pid=$!
# shellcheck disable=SC2317 # called by the EXIT trap
stop_server() {
	if kill -0 "$server_pid" 2>/dev/null; then
		say "stopping the gateway (pid $server_pid)"
		kill -TERM "$server_pid" 2>/dev/null || true
		local i
		for ((i = 0; i < 50; i++)); do
			kill -0 "$server_pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$server_pid" 2>/dev/null || true
	fi
	wait "$server_pid" 2>/dev/null || true
}
trap stop_server EXIT
trap 'exit 130' INT TERM

ready=0
for ((i = 0; i < 150; i++)); do
	kill -0 "$server_pid" 2>/dev/null || break
	if [ "$(http_status /readyz 2>/dev/null || true)" = 200 ]; then
		ready=1
		break
	fi
	sleep 0.2
done
if [ "$ready" -ne 1 ]; then
	tail -n 30 "$SERVER_LOG" >&2 || true
	die "the gateway did not become ready on 127.0.0.1:$LOAD_PORT (GET /readyz)"
fi

ceiling=()
if [ "$LOAD_CEILING" != off ]; then
	bin/imis-loadgen ceiling -listen "127.0.0.1:$CEILING_PORT" >"$STATE_DIR/load-ceiling.log" 2>&1 &
	ceiling_pid=$!
	# shellcheck disable=SC2317 # called by the EXIT trap
	stop_all() {
		kill -TERM "$ceiling_pid" 2>/dev/null || true
		stop_server
	}
	trap stop_all EXIT
	ceiling=(-ceiling "http://127.0.0.1:$CEILING_PORT")
fi

# The servers' side of the run: PostgreSQL's statements (pg_stat_statements, which services.sh
# preloads when the distribution ships it) and Redis's commands, counted from here on.
psql_load() { "$SERVICES" psql -X -q -d "$LOAD_DB" "$@" 2>/dev/null; }
pg_statements=0
if psql_load -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' -c 'SELECT pg_stat_statements_reset()' >/dev/null; then
	pg_statements=1
fi
redis-cli -u "$REDIS_URL" config resetstat >/dev/null

# The CPU each process spends per hop (imis-loadgen -cpu): the gateway, PostgreSQL's postmaster
# with its backends (the parent of its checkpointer), Redis; and, as a part of PostgreSQL's, the
# backends that write the conversation trace (the gateway's "imis-gateway trace" connections).
watched=gateway=$server_pid
pg_checkpointer=$(psql_load -XAtc "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'" || true)
if [ -n "$pg_checkpointer" ] && [ -r "/proc/$pg_checkpointer/stat" ]; then
	watched+=,postgres=$(sed -E 's/^.*\) [A-Za-z] ([0-9]+) .*/\1/' "/proc/$pg_checkpointer/stat")
fi
trace_backends=$(psql_load -XAtc "SELECT string_agg(pid::text, '+') FROM pg_stat_activity
	WHERE application_name = 'imis-gateway trace'" || true)
[ -n "$trace_backends" ] && watched+=,postgres/trace=$trace_backends
redis_pid=$(redis-cli -u "$REDIS_URL" info server | tr -d '\r' | sed -n 's/^process_id://p')
[ -n "$redis_pid" ] && watched+=,redis=$redis_pid

# shellcheck disable=SC2086 # LOAD_ARGS is a list of flags on purpose
set -- ${LOAD_ARGS:--url $GATEWAY_URL} "${ceiling[@]}" -cpu "$watched"
say "bin/imis-loadgen $*"
rc=0
bin/imis-loadgen "$@" || rc=$?

if [ "$pg_statements" = 1 ]; then
	echo "PostgreSQL, the statements that took the most time during the run:"
	psql_load -P pager=off -c "SELECT calls, round(total_exec_time::numeric, 0) AS total_ms,
	       round((total_exec_time / calls * 1000)::numeric, 0) AS mean_us,
	       round((total_plan_time / calls * 1000)::numeric, 0) AS plan_us, rows / calls AS rows,
	       left(regexp_replace(query, '\s+', ' ', 'g'), 70) AS query
	  FROM pg_stat_statements
	  WHERE calls > 0 AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
	  ORDER BY total_exec_time DESC LIMIT 6" || true
fi
echo "Redis, the commands of the run (calls, µs per call):"
redis-cli -u "$REDIS_URL" info commandstats | tr -d '\r' |
	awk -F'[:,=]' '/^cmdstat_/ {sub("cmdstat_", "", $1); printf "  %-10s %10s calls %8s us/call\n", $1, $3, $7}'
say "imis-loadgen exit $rc (gateway log: $SERVER_LOG)"
exit "$rc"
