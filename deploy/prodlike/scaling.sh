#!/usr/bin/env bash
# The scaling measurement behind deploy/prodlike/README.md: the same load on
# `nemid dev` (the Temporal dev server), on the production-like setup with
# one worker and with two, ROUNDS times in turn so that the machine's other
# work falls on every configuration alike. Prints each run's output and a
# summary of medians as ratios. The production-like setup is left up (with
# the last configuration's workers); `task prod-down` ends it.
#
#   N=300 C=20 ROUNDS=2 CONFIGS="dev prod-1 prod-2" bash deploy/prodlike/scaling.sh
#
# `dev` runs `nemid dev` with its application database on Postgres ($DEV_DB)
# so that only the Temporal server differs from the production-like runs;
# `dev-sqlite` runs it as a laptop does (SQLite file); either serves on
# TEMPORAL_PORT+400 and API_PORT+10, and its Temporal UI on 8233 (fixed in
# `nemid dev`), which another `nemid dev` must not hold. `prod-K` is K workers
# on SHARDS history shards; `prod-K-sS` K workers on S shards, in Temporal
# databases of their own (nemid_temporal_sS, …; `task prod-down DROP=1`
# drops them too).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

N="${N:-300}" C="${C:-20}" ROUNDS="${ROUNDS:-2}" CONFIGS="${CONFIGS:-dev prod-1 prod-2}"
OUT="$STATE/scaling-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
DEV_PORT=$((TEMPORAL_PORT + 400)) DEV_HTTP=127.0.0.1:$((API_PORT + 10))

dev_roles() {
	local pid child
	pid=$(running dev) || return 0
	echo "dev-nemid $pid"
	for child in $(pgrep -P "$pid"); do echo "dev-temporal $child"; done
}

run_dev() { # run_dev DATABASE_URL (empty: SQLite) LOG
	stop dev
	local data="$STATE/dev"
	rm -rf "$data" && mkdir -p "$data"
	(
		export NEMID_DATA_DIR="$data" DATABASE_URL="$1" TEMPORAL_ADDRESS="127.0.0.1:$DEV_PORT" \
			NEMID_HTTP_ADDR="$DEV_HTTP" NEMID_DEMO_RP_ADDR="127.0.0.1:$((API_PORT + 11))" \
			TEMPORAL_CLI="$CLI" NEMID_RATE_LIMIT="$RATE_LIMIT"
		start dev "$NEMID" dev
		for t in $(seq 120); do
			curl -fs -o /dev/null "http://$DEV_HTTP/readyz" && break
			running dev >/dev/null || fail "nemid dev stopped: tail $LOGS/dev.log"
			[ "$t" = 120 ] && fail "nemid dev not ready within 60 s: tail $LOGS/dev.log"
			sleep 0.5
		done
		measured dev_roles "$NEMID" load --n "$N" --concurrency "$C" --api "http://$DEV_HTTP"
	) >"$2" 2>&1 || true
	stop dev >/dev/null
}

# stop_prod stops the production-like processes (the databases stay).
stop_prod() {
	local name
	for name in $(names api) $(names worker); do stop "$name" >/dev/null; done
	stop server >/dev/null
}

run_prod() { # run_prod CONFIG LOG
	local workers=${1#prod-} shards=$SHARDS temporal_db=$TEMPORAL_DB visibility_db=$VISIBILITY_DB
	if [[ $workers == *-s* ]]; then
		shards=${workers#*-s} workers=${workers%-s*}
		temporal_db=${TEMPORAL_DB}_s$shards visibility_db=${VISIBILITY_DB}_s$shards
	fi
	# A running server on other databases is stopped first.
	[ "${serving:-}" = "$temporal_db" ] || stop_prod
	serving=$temporal_db
	WORKERS=$workers SHARDS=$shards TEMPORAL_DB=$temporal_db VISIBILITY_DB=$visibility_db \
		bash "$DEPLOY/up.sh" >"$2.up" 2>&1 || fail "prod-up failed: $2.up"
	N=$N C=$C TEMPORAL_DB=$temporal_db VISIBILITY_DB=$visibility_db bash "$DEPLOY/load.sh" >"$2" 2>&1 || true
}

# Only one Temporal stack at a time: the other's idle work would count.
go build -o "$NEMID" ./cmd/nemid
for round in $(seq "$ROUNDS"); do
	for config in $CONFIGS; do
		log="$OUT/$config-$round.txt"
		say "round $round: $config (N=$N C=$C) … $log"
		case $config in
		dev | dev-sqlite)
			stop_prod
			serving=""
			if [ "$config" = dev ]; then
				database_exists "$DEV_DB" || psql_admin -c "CREATE DATABASE $DEV_DB"
				run_dev "postgres://$PG_USER@$PG_HOST:$PG_PORT/$DEV_DB?sslmode=disable" "$log"
			else
				run_dev "" "$log"
			fi
			;;
		prod-*) run_prod "$config" "$log" ;;
		*) fail "unknown configuration $config" ;;
		esac
		echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$log"
		grep -E '^(POST|accepted|  |load average)' "$log" | sed 's/^/    /'
	done
