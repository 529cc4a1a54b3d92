#!/usr/bin/env bash
# Project-local PostgreSQL and Redis for development, tests, demo and load runs.
#
# Installs PostgreSQL and Redis from the distribution (apt) when they are missing, then runs
# PRIVATE instances with their own data directories and ports, bound to 127.0.0.1. A system
# PostgreSQL (5432) or Redis (6379) on the same machine is never used, stopped or reconfigured.
#
# Usage: scripts/services.sh [up|down|status|env|...]   (see --help)
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE_DIR=${IMIS_STATE_DIR:-$REPO_ROOT/.local}
PG_PORT=${IMIS_PG_PORT:-55432}
REDIS_PORT=${IMIS_REDIS_PORT:-56379}
DEMO_DB=imis_gateway
PG_START_TIMEOUT=60
REDIS_START_TIMEOUT=15

usage() {
	cat <<EOF
Usage: scripts/services.sh [command]

Project-local PostgreSQL and Redis for imis-gateway (own data directories and ports, 127.0.0.1 only).
Missing packages are installed with apt-get (as root, or with sudo).

Commands:
  up               install if missing, start both services, create database '$DEMO_DB' (default)
  down             stop both services (data is kept)
  status           show whether both are running; exit status 0 only if both answer
  env              print shell exports for the gateway and the tests; use: eval "\$(scripts/services.sh env)"
                   (DATABASE_SOCKET_URL and REDIS_SOCKET_URL reach the same servers over Unix sockets)
  createdb NAME    create database NAME if it does not exist
  dropdb NAME      drop database NAME if it exists
  psql [ARGS...]   open psql on the project PostgreSQL (database '$DEMO_DB' unless ARGS say otherwise)
  toolchain [--race]
                   check that Go is new enough for go.mod; with --race also make sure a C compiler
                   is present (go test -race needs cgo), installing gcc with apt-get if not
  browser          install Chromium (the distribution's package) if missing, for the browser tests
                   (internal/browsertest); when it cannot be, say so: those tests are then skipped
  install          install the PostgreSQL and Redis packages if missing, start nothing
  ops-tools        install what checks deploy/ (promtool from Debian's prometheus package; systemd-analyze)
                   when missing, and print their paths
  destroy          stop both services and delete their data (everything under the state directory)
  -h, --help       this text

Environment:
  IMIS_STATE_DIR   state directory (default: <repo>/.local)        now: $STATE_DIR
  IMIS_PG_PORT     PostgreSQL port (default 55432)                 now: $PG_PORT
  IMIS_REDIS_PORT  Redis port (default 56379)                      now: $REDIS_PORT
  IMIS_DB_NAME     database named in DATABASE_URL by 'env' (default $DEMO_DB)
  IMIS_REDIS_DB    Redis database number in REDIS_URL by 'env' (default 0)
EOF
}

say() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'services.sh: error: %s\n' "$*" >&2
	exit 1
}
is_root() { [ "$(id -u)" -eq 0 ]; }

# ---------------------------------------------------------------------------------------------
# Packages

APT_UPDATED=0
# apt_install PKG... installs distribution packages, quietly; the full output goes to apt.log.
apt_install() {
	local sudo=()
	if ! is_root; then
		command -v sudo >/dev/null 2>&1 ||
			die "missing: $*; run as root: apt-get install -y --no-install-recommends $*"
		sudo=(sudo)
	fi
	command -v apt-get >/dev/null 2>&1 ||
		die "missing: $*; this is not a Debian/Ubuntu system: install them with your package manager and put them on PATH"
	mkdir -p "$STATE_DIR"
	local log=$STATE_DIR/apt.log
	export DEBIAN_FRONTEND=noninteractive
	if [ "$APT_UPDATED" -eq 0 ]; then
		say "apt-get update"
		if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$log" 2>&1; then
			tail -n 20 "$log" >&2
			die "apt-get update failed (full output: $log)"
		fi
		APT_UPDATED=1
	fi
	say "installing $(printf '%s, ' "$@" | sed 's/, $//') (apt-get; output in $log)"
	if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		-o Dpkg::Use-Pty=0 "$@" >>"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "apt-get install $* failed (full output: $log)"
	fi
}

PGBIN=
# find_pg_bin sets PGBIN to the directory holding initdb and pg_ctl: the highest
# /usr/lib/postgresql/<major>/bin (Debian/Ubuntu layout), else wherever initdb is on PATH.
# An existing cluster pins the major version it was created with.
find_pg_bin() {
	PGBIN=
	local want=
	[ -r "$PGDATA/PG_VERSION" ] && want=$(cat "$PGDATA/PG_VERSION")
	if [ -n "$want" ] && [ -x "/usr/lib/postgresql/$want/bin/initdb" ]; then
		PGBIN=/usr/lib/postgresql/$want/bin
		return 0
	fi
	local d
	while IFS= read -r d; do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			PGBIN=$d
			break
		fi
	done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r)
	if [ -z "$PGBIN" ] && command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		PGBIN=$(dirname "$(readlink -f "$(command -v initdb)")")
	fi
	[ -n "$PGBIN" ] || return 1
	if [ -n "$want" ]; then
		local have
		have=$(pg_major)
		[ "$have" = "$want" ] || die "the project cluster in $PGDATA was created by PostgreSQL $want but only $have is installed; 'scripts/services.sh destroy' deletes the (disposable) project data so 'up' can recreate it"
	fi
}

