#!/usr/bin/env bash
# task prod-load: `nemid load` against the running production-like setup, its
# API processes all named in --api (comma-separated). N, C and MIX size the
# run; further arguments go to `nemid load` as they are. Afterwards it prints
# where the machine's CPU went during the run (what limits throughput).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

[ -f "$ENV_FILE" ] || fail "no $ENV_FILE: run task prod-up first"
set -a
. "$ENV_FILE"
set +a
go build -o "$NEMID" ./cmd/nemid

args=(--n "${N:-200}" --concurrency "${C:-20}")
# The load generator that drives every path takes several API URLs and a mix;
# the one before it takes a single URL and only counter applications.
if "$NEMID" load -h 2>&1 | grep -q -- '-mix'; then
	args+=(--api "$NEMID_API_URLS")
	[ -n "${MIX:-}" ] && args+=(--mix "$MIX")
else
	say "this nemid load takes one API URL: driving ${NEMID_API_URLS%%,*} only (counter applications)"
	args+=(--api "${NEMID_API_URLS%%,*}")
fi

measured roles "$NEMID" load "${args[@]}" "$@"
