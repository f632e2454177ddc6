#!/usr/bin/env bash
# Runs every coverage-guided fuzzer in fuzz/ (libFuzzer, through cargo fuzz)
# for a bounded time each, from its seed corpus in fuzz/corpus/<target>.
# A crash stops the run with the input that caused it under
# fuzz/artifacts/<target>/: fix the bug, then keep the input as a test in
# fuzz/regressions/<target>/ (tests/all/fuzz_corpus.rs runs them all).
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET ...]   (default 20 s, all)
# SIGNPOST_FUZZ_PROFILE=dev|release (default release): see below.
# A longer run, for one target: scripts/fuzz.sh 3600 html
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-20}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^signpost-fuzz$')
fi
# Without a sanitizer the fuzzers build with the stable toolchain (safe
# Rust needs none: its own checks turn memory errors into panics).
# SIGNPOST_FUZZ_PROFILE=dev (the test command's short run) builds without
# optimisation: about 6 minutes from nothing on 2 cores instead of about 12,
# but each input runs 10 to 30 times slower. The default, release, uses
# sixteen codegen units (cargo fuzz's default is one, about 18 minutes) for
# slightly slower fuzzing. The run below passes the same flags, or it would
# build again. (Cargo's own lines show the build's progress.)
case "${SIGNPOST_FUZZ_PROFILE:-release}" in
  release) flags=(--sanitizer none --release --codegen-units 16) ;;
  dev) flags=(--sanitizer none --dev) ;;
  *) echo "SIGNPOST_FUZZ_PROFILE must be release or dev" >&2; exit 2 ;;
esac
cargo fuzz build "${flags[@]}" || {
  echo "building the fuzzers failed" >&2
  exit 1
}
for t in "${targets[@]}"; do
  corpus="target/corpus/$t"
  mkdir -p "$corpus"
  echo "fuzzing $t for $seconds s"
  status=0
  cargo fuzz run "${flags[@]}" "$t" "$corpus" "corpus/$t" -- \
    -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"target/$t.log" 2>&1 || status=$?
  grep -E "^(stat::number_of_executed_units|stat::new_units_added|stat::peak_rss_mb)" "target/$t.log" || true
  if [ "$status" -ne 0 ] || [ -n "$(find "artifacts/$t" -type f 2>/dev/null)" ]; then
    grep -E "panicked|ERROR|SUMMARY|Test unit written" "target/$t.log" >&2 || tail -n 20 "target/$t.log" >&2
    echo "$t found an input that fails (exit $status): see fuzz/artifacts/$t" >&2
    exit 1
  fi
done
echo "fuzzers ran clean: ${targets[*]}"
