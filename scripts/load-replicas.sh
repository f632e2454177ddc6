#!/usr/bin/env bash
# The same bounded loopback load against (1) one replica on its embedded
# SQLite store and (2) two replicas sharing PostgreSQL and Redis (Debian's
# servers, started here in a temporary folder on free ports). Conversations
# are stored in both cases, so every answer writes to the store.
# Usage: scripts/load-replicas.sh OUT [CONCURRENCY] [SECONDS]
#   OUT: a folder for the JSON reports (one-sqlite.json, two-postgres-redis.json)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/load-replicas.sh OUT [CONCURRENCY] [SECONDS]}
levels=${2:-8,32}
seconds=${3:-10}
bin="$PWD/target/release/signpost"
[ -x "$bin" ] || cargo build --release
mkdir -p "$out"
work=$(mktemp -d)
chmod 755 "$work"   # the postgres user must reach its folder inside
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then setpriv --reuid=postgres --regid=postgres --clear-groups -- "$@"; else "$@"; fi; }

pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
[ -x "$pgbin/postgres" ] || { echo "PostgreSQL is missing: run ./setup.sh" >&2; exit 1; }
mkdir -p "$work/pg"
[ "$(id -u)" -ne 0 ] || chown postgres:postgres "$work/pg"
as_pg "$pgbin/initdb" -D "$work/pg/data" -U signpost --auth=trust -E UTF8 --no-sync >/dev/null
pg_port=$(free_port)
as_pg "$pgbin/postgres" -D "$work/pg/data" -p "$pg_port" -c listen_addresses=127.0.0.1 \
  -c unix_socket_directories="$work/pg" -c max_connections=200 >"$work/pg.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" && break; sleep 0.1; done
"$pgbin/createdb" -h 127.0.0.1 -p "$pg_port" -U signpost signpost
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

serve() { # name config; sets $url and adds the server to $pids
  local port
  port=$(free_port)
  SIGNPOST_CONFIG="$2" SIGNPOST_DATA_DIR="$work/$1" SIGNPOST_QUIET=1 SIGNPOST_LOG=warn \
    "$bin" serve --addr "127.0.0.1:$port" >"$work/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 600); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/$1.log" >&2; exit 1; }
  url="http://127.0.0.1:$port"
}

printf '[server]\nrate_limit_per_minute = 0\n\n[privacy]\nstore_conversations = true\n' >"$work/sqlite.toml"
printf '[server]\nrate_limit_per_minute = 0\n\n[privacy]\nstore_conversations = true\n\n[shared]\nredis_url = "redis://127.0.0.1:%s/0"\npostgres_url = "postgres://signpost@127.0.0.1:%s/signpost"\n' \
  "$redis_port" "$pg_port" >"$work/shared.toml"

echo "== one replica, SQLite"
serve one "$work/sqlite.toml"
"$bin" bench load --url "$url" --endpoints chat --concurrency "$levels" --seconds "$seconds" --json "$out/one-sqlite.json"
kill "${pids[-1]}"; unset 'pids[-1]'

echo "== two replicas, PostgreSQL and Redis"
serve a "$work/shared.toml"
a=$url
serve b "$work/shared.toml"
b=$url
"$bin" bench load --url "$a,$b" --endpoints chat --concurrency "$levels" --seconds "$seconds" --json "$out/two-postgres-redis.json"
rows=$(psql -h 127.0.0.1 -p "$pg_port" -U signpost -d signpost -Atc "SELECT COUNT(*) FROM conversations")
echo "conversations stored in PostgreSQL: $rows"
