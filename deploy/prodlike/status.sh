#!/usr/bin/env bash
# task prod-status: what runs, with CPU time, memory and the API's readiness.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

row() { # row NAME DETAIL
	local pid
	if pid=$(running "$1"); then
		# utime + stime in clock ticks (fields 14 and 15 of /proc/PID/stat).
		local cpu rss
		cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$pid/stat")
		rss=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$pid/status")
		printf '%-10s pid %-7s cpu %7s s  rss %5s MB  %s\n' "$1" "$pid" "$cpu" "$rss" "$2"
	elif [ -f "$PIDS/$1.pid" ]; then
		printf '%-10s not running (pid file left: tail %s)\n' "$1" "$LOGS/$1.log"
	fi
}

any=0
for f in "$PIDS"/*.pid; do [ -e "$f" ] && any=1; done
if [ "$any" = 0 ]; then
	say "nothing started (task prod-up)"
else
	row server "Temporal at $TEMPORAL_ADDRESS"
	for name in $(names worker); do row "$name" ""; done
	for name in $(names api); do
		n=${name#api-}
		url=$(api_url "$n")
		ready=$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz" || true)
		row "$name" "$url  /readyz $ready"
	done
fi
if pg_isready -h "$PG_HOST" -p "$PG_PORT" -q; then
	for db in "$APP_DB" "$TEMPORAL_DB" "$VISIBILITY_DB"; do
		if database_exists "$db"; then
			printf '%-26s %s connections\n' "database $db" "$(psql_admin -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db'")"
		fi
	done
fi
[ -f "$ENV_FILE" ] && say "env file: $ENV_FILE"
exit 0
