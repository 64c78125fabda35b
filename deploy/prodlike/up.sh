#!/usr/bin/env bash
# task prod-up: the production-like setup on this machine. The real Temporal
# server (all services in one process) on the local Postgres, WORKERS
# `nemid worker` and APIS `nemid api` processes, each with its log and pid
# under .nemid/prodlike/. Idempotent: what runs is left running, what is
# missing is made or started, workers and APIs beyond WORKERS / APIS stop.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

pg_isready -h "$PG_HOST" -p "$PG_PORT" -q || fail "Postgres does not answer at $PG_HOST:$PG_PORT"
mkdir -p "$STATE/bin" "$PIDS" "$LOGS"

# 1. Binaries: the pinned server, schema tool and CLI once per machine into
# the user cache (about 5 minutes each on two cores); nemid from this checkout.
if [ ! -x "$SERVER_DIR/server" ] || [ ! -x "$SERVER_DIR/sql" ]; then
	say "building the Temporal server $TEMPORAL_SERVER_VERSION into $SERVER_DIR (once; several minutes)"
	mkdir -p "$SERVER_DIR"
	GOBIN="$SERVER_DIR" go install "go.temporal.io/server/cmd/server@$TEMPORAL_SERVER_VERSION" \
		"go.temporal.io/server/cmd/tools/sql@$TEMPORAL_SERVER_VERSION"
fi
if [ ! -x "$CLI" ]; then
	say "building the Temporal CLI $TEMPORAL_CLI_VERSION into $(dirname "$CLI") (once)"
	mkdir -p "$(dirname "$CLI")"
	GOBIN="$(dirname "$CLI")" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
fi
go build -o "$NEMID" ./cmd/nemid