# pg_major prints the major version of the PostgreSQL in PGBIN ("pg_ctl (PostgreSQL) 15.20 (Debian ...)").
pg_major() { "$PGBIN/pg_ctl" --version | awk '{print $3}' | cut -d. -f1; }

# pg_tool NAME prints the path of a PostgreSQL client program, preferring the server's own version.
pg_tool() {
	if [ -n "$PGBIN" ] && [ -x "$PGBIN/$1" ]; then
		printf '%s\n' "$PGBIN/$1"
	else
		command -v "$1" || die "$1 not found"
	fi
}

# ensure_packages installs what is missing, in one apt-get run.
ensure_packages() {
	local pkgs=()
	if ! find_pg_bin || ! { [ -x "$PGBIN/psql" ] || command -v psql >/dev/null 2>&1; } ||
		! { [ -x "$PGBIN/pg_isready" ] || command -v pg_isready >/dev/null 2>&1; }; then
		pkgs+=(postgresql)
	fi
	if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
		pkgs+=(redis-server)
	fi
	[ "${#pkgs[@]}" -eq 0 ] && return 0
	# Note: the Debian postgresql and redis-server packages create and may start their own system
	# services (a cluster on 5432, Redis on 6379). Those are left alone; we only use the binaries.
	apt_install "${pkgs[@]}"
	hash -r
	find_pg_bin || die "PostgreSQL was installed but initdb/pg_ctl are still not found (looked in /usr/lib/postgresql/*/bin and PATH)"
	command -v redis-server >/dev/null 2>&1 || die "redis-server was installed but is not on PATH"
}

# ---------------------------------------------------------------------------------------------
# Go toolchain

# check_go fails with instructions when go is missing or older than the go.mod 'go' line.
# It never downloads Go itself.
check_go() {
	local need have arch
	need=$(sed -n -E 's/^go[[:space:]]+([0-9][0-9.]*).*/\1/p' "$REPO_ROOT/go.mod" | head -n 1)
	[ -n "$need" ] || die "no 'go' line in $REPO_ROOT/go.mod"
	arch=$(uname -m)
	case $arch in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; armv*) arch=armv6l ;; esac
	local how="Install Go ${need%.*} (the Debian/Ubuntu golang-go package is usually too old):
    download the latest go${need%.*}.x for linux-$arch from https://go.dev/dl/, then
    sudo rm -rf /usr/local/go && sudo tar -C /usr/local -xzf go${need%.*}.<x>.linux-$arch.tar.gz
    export PATH=/usr/local/go/bin:\$PATH      (the Makefile also looks in /usr/local/go/bin)"
	if ! command -v go >/dev/null 2>&1; then
		if [ -x /usr/local/go/bin/go ]; then
			die "go is installed in /usr/local/go but not on PATH: export PATH=/usr/local/go/bin:\$PATH"
		fi
		die "go is not installed; go.mod needs go $need or newer.
