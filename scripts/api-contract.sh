#!/usr/bin/env bash
# The API contract: schemathesis, an independent OpenAPI-driven fuzzer,
# generates requests from /api/openapi.json (valid and invalid ones) against
# a real server on the built-in knowledge base, and checks every response
# against the same document: no server errors, every status and body as
# documented. A fixed seed and a bounded number of cases keep the run
# repeatable. Run after ./setup.sh (which installs schemathesis, pinned).
#   scripts/api-contract.sh [CASES_PER_OPERATION]   (default 100)
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-100}"
venv="${SIGNPOST_TEST_PACKAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/signpost/test-packages}/schemathesis-venv"
if [ ! -x "$venv/bin/st" ]; then
  echo "schemathesis is not installed at $venv: run ./setup.sh first" >&2
  exit 1
fi
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
# The per-client rate limit is off so the fuzzer's requests are all
# answered; it has its own tests.
printf '[server]\nrate_limit_per_minute = 0\n' >"$work/signpost.toml"
SIGNPOST_CONFIG="$work/signpost.toml" SIGNPOST_DATA_DIR="$work/data" SIGNPOST_QUIET=1 \
  ./target/release/signpost serve --addr 127.0.0.1:0 2>"$work/server.log" &
pid=$!
url=""
for _ in $(seq 1 600); do
  url=$(sed -n 's/^Signpost is listening on //p' "$work/server.log" | head -1)
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; echo "the server did not start" >&2; exit 1; }
  sleep 0.2
done
[ -n "$url" ] || { echo "the server did not start in 120 s" >&2; exit 1; }
echo "schemathesis against $url ($cases cases per operation, seed 1)"
"$venv/bin/st" --config-file tests/api/schemathesis.toml run "$url/api/openapi.json" \
  --seed 1 --max-examples "$cases" --generation-database none --no-color \
  --report junit --report-junit-path "${SIGNPOST_CONTRACT_REPORT:-target/api-contract.xml}"
