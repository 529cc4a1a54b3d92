#!/usr/bin/env bash
# Highly available Redis topologies for tests and the chaos run, on loopback, with the distribution's
# redis-server: a Redis Cluster of three masters with two replicas each, and a Sentinel group (a
# master, two replicas, three Sentinels). Two replicas, as in production: after a failover the new
# master still has one to acknowledge the saves that wait for a replica. Nothing here touches the
# services of scripts/services.sh.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: scripts/redis-ha.sh COMMAND [TOPOLOGY]

Start, inspect and break the highly available Redis topologies the gateway is tested against.
TOPOLOGY is cluster, sentinel, or both (the default for up, down and env).

Commands:
  up [TOPOLOGY]           start the topology (idempotent); waits until it serves
  down [TOPOLOGY]         stop it (its data is thrown away: these are throwaway test servers)
  env [TOPOLOGY]          print shell exports of the URLs the gateway and the tests take:
                            IMIS_TEST_REDIS_CLUSTER_URL, IMIS_TEST_REDIS_SENTINEL_URL
  status                  show which nodes answer, and their roles
  master TOPOLOGY         print the port of the current master (cluster: the one serving slot 0)
  kill-master TOPOLOGY    SIGKILL the current master and print its port
  restart PORT            start the node on PORT again after a kill (it rejoins as a replica)
  freeze-master TOPOLOGY  SIGSTOP the current master (it neither answers nor dies) and print its port
  thaw PORT               SIGCONT the node on PORT: it comes back believing it is still the master
  wait [TOPOLOGY]         wait until the topology is whole again (every replica online)

Settings (environment):
  IMIS_STATE_DIR          where the nodes keep their files (default: .local in the checkout);
                          they go under $IMIS_STATE_DIR/redis-ha/
  IMIS_REDIS_HA_PORT      first port (default 46300; at most 55500: a cluster node also listens on
                          its port + 10000): the cluster uses PORT+1..PORT+9, the Sentinel group
                          PORT+11 (first master), PORT+12..PORT+13 (replicas), PORT+21..PORT+23
                          (Sentinels)
  IMIS_REDIS_HA_TIMEOUT   cluster-node-timeout and Sentinel down-after-milliseconds, in ms
                          (default 1000): how long a master must be silent before it is replaced

Examples:
  scripts/redis-ha.sh up && eval "$(scripts/redis-ha.sh env)"
  scripts/redis-ha.sh kill-master sentinel; sleep 5; scripts/redis-ha.sh restart 46311