$how"
	fi
	# Asked outside the module and with GOTOOLCHAIN=local: inside it, a go >= 1.21 would already
	# start downloading the toolchain go.mod names.
	have=$(cd / && { GOTOOLCHAIN=local go env GOVERSION 2>/dev/null || true; })
	[ -n "$have" ] || have=$(cd / && go version | awk '{print $3}')
	have=${have#go}
	have=${have%% *}
	case $have in devel*) return 0 ;; esac
	if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n 1)" != "$need" ]; then
		# Go >= 1.21 switches to the toolchain go.mod names by itself unless GOTOOLCHAIN=local.
		local tc
		tc=$(cd / && go env GOTOOLCHAIN 2>/dev/null || echo local)
		if [ "$(printf '1.21\n%s\n' "$have" | sort -V | head -n 1)" = "1.21" ] && [ "${tc%%+*}" != "local" ]; then
			say "go $have is older than go.mod's go $need; the go command will fetch go $need itself (GOTOOLCHAIN=$tc)"
			return 0
		fi
		die "go $have is too old; go.mod needs go $need or newer.
$how"
	fi
}

# ensure_cc makes sure cgo works: go test -race needs a C compiler.
ensure_cc() {
	local cc=${CC:-}
	cc=${cc%% *}
	if [ -n "$cc" ]; then
		command -v "$cc" >/dev/null 2>&1 || die "CC=$CC is not found (go test -race needs a C compiler)"
		return 0
	fi
	if command -v gcc >/dev/null 2>&1 || command -v clang >/dev/null 2>&1; then
		# libc6-dev is only a Recommends of gcc; cgo needs its headers.
		[ ! -e /usr/include/stdlib.h ] && command -v apt-get >/dev/null 2>&1 && apt_install libc6-dev
		return 0
	fi
	say "no C compiler, which go test -race needs (cgo)"
	apt_install gcc libc6-dev
}

# ---------------------------------------------------------------------------------------------
# Browser

# Where Debian's chromium package puts it, and where internal/browsertest looks.
CHROMIUM=/usr/bin/chromium

# ensure_browser installs Chromium for the browser tests. A machine that cannot install it still
# runs every other test (the browser tests skip, saying why), so failing here only warns.
ensure_browser() {
	[ -x "$CHROMIUM" ] && return 0
	if ! (apt_install chromium) || [ ! -x "$CHROMIUM" ]; then
		say "Chromium could not be installed at $CHROMIUM: the browser tests will be skipped"
	fi
}

# ---------------------------------------------------------------------------------------------
# Layout

abs_state_dir() {
	mkdir -p "$STATE_DIR"
	STATE_DIR=$(cd "$STATE_DIR" && pwd -P)
}

# as_pg CMD... runs CMD as the user that owns the cluster. initdb and postgres refuse to run as
# root, so root delegates to the 'postgres' system user (created by the Debian package).
as_pg() {
	if is_root; then
		if command -v runuser >/dev/null 2>&1; then
			(cd / && runuser -u postgres -- "$@")
		else
			(cd / && su -s /bin/bash postgres -c "$(printf '%q ' "$@")")
		fi
	else
		"$@"
	fi
}

