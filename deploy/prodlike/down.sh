#!/usr/bin/env bash
# task prod-down: stop the APIs, then the workers, then the Temporal server
# (SIGTERM, and wait). DROP=1 also drops the databases (scaling.sh's for
# `nemid dev` too), the keys and the letter keys: whatever was sealed under
# them is unreadable from then on.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

for name in $(names api) $(names worker); do stop "$name"; done
stop server

if [ "${DROP:-0}" = 1 ]; then
	pg_isready -h "$PG_HOST" -p "$PG_PORT" -q || fail "Postgres does not answer at $PG_HOST:$PG_PORT"
	# scaling.sh keeps the databases of other shard counts beside, named _sS.
	others=$(psql_admin -c "SELECT datname FROM pg_database WHERE datname ~ '^($TEMPORAL_DB|$VISIBILITY_DB)_s[0-9]+\$'")
	for db in "$APP_DB" "$TEMPORAL_DB" "$VISIBILITY_DB" "$DEV_DB" $others; do
		if database_exists "$db"; then
			psql_admin -c "DROP DATABASE $db WITH (FORCE)"
			say "dropped database $db"
		fi
	done
	rm -rf "$STATE/keys" "$STATE/letter-keys" "$STATE/data" "$STATE/dev" "$STATE/env"
	say "removed the keys, letter keys and env file under $STATE"
fi