EOF
}

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'redis-ha: %s\n' "$*" >&2; exit 1; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE_DIR=${IMIS_STATE_DIR:-$ROOT/.local}
case $STATE_DIR in /*) ;; *) STATE_DIR=$ROOT/$STATE_DIR ;; esac
HA_DIR=$STATE_DIR/redis-ha
BASE=${IMIS_REDIS_HA_PORT:-46300}
NODE_TIMEOUT=${IMIS_REDIS_HA_TIMEOUT:-1000}
MASTER_NAME=imisgw

CLUSTER_PORTS=($(seq $((BASE + 1)) $((BASE + 9))))
SENTINEL_DATA_PORTS=($((BASE + 11)) $((BASE + 12)) $((BASE + 13)))
SENTINEL_PORTS=($((BASE + 21)) $((BASE + 22)) $((BASE + 23)))

cli() { local port=$1; shift; redis-cli -h 127.0.0.1 -p "$port" "$@"; }
answers() { [ "$(cli "$1" ping 2>/dev/null)" = PONG ]; }

need_redis() {
	if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
		say "installing Redis with the project's services script"
		"$ROOT/scripts/services.sh" install >&2
	fi
}

node_dir() { printf '%s/%s' "$HA_DIR" "$1"; }

# start_node PORT CONFIG-LINES...: writes the node's config on first start and starts it.
start_node() {
	local port=$1; shift
	local dir; dir=$(node_dir "$port")
	mkdir -p "$dir"
	if [ ! -f "$dir/redis.conf" ]; then
		{
			printf '%s\n' "bind 127.0.0.1" "port $port" "dir $dir" "daemonize yes" \
				"pidfile $dir/redis.pid" "logfile $dir/redis.log" "save \"\"" "appendonly no" \
				"protected-mode no"
			printf '%s\n' "$@"
		} >"$dir/redis.conf"
	fi
	answers "$port" && return 0
	local mode=()
	grep -q '^sentinel ' "$dir/redis.conf" && mode=(--sentinel)
	redis-server "$dir/redis.conf" "${mode[@]}" >/dev/null
	for _ in $(seq 100); do answers "$port" && return 0; sleep 0.05; done
	die "redis on port $port did not start (log: $dir/redis.log)"
}

stop_node() {
	local port=$1 dir; dir=$(node_dir "$port")
	if answers "$port"; then cli "$port" shutdown nosave >/dev/null 2>&1 || true; fi
	for _ in $(seq 50); do answers "$port" || break; sleep 0.05; done
	if [ -f "$dir/redis.pid" ] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null; then kill -9 "$(cat "$dir/redis.pid")" || true; fi
	rm -rf "$dir"
}

cluster_ok() { cli "${CLUSTER_PORTS[0]}" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; }

cluster_up() {
	say "Redis Cluster: three masters with two replicas each on ports ${CLUSTER_PORTS[*]}"
	for p in "${CLUSTER_PORTS[@]}"; do
		start_node "$p" "cluster-enabled yes" "cluster-config-file $(node_dir "$p")/nodes.conf" \
			"cluster-node-timeout $NODE_TIMEOUT" "cluster-require-full-coverage yes"
	done
	if ! cluster_ok; then
		local hosts=()
		for p in "${CLUSTER_PORTS[@]}"; do hosts+=("127.0.0.1:$p"); done
		redis-cli --cluster create "${hosts[@]}" --cluster-replicas 2 --cluster-yes >/dev/null
	fi
	cluster_ready || die "Redis Cluster did not reach cluster_state:ok with its replicas online"
}

# cluster_ready waits (up to 30 s) until the cluster serves every slot with two replicas per master.
cluster_ready() {
	for _ in $(seq 300); do
		if cluster_ok && [ "$(cluster_replicas_online)" -ge 6 ]; then return 0; fi
		sleep 0.1
	done
	return 1
}

cluster_replicas_online() {
	cli "${CLUSTER_PORTS[0]}" cluster nodes 2>/dev/null | awk '$3 ~ /slave/ && $3 !~ /fail/ && $8 == "connected"' | wc -l
}

sentinel_up() {
	local master=${SENTINEL_DATA_PORTS[0]} replica
	say "Redis Sentinel: master $master, replicas ${SENTINEL_DATA_PORTS[*]:1}, Sentinels ${SENTINEL_PORTS[*]} (master name $MASTER_NAME)"
	start_node "$master"
	for replica in "${SENTINEL_DATA_PORTS[@]:1}"; do start_node "$replica" "replicaof 127.0.0.1 $master"; done
	for p in "${SENTINEL_PORTS[@]}"; do
		start_node "$p" "sentinel monitor $MASTER_NAME 127.0.0.1 $master 2" \
			"sentinel down-after-milliseconds $MASTER_NAME $NODE_TIMEOUT" \
			"sentinel failover-timeout $MASTER_NAME $((NODE_TIMEOUT * 10))" \
			"sentinel parallel-syncs $MASTER_NAME 1"
	done
	sentinel_ready || die "the Sentinel group did not settle (two replicas online, three Sentinels that know each other)"
}

# sentinel_ready waits (up to 30 s) until the Sentinels' master has two replicas online and the
# Sentinels know each other.
sentinel_ready() {
	local master
	for _ in $(seq 300); do
		master=$(cmd_master sentinel 2>/dev/null || true)
		if [ -n "$master" ] && [ "$(cli "$master" info replication 2>/dev/null | grep -c '^slave[0-9]*:.*state=online')" -ge 2 ] &&
			[ "$(cli "${SENTINEL_PORTS[0]}" sentinel master "$MASTER_NAME" 2>/dev/null | grep -A1 '^num-other-sentinels$' | tail -1)" = 2 ]; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

topologies() {
	case ${1:-both} in
	both) echo cluster sentinel ;;
	cluster | sentinel) echo "$1" ;;
	*) die "unknown topology '$1' (want cluster, sentinel or both)" ;;
	esac
}

cmd_up() {
	need_redis
	for t in $(topologies "${1:-}"); do "${t}_up"; done
}

cmd_down() {
	for t in $(topologies "${1:-}"); do
		case $t in
		cluster) for p in "${CLUSTER_PORTS[@]}"; do stop_node "$p"; done ;;
		sentinel) for p in "${SENTINEL_PORTS[@]}" "${SENTINEL_DATA_PORTS[@]}"; do stop_node "$p"; done ;;
		esac
	done
}

cmd_env() {
	for t in $(topologies "${1:-}"); do
		case $t in
		cluster)
			local hosts; hosts=$(printf '127.0.0.1:%s,' "${CLUSTER_PORTS[@]:0:3}")
			printf "export IMIS_TEST_REDIS_CLUSTER_URL='redis+cluster://%s'\n" "${hosts%,}" ;;
		sentinel)
			local hosts; hosts=$(printf '127.0.0.1:%s,' "${SENTINEL_PORTS[@]}")
			printf "export IMIS_TEST_REDIS_SENTINEL_URL='redis+sentinel://%s/%s/0'\n" "${hosts%,}" "$MASTER_NAME" ;;
		esac
	done
}

cmd_master() {
	case ${1:-} in
	cluster)
		local p
		for p in "${CLUSTER_PORTS[@]}"; do
			answers "$p" || continue
			cli "$p" cluster nodes 2>/dev/null | awk '$3 ~ /master/ && $3 !~ /fail/ { for (i = 9; i <= NF; i++) if ($i ~ /^0(-|$)/) { split($2, a, "[:@]"); print a[2]; exit } }'
			return 0
		done
		die "no cluster node answers" ;;
	sentinel)
		local p
		for p in "${SENTINEL_PORTS[@]}"; do
			answers "$p" || continue
			cli "$p" sentinel get-master-addr-by-name "$MASTER_NAME" | sed -n 2p
			return 0
		done
		die "no Sentinel answers" ;;
	*) die "master: want cluster or sentinel" ;;
	esac
}

cmd_kill_master() {
	local port; port=$(cmd_master "${1:-}")
	[ -n "$port" ] || die "no master found"
	kill -9 "$(node_pid "$port")"
	echo "$port"
}

node_pid() { cat "$(node_dir "$1")/redis.pid"; }

cmd_freeze_master() {
	local port; port=$(cmd_master "${1:-}")
	[ -n "$port" ] || die "no master found"
	kill -STOP "$(node_pid "$port")"
	echo "$port"
}

cmd_thaw() {
	[ -n "${1:-}" ] || die "thaw: want a port"
	kill -CONT "$(node_pid "$1")"
}

cmd_restart() {
	local port=${1:-} dir
	[ -n "$port" ] || die "restart: want a port"
	dir=$(node_dir "$port")
	[ -f "$dir/redis.conf" ] || die "no node was started on port $port"
	answers "$port" && return 0
	local mode=()
	grep -q '^sentinel ' "$dir/redis.conf" && mode=(--sentinel)
	redis-server "$dir/redis.conf" "${mode[@]}" >/dev/null
	for _ in $(seq 100); do answers "$port" && return 0; sleep 0.05; done
	die "redis on port $port did not restart (log: $dir/redis.log)"
}

cmd_status() {
	local p role
	for p in "${CLUSTER_PORTS[@]}" "${SENTINEL_DATA_PORTS[@]}" "${SENTINEL_PORTS[@]}"; do
		if answers "$p"; then
			role=$(cli "$p" role 2>/dev/null | head -1)
			printf '%-6s %s\n' "$p" "$role"
		else
			printf '%-6s down\n' "$p"
		fi
	done
}

case ${1:-} in
up) cmd_up "${2:-}" ;;
down) cmd_down "${2:-}" ;;
env) cmd_env "${2:-}" ;;
status) cmd_status ;;
master) cmd_master "${2:-}" ;;
kill-master) cmd_kill_master "${2:-}" ;;
restart) cmd_restart "${2:-}" ;;
freeze-master) cmd_freeze_master "${2:-}" ;;
thaw) cmd_thaw "${2:-}" ;;
wait) for t in $(topologies "${2:-}"); do "${t}_ready" || die "$t: not whole again"; done ;;
-h | --help | help) usage ;;
*) usage >&2; exit 2 ;;
esac