# plan_layout decides where the PostgreSQL files go. Normally <state>/pg. When running as root and
# the postgres user cannot reach the state directory (a clone under /root, say), the cluster lives
# in /var/tmp/imis-gateway-<hash of the state dir path> instead, with pg.log symlinked from <state>.
# With --look it only works out the paths, changing nothing (env).
plan_layout() {
	local look=${1:-}
	abs_state_dir
	PG_ROOT=$STATE_DIR
	if is_root && id postgres >/dev/null 2>&1; then
		# The state directory itself is made searchable (up): what decides is the way to it.
		local probe=$STATE_DIR
		if [ -n "$look" ]; then
			probe=$(dirname "$STATE_DIR")
		else
			chmod o+x "$STATE_DIR" 2>/dev/null || true
		fi
		if ! as_pg test -x "$probe" 2>/dev/null; then
			PG_ROOT=/var/tmp/imis-gateway-$(printf '%s' "$STATE_DIR" | sha256sum | cut -c1-12)
		fi
	elif is_root && [ -z "$look" ]; then
		die "running as root needs the 'postgres' system user (the Debian postgresql package creates it)"
	fi
	PGDATA=$PG_ROOT/pg
	PG_LOG=$PG_ROOT/pg.log
	PG_SOCK=$PG_ROOT/pg-run
	# Unix socket paths are limited to 107 bytes.
	if [ $((${#PG_SOCK} + 20)) -gt 107 ]; then
		PG_SOCK=/tmp/imis-gateway-$(printf '%s' "$STATE_DIR" | sha256sum | cut -c1-12)
	fi
	REDIS_DIR=$STATE_DIR/redis
	REDIS_SOCK=$REDIS_DIR/redis.sock
	if [ ${#REDIS_SOCK} -gt 107 ]; then
		REDIS_SOCK=/tmp/imis-gateway-$(printf '%s' "$STATE_DIR" | sha256sum | cut -c1-12)-redis.sock
	fi
	REDIS_LOG=$STATE_DIR/redis.log
	REDIS_PID=$STATE_DIR/redis.pid
}

# lock_state serialises up/down/destroy/createdb/dropdb: two 'make test' runs may start at once.
lock_state() {
	command -v flock >/dev/null 2>&1 || return 0
	# The servers started while it is held must not inherit fd 9 (they would keep the lock): see the
	# 9>&- where they are started.
	exec 9>"$STATE_DIR/.services.lock"
	flock -w 300 9 || die "another scripts/services.sh has held $STATE_DIR/.services.lock for 5 minutes"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

psql_admin() {
	PGCONNECT_TIMEOUT=5 PGOPTIONS="-c client_min_messages=warning" "$(pg_tool psql)" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"
}

pg_answers() {
	"$(pg_tool pg_isready)" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -t 2 >/dev/null 2>&1
}

# pg_state prints running, stopped or uninitialised for the project cluster.
pg_state() {
	if [ ! -e "$PGDATA/PG_VERSION" ]; then
		echo uninitialised
		return
	fi
	local rc=0
	as_pg "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo stopped
		return
	fi
	# pg_ctl only checks that the PID in postmaster.pid is alive; after a crash that PID can belong
	# to an unrelated process. Trust it only if that process is a postmaster in our data directory
	# (a postmaster's working directory is its data directory).
	local pid cwd
	pid=$(head -n 1 "$PGDATA/postmaster.pid" 2>/dev/null || true)
	if [ -n "$pid" ]; then
		# A killed postmaster stays a zombie where PID 1 does not reap (containers without an init).
		if [ "$(sed -E 's/^.*\) ([A-Za-z]).*/\1/' "/proc/$pid/stat" 2>/dev/null)" = Z ]; then
			echo stale
			return
		fi
		cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null || true)
		if [ -n "$cwd" ] && [ "$cwd" != "$(cd "$PGDATA" && pwd -P)" ]; then
			echo stale
			return
		fi
		if [ -z "$cwd" ] && [ -r "/proc/$pid/comm" ] && ! grep -qE '^(postgres|postmaster)' "/proc/$pid/comm"; then
			echo stale
			return
		fi
	fi
	echo running
}

pg_running_port() { sed -n 4p "$PGDATA/postmaster.pid" 2>/dev/null || true; }

pg_fail() {
	printf '%s\n' "--- last lines of $PG_LOG ---" >&2
	tail -n 25 "$PG_LOG" >&2 2>/dev/null || true
	die "$*"
}

pg_init() {
	say "creating the project PostgreSQL $(pg_major) cluster in $PGDATA"
	mkdir -p "$PG_ROOT"
	if [ -d "$PGDATA" ] && [ -n "$(ls -A "$PGDATA" 2>/dev/null)" ]; then
		# A cluster directory without PG_VERSION is a failed initdb of ours; start over.
		rm -rf -- "${PGDATA:?}"
	fi
	mkdir -p "$PGDATA"
	chmod 700 "$PGDATA"
	local locale=C
	if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then locale=C.UTF-8; fi
	if is_root; then chown postgres: "$PGDATA"; fi
	# Trust authentication on 127.0.0.1: this is a throwaway development/test instance.
	local log=$STATE_DIR/initdb.log
	if ! as_pg "$PGBIN/initdb" -D "$PGDATA" --auth=trust --username=postgres -E UTF8 --locale="$locale" --no-sync >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		die "initdb failed (full output: $log)"
	fi
}

pg_start() {
	mkdir -p "$PG_SOCK"
	touch "$PG_LOG"
	if is_root; then chown postgres: "$PG_SOCK" "$PG_LOG"; fi
	if [ "$PG_ROOT" != "$STATE_DIR" ]; then ln -sfn "$PG_LOG" "$STATE_DIR/pg.log"; fi
	if pg_answers; then
		die "port $PG_PORT already answers as PostgreSQL, but not from the project cluster in $PGDATA; stop that server or choose another port: IMIS_PG_PORT=<port> scripts/services.sh up"
	fi
	say "starting PostgreSQL on 127.0.0.1:$PG_PORT (log: $PG_LOG)"
	# fsync, synchronous_commit and full_page_writes are off: this instance holds development and
	# test data only, and a crash may lose it. Never copy these settings to a real deployment.
	local opts="-p $PG_PORT -c listen_addresses=127.0.0.1 -k '$PG_SOCK' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
	# pg_stat_statements, when the distribution ships it (Debian's postgresql package does), for
	# load runs: CREATE EXTENSION pg_stat_statements in a database, then read its view.
	if [ -f "$("$PGBIN/pg_config" --pkglibdir 2>/dev/null)/pg_stat_statements.so" ]; then
		opts="$opts -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=top -c pg_stat_statements.track_planning=on"
	fi
	local attempt
	for attempt in 1 2 3; do
		if as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PG_LOG" -o "$opts" -w -t "$PG_START_TIMEOUT" start >/dev/null 2>&1 9>&-; then
			return 0
		fi
		# After a kill -9 the old backends may hold the shared memory a few moments longer.
		if [ "$attempt" -lt 3 ] && tail -n 5 "$PG_LOG" 2>/dev/null | grep -q 'is still in use'; then
			sleep 2
			continue
		fi
		break
	done
	pg_fail "PostgreSQL did not start on port $PG_PORT"
}

pg_wait() {
	local i
	for ((i = 0; i < PG_START_TIMEOUT; i++)); do
		if pg_answers && psql_admin -d postgres -tAc 'select 1' >/dev/null 2>&1; then
			return 0
		fi
		sleep 1
	done
	pg_fail "PostgreSQL on 127.0.0.1:$PG_PORT did not answer within ${PG_START_TIMEOUT}s"
}

pg_up() {
	local state
	state=$(pg_state)
	case $state in
	uninitialised)
		pg_init
		pg_start
		;;
	stopped)
		# Includes a stale postmaster.pid left by a crash: pg_ctl sees the PID is gone and the
		# server removes the old lock file when it starts.
		pg_start
		;;
	stale)
		say "removing stale $PGDATA/postmaster.pid (its server is gone)"
		# The socket lock files name the same dead PID; the socket directory is ours alone.
		rm -f "$PGDATA/postmaster.pid" "$PG_SOCK"/.s.PGSQL.*
		pg_start
		;;
	running)
		local port
		port=$(pg_running_port)
		if [ "$port" != "$PG_PORT" ]; then
			die "the project PostgreSQL is running on port $port, not $PG_PORT; run 'scripts/services.sh down' first (with the old IMIS_PG_PORT)"
		fi
		;;
	esac
	pg_wait
	ensure_db "$DEMO_DB"
}

valid_db_name() {
	[[ $1 =~ ^[a-z_][a-z0-9_]*$ ]] || die "database name '$1' must match [a-z_][a-z0-9_]*"
}

ensure_db() {
	valid_db_name "$1"
	if [ -z "$(psql_admin -d postgres -tAc "select 1 from pg_database where datname = '$1'")" ]; then
		say "creating database $1"
		psql_admin -d postgres -c "create database $1"
	fi
}

drop_db() {
	valid_db_name "$1"
	say "dropping database $1 (if it exists)"
	psql_admin -d postgres -c "drop database if exists $1 with (force)"
}

pg_down() {
	if [ "$(pg_state)" = running ]; then
		say "stopping PostgreSQL (port $(pg_running_port))"
		as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
	fi
}

# ---------------------------------------------------------------------------------------------
# Redis

redis_cli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

redis_answers() { [ "$(redis_cli ping 2>/dev/null)" = PONG ]; }

# redis_is_ours: the Redis on our port serves our directory (so it is not someone else's server).
redis_is_ours() {
	local dir
	dir=$(redis_cli config get dir 2>/dev/null | sed -n 2p)
	[ "$dir" = "$REDIS_DIR" ]
}

redis_fail() {
	printf '%s\n' "--- last lines of $REDIS_LOG ---" >&2
	tail -n 15 "$REDIS_LOG" >&2 2>/dev/null || true
	die "$*"
}

redis_up() {
	if redis_answers; then
		redis_is_ours || die "port $REDIS_PORT already answers as Redis, but not the project instance (dir $REDIS_DIR); stop it or choose another port: IMIS_REDIS_PORT=<port> scripts/services.sh up"
		[ -S "$REDIS_SOCK" ] || say "note: the running Redis has no Unix socket ($REDIS_SOCK); 'scripts/services.sh down && scripts/services.sh up' adds it"
		return 0
	fi
	mkdir -p "$REDIS_DIR"
	say "starting Redis on 127.0.0.1:$REDIS_PORT (log: $REDIS_LOG)"
	# No persistence: sessions are throwaway in development and tests. The Unix socket is for
	# gateways on this machine (REDIS_SOCKET_URL): cheaper per command than loopback TCP.
	redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
		--unixsocket "$REDIS_SOCK" --unixsocketperm 700 \
		--dir "$REDIS_DIR" --logfile "$REDIS_LOG" --pidfile "$REDIS_PID" >/dev/null 9>&- ||
		redis_fail "redis-server did not start"
	local i
	for ((i = 0; i < REDIS_START_TIMEOUT * 4; i++)); do
		redis_answers && return 0
		sleep 0.25
	done
	redis_fail "Redis on 127.0.0.1:$REDIS_PORT did not answer within ${REDIS_START_TIMEOUT}s"
}

redis_down() {
	if redis_answers && redis_is_ours; then
		say "stopping Redis (port $REDIS_PORT)"
		redis_cli shutdown nosave >/dev/null 2>&1 || true
		local i
		for ((i = 0; i < 40; i++)); do
			redis_answers || return 0
			sleep 0.25
		done
		die "Redis on port $REDIS_PORT did not stop"
	fi
}

# ---------------------------------------------------------------------------------------------
# Commands

cmd_env() {
	local db=${IMIS_DB_NAME:-$DEMO_DB} rdb=${IMIS_REDIS_DB:-0}
	valid_db_name "$db"
	[[ $rdb =~ ^[0-9]+$ ]] || die "IMIS_REDIS_DB must be a number"
	plan_layout --look
	cat <<EOF
export DATABASE_URL='postgres://postgres@127.0.0.1:$PG_PORT/$db?sslmode=disable'
export REDIS_URL='redis://127.0.0.1:$REDIS_PORT/$rdb'
export DATABASE_SOCKET_URL='postgres://postgres@/$db?host=$PG_SOCK&port=$PG_PORT&sslmode=disable'
export REDIS_SOCKET_URL='unix://$REDIS_SOCK?db=$rdb'
export IMIS_TEST_PG_URL='postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable'
export IMIS_TEST_REDIS_URL='redis://127.0.0.1:$REDIS_PORT/0'
EOF
}

cmd_status() {
	plan_layout
	local ok=0 pg=stopped redis=stopped
	if find_pg_bin; then
		pg=$(pg_state)
		if [ "$pg" = running ]; then
			if pg_answers; then
				pg="running on 127.0.0.1:$(pg_running_port), pid $(head -n 1 "$PGDATA/postmaster.pid")"
			else
				pg="process running (pid $(head -n 1 "$PGDATA/postmaster.pid")) but 127.0.0.1:$(pg_running_port) does not answer"
				ok=1
			fi
		else
			[ "$pg" = stale ] && pg="stopped (stale postmaster.pid left by a crash; 'up' cleans it up)"
			ok=1
		fi
	else
		pg="not installed"
		ok=1
	fi
	if ! command -v redis-cli >/dev/null 2>&1; then
		redis="not installed"
		ok=1
	elif redis_answers && redis_is_ours; then
		redis="running on 127.0.0.1:$REDIS_PORT, pid $(cat "$REDIS_PID" 2>/dev/null || echo '?')"
	elif redis_answers; then
		redis="port $REDIS_PORT is taken by another Redis (not the project instance)"
		ok=1
	else
		ok=1
	fi
	printf 'postgresql  %s\n            data %s, log %s\n' "$pg" "$PGDATA" "$PG_LOG"
	printf 'redis       %s\n            data %s, log %s, socket %s\n' "$redis" "$REDIS_DIR" "$REDIS_LOG" "$REDIS_SOCK"
	return "$ok"
}

cmd_up() {
	plan_layout
	lock_state
	ensure_packages
	pg_up
	redis_up
	cmd_status
}

cmd_down() {
	plan_layout
	lock_state
	if find_pg_bin; then pg_down; fi
	if command -v redis-cli >/dev/null 2>&1; then redis_down; fi
	if [ "${1:-}" != --for-destroy ]; then say "services stopped (data kept in $STATE_DIR)"; fi
}

cmd_destroy() {
	cmd_down --for-destroy
	plan_layout
	say "deleting project data: $PGDATA $REDIS_DIR"
	rm -rf -- "${PGDATA:?}" "${PG_SOCK:?}" "${REDIS_DIR:?}" "${REDIS_SOCK:?}"
	rm -f -- "$PG_LOG" "$STATE_DIR/pg.log" "$REDIS_LOG" "$REDIS_PID" "$STATE_DIR/initdb.log"
	if [ "$PG_ROOT" != "$STATE_DIR" ]; then rmdir "$PG_ROOT" 2>/dev/null || true; fi
}

need_pg_running() {
	plan_layout
	find_pg_bin || die "PostgreSQL is not installed; run: scripts/services.sh up"
	pg_answers || die "the project PostgreSQL on 127.0.0.1:$PG_PORT is not running; run: scripts/services.sh up"
}

# cmd_ops_tools provides the checkers of deploy/: promtool, unpacked from Debian's prometheus
# package into the state directory (installing the package would also enable and start a
# Prometheus server), and systemd-analyze (package systemd). It prints their paths.
cmd_ops_tools() {
	local tools=$STATE_DIR/tools
	if ! command -v promtool >/dev/null 2>&1 && [ ! -x "$tools/usr/bin/promtool" ]; then
		mkdir -p "$tools"
		say "unpacking promtool from Debian's prometheus package into $tools"
		if ! (cd "$tools" && apt-get download prometheus >>"$STATE_DIR/apt.log" 2>&1); then
			# Stale package lists: apt_install updates them first (apt itself is installed already).
			apt_install apt
			(cd "$tools" && apt-get download prometheus >>"$STATE_DIR/apt.log" 2>&1) ||
				die "apt-get download prometheus failed (output in $STATE_DIR/apt.log)"
		fi
		dpkg-deb -x "$(ls "$tools"/prometheus_*.deb | tail -n 1)" "$tools"
		rm -f "$tools"/prometheus_*.deb
	fi
	command -v systemd-analyze >/dev/null 2>&1 || apt_install systemd
	command -v promtool 2>/dev/null || echo "$tools/usr/bin/promtool"
	command -v systemd-analyze
}

main() {
	local cmd=${1:-up}
	[ "$#" -gt 0 ] && shift
	case $cmd in
	up) cmd_up ;;
	down) cmd_down ;;
	status) cmd_status ;;
	env) cmd_env ;;
	createdb)
		[ "$#" -eq 1 ] || die "usage: scripts/services.sh createdb NAME"
		need_pg_running
		lock_state
		ensure_db "$1"
		;;
	dropdb)
		[ "$#" -eq 1 ] || die "usage: scripts/services.sh dropdb NAME"
		need_pg_running
		lock_state
		drop_db "$1"
		;;
	psql)
		need_pg_running
		PGDATABASE=${PGDATABASE:-$DEMO_DB} exec "$(pg_tool psql)" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"
		;;
	toolchain)
		check_go
		if [ "${1:-}" = --race ]; then ensure_cc; fi
		;;
	browser) ensure_browser ;;
	install)
		plan_layout
		ensure_packages
		;;
	destroy) cmd_destroy ;;
	ops-tools) cmd_ops_tools ;;
	-h | --help | help) usage ;;
	*)
		usage >&2
		exit 2
		;;
	esac
}

main "$@"