done

# Summary: the median over rounds of each configuration's rates, and their
# ratio to the first configuration's (today's `nemid load` output lines).
say ""
say "medians over $ROUNDS round(s), N=$N C=$C; ratio to ${CONFIGS%% *}:"
for config in $CONFIGS; do
	for round in $(seq "$ROUNDS"); do
		awk -v c="$config" '
			/^POST \/v1\/issuances \(accept/ { for (i = 1; i <= NF; i++) if ($i == "req/s") a = $(i - 1) }
			/^accepted → awaiting_handover/ { for (i = 1; i <= NF; i++) if ($i == "issuances/s") h = $(i - 1) }
			/^POST \/v1\/issuances\/\{id\}\/cancel/ { for (i = 1; i <= NF; i++) if ($i == "req/s") x = $(i - 1) }
			END { if (a + h + x > 0) print c, a + 0, h + 0, x + 0 }' "$OUT/$config-$round.txt" # a run that failed has no rates
	done
done | awk '
	{ k[$1]++; acc[$1, k[$1]] = $2; ho[$1, k[$1]] = $3; ca[$1, k[$1]] = $4; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
	function median(arr, c,   i, j, v, m, t) {
		m = k[c]; for (i = 1; i <= m; i++) v[i] = arr[c, i]
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
	}
	END {
		printf "%-12s %22s %26s %22s\n", "config", "accept req/s (ratio)", "to handover /s (ratio)", "cancel req/s (ratio)"
		for (i = 1; i <= n; i++) {
			c = order[i]; a = median(acc, c); h = median(ho, c); x = median(ca, c)
			if (i == 1) { a0 = a; h0 = h; x0 = x }
			printf "%-12s %12.1f (%5.2f×) %16.1f (%5.2f×) %12.1f (%5.2f×)\n", c, a, a0 ? a / a0 : 0, h, h0 ? h / h0 : 0, x, x0 ? x / x0 : 0
		}
	}' | tee "$OUT/summary.txt"

# CPU per issuance (accept, run to the handover, cancel; the /healthz
# baseline's share is negligible): each role's CPU over the run divided by
# the issuances that reached the handover. On a busy machine this says more
# than throughput does: it is what each issuance costs wherever it runs.
say ""
say "CPU per issuance (ms, median over rounds; pg = the Postgres backends of these databases):"
for config in $CONFIGS; do
	for round in $(seq "$ROUNDS"); do
		awk -v c="$config" '
			/issuances\/s \(/ { for (i = 1; i <= NF; i++) if ($i ~ /^\([0-9]+$/) n = substr($i, 2) }
			/^CPU during the run/ { w = substr($5, 2) }
			/^  (server|dev-)/ { for (i = 1; i < NF; i += 2) cost[$i] = $(i + 1) }
			/backends of this setup/ { cost["pg"] = $6 + 0 }
			END { if (n > 0) for (r in cost) print c, r, cost[r] * w * 1000 / n }' "$OUT/$config-$round.txt"
	done
done | awk '
	{ key = $1 SUBSEP $2; v[key, ++k[key]] = $3; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
	function median(key,   i, j, m, a, t) {
		m = k[key]; for (i = 1; i <= m; i++) a[i] = v[key, i]
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
	}
	END {
		for (i = 1; i <= n; i++) {
			c = order[i]; line = ""; total = 0
			m = split("server dev-temporal pg worker api dev-nemid", rs, " ")
			for (j = 1; j <= m; j++) if (k[c SUBSEP rs[j]]) {
				x = median(c SUBSEP rs[j]); total += x; line = line sprintf("  %s %.0f", rs[j], x)
			}
			printf "%-12s system %4.0f:%s   (load client %.0f)\n", c, total, line, median(c SUBSEP "load-client")
		}
	}' | tee -a "$OUT/summary.txt"
