# Shared by up.sh, down.sh, status.sh and load.sh: the pinned versions, the
# knobs (all overridable from the environment) and the process helpers.
# Sourced, not run.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DEPLOY="$ROOT/deploy/prodlike"

TEMPORAL_SERVER_VERSION=v1.29.1 # go.temporal.io/server: the server and its schema tool
TEMPORAL_CLI_VERSION=v1.5.1     # github.com/temporalio/cli: health check and namespace
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/nemid"
SERVER_DIR="$CACHE/temporal-server-$TEMPORAL_SERVER_VERSION"
CLI="${TEMPORAL_CLI:-$CACHE/temporal-$TEMPORAL_CLI_VERSION/temporal}"

STATE="${STATE:-$ROOT/.nemid/prodlike}"
WORKERS="${WORKERS:-2}"
APIS="${APIS:-2}"
SHARDS="${SHARDS:-4}"                     # fixed when the history database is made
TEMPORAL_PORT="${TEMPORAL_PORT:-17233}"   # frontend gRPC; `nemid dev` keeps 7233
API_PORT="${API_PORT:-8181}"              # first API; the others count up
PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
PG_USER="${PG_USER:-postgres}"
TEMPORAL_DB="${TEMPORAL_DB:-nemid_temporal}"
VISIBILITY_DB="${VISIBILITY_DB:-nemid_temporal_visibility}"
APP_DB="${APP_DB:-nemid_prodlike}"
DEV_DB="${DEV_DB:-nemid_prodlike_dev}" # scaling.sh: `nemid dev`'s application database
TEMPORAL_PG_CONNS="${TEMPORAL_PG_CONNS:-10}" # per Temporal service (four in one process)
RATE_LIMIT="${RATE_LIMIT:-100000}"           # NEMID_RATE_LIMIT: one load client is one address

ENV_FILE="$STATE/env"
PIDS="$STATE/pids"
LOGS="$STATE/logs"
NEMID="$STATE/bin/nemid"
TEMPORAL_ADDRESS="127.0.0.1:$TEMPORAL_PORT"

psql_admin() { psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -v ON_ERROR_STOP=1 -Atq "$@"; }

