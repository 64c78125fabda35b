#!/usr/bin/env bash
# Starts `nemid dev` with a temporary data directory on free ports, waits
# until it is ready, runs `nemid load` against it, and stops it.
#   N=200 C=20 MIX=counter=1,bank=1,abroad=1 scripts/load.sh [more nemid load flags]
# TEMPORAL_ADDRESS pointing at a server that answers is used as it is (on a
# task queue of this run's own); otherwise the dev server starts on a free
# port, so one already on 7233 is left alone. DATABASE_URL, when set, is
# used by both processes; otherwise a SQLite file in the temporary directory.
# SYSTEM_BIN, when set, is the nemid binary that runs `nemid dev` (the
# system under load, e.g. built from an earlier commit for a before/after
# comparison); `nemid load` is always this tree's.
set -euo pipefail

cd "$(dirname "$0")/.."
N=${N:-200}
C=${C:-20}
MIX=${MIX:-counter=1,bank=1,abroad=1}

work=$(mktemp -d "${TMPDIR:-/tmp}/nemid-load.XXXXXX")
dev_pid=""
cleanup() {
	if [[ -n "$dev_pid" ]] && kill -0 "$dev_pid" 2>/dev/null; then
		kill -INT "$dev_pid"
		for _ in $(seq 1 60); do kill -0 "$dev_pid" 2>/dev/null || break; sleep 0.5; done
		kill -0 "$dev_pid" 2>/dev/null && kill -KILL "$dev_pid"
		wait "$dev_pid" 2>/dev/null || true
	fi
	# On a server that outlives the run, end the register-changes workflow
	# nemid dev started for this run's task queue: nothing polls it any more.
	if [[ -n "${external_queue:-}" ]] && cli=$(temporal_cli); then
		"$cli" workflow terminate --address "$TEMPORAL_ADDRESS" --namespace "${TEMPORAL_NAMESPACE:-default}" \
			--workflow-id "register-changes/$external_queue" --reason "nemid load ended" >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

echo "building nemid into $work" >&2
go build -o "$work/nemid" ./cmd/nemid
go build -o "$work/freeport" ./scripts/freeport

# The Temporal CLI for the dev server: TEMPORAL_CLI, `temporal` on PATH, the
# Taskfile's .nemid/bin, or the tests' cache.
if [[ -z "${TEMPORAL_CLI:-}" ]] && ! command -v temporal >/dev/null; then
	for candidate in "$PWD/.nemid/bin/temporal" "${XDG_CACHE_HOME:-$HOME/.cache}/nemid/temporal-v1.5.1/temporal"; do
		if [[ -x "$candidate" ]]; then export TEMPORAL_CLI="$candidate"; break; fi
	done
fi
temporal_cli() {
	if [[ -n "${TEMPORAL_CLI:-}" ]]; then echo "$TEMPORAL_CLI"; else command -v temporal; fi
}

read -r http_port rp_port < <("$work/freeport" -n 2 | paste -sd' ')
export NEMID_DATA_DIR="$work/data"
export NEMID_HTTP_ADDR="127.0.0.1:$http_port"
export NEMID_DEMO_RP_ADDR="127.0.0.1:$rp_port"
unset NEMID_ISSUER
# Every citizen of the load calls from this one address: lift the per-address
# limit (the per-user and per-CPR limits stay as they are).
export NEMID_RATE_LIMIT=${NEMID_RATE_LIMIT:-1000000}
if [[ -n "${TEMPORAL_ADDRESS:-}" ]] && (exec 3<>"/dev/tcp/${TEMPORAL_ADDRESS%:*}/${TEMPORAL_ADDRESS##*:}") 2>/dev/null; then
	echo "using the Temporal server at $TEMPORAL_ADDRESS" >&2
	export NEMID_TASK_QUEUE=${NEMID_TASK_QUEUE:-nemid-load-$(basename "$work")}
	external_queue=$NEMID_TASK_QUEUE
else
	temporal_port=$("$work/freeport" -n 1 -pair-offset 1000)
	export TEMPORAL_ADDRESS="127.0.0.1:$temporal_port"
	export NEMID_UI_ORIGIN="http://127.0.0.1:$((temporal_port + 1000))"
fi

echo "starting nemid dev (API $NEMID_HTTP_ADDR, Temporal $TEMPORAL_ADDRESS, log $work/dev.log)" >&2
"${SYSTEM_BIN:-$work/nemid}" dev >"$work/dev.log" 2>&1 &
dev_pid=$!
ready=""
for _ in $(seq 1 240); do
	if ! kill -0 "$dev_pid" 2>/dev/null; then
		break
	fi
	if curl -fsS -o /dev/null "http://$NEMID_HTTP_ADDR/readyz" 2>/dev/null; then
		ready=yes
		break
	fi
	sleep 0.5
done
if [[ -z "$ready" ]]; then
	echo "nemid dev did not become ready; its log:" >&2
	tail -n 40 "$work/dev.log" >&2
	exit 1
fi

status=0
"$work/nemid" load --n "$N" --concurrency "$C" --mix "$MIX" "$@" || status=$?
if [[ $status -ne 0 ]]; then
	kept="${TMPDIR:-/tmp}/nemid-load-dev-$(date +%Y%m%dT%H%M%S).log"
	cp "$work/dev.log" "$kept"
	echo "nemid load failed ($status); nemid dev's log is kept in $kept" >&2
fi
exit $status