# 2. Temporal's two databases, made and brought to the schema this server
# version carries (embedded in the tool: postgresql/v12/{temporal,visibility}).
sql_tool() { "$SERVER_DIR/sql" --plugin postgres12 --ep "$PG_HOST" -p "$PG_PORT" -u "$PG_USER" --db "$1" "${@:2}" >>"$LOGS/schema.log" 2>&1; }
for pair in "$TEMPORAL_DB:temporal" "$VISIBILITY_DB:visibility"; do
	db=${pair%%:*} schema=${pair#*:}
	if ! database_exists "$db"; then
		say "creating database $db (Temporal $schema)"
		sql_tool "$db" create-database || fail "create $db: see $LOGS/schema.log"
	fi
	if [ -z "$(psql_admin -d "$db" -c "SELECT to_regclass('schema_version')")" ]; then
		sql_tool "$db" setup-schema -v 0.0 || fail "set up $db: see $LOGS/schema.log"
	fi
	sql_tool "$db" update-schema --schema-name "postgresql/v12/$schema" || fail "update $db: see $LOGS/schema.log"
done
# The shard count is written into the database at the server's first start.
made=$(psql_admin -d "$TEMPORAL_DB" -c "SELECT count(*) FROM shards")
if [ "$made" != 0 ] && [ "$made" != "$SHARDS" ]; then
	fail "$TEMPORAL_DB was made with $made history shards, not SHARDS=$SHARDS: run \`task prod-down DROP=1\` first"
fi

# 3. The server.
if pid=$(running server); then
	say "Temporal server runs (pid $pid)"
else
	export PL_LOG_LEVEL="${TEMPORAL_LOG_LEVEL:-warn}" PL_SHARDS="$SHARDS" PL_PG_CONNS="$TEMPORAL_PG_CONNS" \
		PL_PG_HOST="$PG_HOST" PL_PG_PORT="$PG_PORT" PL_PG_USER="$PG_USER" \
		PL_TEMPORAL_DB="$TEMPORAL_DB" PL_VISIBILITY_DB="$VISIBILITY_DB" \
		PL_DYNAMIC_CONFIG="$DEPLOY/temporal/dynamicconfig.yaml" \
		PL_FRONTEND_PORT=$TEMPORAL_PORT PL_HISTORY_PORT=$((TEMPORAL_PORT + 1)) \
		PL_MATCHING_PORT=$((TEMPORAL_PORT + 2)) PL_WORKER_PORT=$((TEMPORAL_PORT + 6)) \
		PL_FRONTEND_HTTP_PORT=$((TEMPORAL_PORT + 10)) PL_FRONTEND_MEMBERSHIP_PORT=$((TEMPORAL_PORT - 300)) \
		PL_HISTORY_MEMBERSHIP_PORT=$((TEMPORAL_PORT - 299)) PL_MATCHING_MEMBERSHIP_PORT=$((TEMPORAL_PORT - 298)) \
		PL_WORKER_MEMBERSHIP_PORT=$((TEMPORAL_PORT - 294)) PL_METRICS_PORT=$((TEMPORAL_PORT + 767))
	say "starting the Temporal server on $TEMPORAL_ADDRESS ($SHARDS history shards)"
	start server "$SERVER_DIR/server" --root / --config "$DEPLOY/temporal" --env server --allow-no-auth start
fi
for i in $(seq 120); do
	"$CLI" operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1 && break
	running server >/dev/null || fail "the Temporal server stopped: tail $LOGS/server.log"
	[ "$i" = 120 ] && fail "the Temporal server did not answer within 60 s: tail $LOGS/server.log"
	sleep 0.5
done

# 4. The namespace (the server makes none by itself); usable once the
# frontend's namespace cache has it, which a task queue lookup proves.
tctl() { "$CLI" --address "$TEMPORAL_ADDRESS" --namespace default "$@"; }
if ! tctl operator namespace describe >/dev/null 2>&1; then
	tctl operator namespace create --retention 72h >/dev/null
	say "created namespace default"
fi
for i in $(seq 60); do
	tctl task-queue describe --task-queue nemid-probe >/dev/null 2>&1 && break
	[ "$i" = 60 ] && fail "namespace default not usable within 30 s"
	sleep 0.5
done

# 5. The application database, the keys (kept across runs: sealed letters
# and stored hashes need the same ones) and the env file every process reads.
if ! database_exists "$APP_DB"; then
	psql_admin -c "CREATE DATABASE $APP_DB"
	say "created database $APP_DB"
fi
mkdir -p "$STATE/keys" "$STATE/letter-keys" "$STATE/data"
chmod 700 "$STATE/keys" "$STATE/letter-keys"
for k in codec hash; do
	[ -s "$STATE/keys/$k.key" ] || (umask 077 && printf 'prodlike:%s\n' "$(head -c 32 /dev/urandom | base64)" >"$STATE/keys/$k.key")
done
(
	umask 077
	cat >"$ENV_FILE" <<EOF
# The production-like setup (deploy/prodlike/up.sh). For nemid commands and
# \`nemid load\`: set -a; . $ENV_FILE; set +a
DATABASE_URL=postgres://$PG_USER@$PG_HOST:$PG_PORT/$APP_DB?sslmode=disable
TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS
TEMPORAL_NAMESPACE=default
NEMID_CODEC_KEY=$(cat "$STATE/keys/codec.key")
NEMID_HASH_KEY=$(cat "$STATE/keys/hash.key")
NEMID_LETTER_KEY_DIR=$STATE/letter-keys
NEMID_DATA_DIR=$STATE/data
NEMID_RATE_LIMIT=$RATE_LIMIT
NEMID_API_URLS=$(api_urls)
EOF
)
set -a
. "$ENV_FILE"
set +a
"$NEMID" migrate >>"$LOGS/migrate.log" 2>&1 || fail "nemid migrate failed: see $LOGS/migrate.log"

# 6. Workers before APIs (an API may start workflows only a worker that
# knows them should run). A worker is up when it polls: the task queue lists
# a poller with the worker's pid in its identity (pid@host, the SDK's default).
resize() { # resize KIND COUNT stops the processes of KIND numbered above COUNT
	local name
	for name in $(names "$1"); do
		[ "${name#"$1"-}" -gt "$2" ] && stop "$name"
	done
	return 0
}
resize worker "$WORKERS"
resize api "$APIS"
for i in $(seq "$WORKERS"); do
	running "worker-$i" >/dev/null || start "worker-$i" "$NEMID" worker
done
polling() {
	tctl task-queue describe --task-queue "${NEMID_TASK_QUEUE:-nemid-issuance}" -o json 2>/dev/null |
		grep -q "\"identity\": *\"$1@"
}
for i in $(seq "$WORKERS"); do
	pid=$(running "worker-$i") || fail "worker-$i stopped: tail $LOGS/worker-$i.log"
	for t in $(seq 60); do
		polling "$pid" && break
		running "worker-$i" >/dev/null || fail "worker-$i stopped: tail $LOGS/worker-$i.log"
		[ "$t" = 60 ] && fail "worker-$i (pid $pid) not polling within 30 s: tail $LOGS/worker-$i.log"
		sleep 0.5
	done
done

# 7. APIs on consecutive ports, each up when /readyz answers 200.
for i in $(seq "$APIS"); do
	url=$(api_url "$i")
	running "api-$i" >/dev/null || NEMID_HTTP_ADDR=${url#http://} start "api-$i" "$NEMID" api
done
for i in $(seq "$APIS"); do
	url=$(api_url "$i")
	for t in $(seq 60); do
		curl -fs -o /dev/null "$url/readyz" && break
		running "api-$i" >/dev/null || fail "api-$i stopped: tail $LOGS/api-$i.log"
		[ "$t" = 60 ] && fail "api-$i not ready at $url within 30 s: tail $LOGS/api-$i.log"
		sleep 0.5
	done
done

say ""
say "production-like setup up: Temporal $TEMPORAL_SERVER_VERSION at $TEMPORAL_ADDRESS ($SHARDS shards), $WORKERS worker(s), $APIS API(s)"
say "APIs:     $(api_urls | sed 's/,/ /g')"
say "env file: $ENV_FILE   (set -a; . $ENV_FILE; set +a)"
say "logs:     $LOGS"
say "token:    set -a; . $ENV_FILE; set +a; $NEMID token create --role admin --scope all"