database_exists() { [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$1'")" = 1 ]; }

say() { printf '%s\n' "$*"; }
fail() {
	printf 'prodlike: %s\n' "$*" >&2
	exit 1
}

# running NAME prints the pid of NAME (server, worker-1, api-2 …) when its pid
# file names a live process that is still the program we started (a pid
# reused by something else after a crash must not count, nor be signalled).
running() {
	local file="$PIDS/$1.pid" pid
	[ -f "$file" ] || return 1
	pid=$(cat "$file")
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$(cat "$PIDS/$1.cmd" 2>/dev/null || echo "$STATE")" || return 1
	printf '%s\n' "$pid"
}

# start NAME PROGRAM ARGS… runs PROGRAM in its own session (so that ending
# `task` leaves it running), its output in logs/NAME.log, its pid in pids/NAME.pid.
start() {
	local name=$1
	shift
	mkdir -p "$PIDS" "$LOGS"
	printf '%s\n' "$1" >"$PIDS/$name.cmd"
	setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
	printf '%s\n' "$!" >"$PIDS/$name.pid"
}

# stop NAME sends SIGTERM and waits up to 30 s (workers finish the activities
# in flight within 10 s, APIs drain for 10 s); SIGKILL after that, saying so.
stop() {
	local name=$1 pid
	if ! pid=$(running "$name"); then
		rm -f "$PIDS/$name.pid" "$PIDS/$name.cmd"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 300); do
		[ -d "/proc/$pid" ] || break
		sleep 0.1
	done
	if [ -d "/proc/$pid" ]; then
		say "$name (pid $pid) did not stop within 30 s of SIGTERM: SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$PIDS/$name.pid" "$PIDS/$name.cmd"
	say "stopped $name (pid $pid)"
}

# names PREFIX lists the started processes of one kind (worker, api), by number.
names() {
	local f
	for f in "$PIDS/$1"-*.pid; do
		[ -e "$f" ] && basename "$f" .pid
	done | sort -t- -k2 -n
}

api_url() { printf 'http://127.0.0.1:%s' $((API_PORT + $1 - 1)); }

api_urls() {
	local i urls=()
	for i in $(seq "$APIS"); do urls+=("$(api_url "$i")"); done
	(
		IFS=,
		printf '%s\n' "${urls[*]}"
	)
}

# CPU accounting from /proc, for telling what limits a load run: clock ticks
# (utime + stime) per process, summed by role, before and after the run.
# cpu_snapshot reads "role pid" lines and adds Postgres (the backends serving
# this setup's databases, and all Postgres processes: other users of the
# server included) and the whole machine (/proc/stat: busy and idle).
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
cpu_snapshot() {
	local role pid
	while read -r role pid; do echo "$role $pid $(ticks "$pid")"; done
	for pid in $(psql_admin -c "SELECT pid FROM pg_stat_activity WHERE datname IN ('$APP_DB', '$TEMPORAL_DB', '$VISIBILITY_DB', '$DEV_DB')"); do
		echo "pg-ours $pid $(ticks "$pid")"
	done
	for pid in $(ps -o pid= -C postgres); do echo "pg-all $pid $(ticks "$pid")"; done
	awk '/^cpu / {print "machine 0", $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; print "idle 0", $5 + $6}' /proc/stat
}

# roles lists "role pid" for the processes this setup started.
roles() {
	local name pid
	for name in server $(names worker) $(names api); do
		pid=$(running "$name") && echo "${name%%-*} $pid"
	done
	return 0
}

# children_ticks: CPU of this shell's finished children (bash's `times`,
# which must run in this shell, not in a subshell of a pipe or $(…)).
children_ticks() {
	local file
	file=$(mktemp)
	times >"$file"
	awk -v hz="$(getconf CLK_TCK)" 'NR == 2 {split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%d\n", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * hz}' "$file"
	rm -f "$file"
}

# cpu_report BEFORE AFTER WALL_SECONDS CLIENT_TICKS prints the cores each role
# kept busy on average (1.00 = one core).
cpu_report() {
	awk -v wall="$3" -v hz="$(getconf CLK_TCK)" -v cores="$(nproc)" -v client="$4" '
		NR == FNR { was[$1 " " $2] = $3; next }
		{ used[$1] += $3 - (($1 " " $2) in was ? was[$1 " " $2] : 0) }
		END {
			c = hz * wall
			printf "CPU during the run (%.1f s wall, %d cores; 1.00 = one core busy):\n", wall, cores
			ours = 0
			n = split("server worker api dev-temporal dev-nemid", order, " ")
			for (i = 1; i <= n; i++) if (order[i] in used) { printf "  %s %.2f", order[i], used[order[i]] / c; ours += used[order[i]] }
			printf "  load-client %.2f\n", client / c
			printf "  postgres: backends of this setup %.2f, all postgres processes %.2f\n", used["pg-ours"] / c, used["pg-all"] / c
			busy = used["machine"] - used["idle"]
			printf "  machine busy %.2f of %d (everything else %.2f), idle %.2f\n", busy / c, cores, (busy - ours - used["pg-all"] - client) / c, used["idle"] / c
		}' <(printf '%s\n' "$1") <(printf '%s\n' "$2")
}

# measured ROLES_FUNCTION COMMAND… runs COMMAND, then reports the CPU of the
# roles' processes (listed before and after), Postgres and the machine.
measured() {
	local list=$1 before after client_before client_after started status=0
	shift
	before=$($list | cpu_snapshot)
	children_ticks >"$STATE/.ticks"
	client_before=$(cat "$STATE/.ticks")
	started=$(date +%s.%N)
	"$@" || status=$?
	children_ticks >"$STATE/.ticks"
	client_after=$(cat "$STATE/.ticks")
	after=$($list | cpu_snapshot)
	rm -f "$STATE/.ticks"
	say ""
	cpu_report "$before" "$after" "$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')" $((client_after - client_before))
	return "$status"
}
