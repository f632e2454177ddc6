#!/usr/bin/env bash
# Imports the two naturally written test councils' sites (served on loopback)
# into fresh knowledge bases and runs their evaluation sets, writing each
# report to OUT/<set>.json. Usage: scripts/eval-sites.sh OUT [SET...]
# (sets: wrenfield-dev wrenfield-blind oakhollow-blind wrenfield-blind-2 oakhollow-blind-2
# wrenfield-blind-3 oakhollow-blind-3 wrenfield-blind-4 oakhollow-blind-4 wrenfield-blind-5
# oakhollow-blind-5; default all eleven).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/eval-sites.sh OUT [SET...]}
shift || true
sets=("$@")
[ ${#sets[@]} -gt 0 ] || sets=(wrenfield-dev wrenfield-blind oakhollow-blind wrenfield-blind-2 oakhollow-blind-2 wrenfield-blind-3 oakhollow-blind-3 wrenfield-blind-4 oakhollow-blind-4 wrenfield-blind-5 oakhollow-blind-5)
bin=${SIGNPOST_BIN:-./target/release/signpost}
[ -x "$bin" ] || cargo build --release
mkdir -p "$out"
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

serve() { # site port
  python3 -m http.server "$2" --bind 127.0.0.1 --directory "tests/fixtures/sites/$1" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do
    curl -fs "http://127.0.0.1:$2/" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the test site $1 did not start on port $2" >&2
  exit 1
}
import() { # site port path council.toml
  mkdir -p "$work/$1/pages"
  cp "$4" "$work/$1/council.toml"
  SIGNPOST_DATA_DIR="$work/$1-data" "$bin" import site "http://127.0.0.1:$2$3" --into "$work/$1" \
    --allow-private-addresses --interval-ms 0 --apply >"$work/$1.import.log" 2>&1 ||
    { cat "$work/$1.import.log" >&2; exit 1; }
}
port=$((20000 + RANDOM % 20000))
need_w=0; need_o=0
for s in "${sets[@]}"; do
  case $s in wrenfield-*) need_w=1 ;; oakhollow-*) need_o=1 ;; *) echo "unknown set $s" >&2; exit 2 ;; esac
done
if [ $need_w = 1 ]; then
  serve wrenfield $port
  import wrenfield $port /adult-social-care tests/fixtures/sites/wrenfield-hand/council.toml
fi
if [ $need_o = 1 ]; then
  serve oakhollow $((port + 1))
  import oakhollow $((port + 1)) /social-care-and-health tests/fixtures/sites/oakhollow-council/council.toml
fi
for s in "${sets[@]}"; do
  site=${s%%-*}
  echo "== $s"
  SIGNPOST_KB_DIR="$work/$site" SIGNPOST_DATA_DIR="$work/$site-data" "$bin" eval "eval/sites/$s.jsonl" --json "$out/$s.json" 2>&1 | tail -2
done
