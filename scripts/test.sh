#!/usr/bin/env bash
# The whole test suite: unit and integration tests, lints, and the evaluation
# smoke set with quality thresholds. Run after ./setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export SIGNPOST_QUIET=1

echo "== format and lints"
cargo fmt --check
cargo clippy --release --locked --all-targets -- -D warnings

echo "== tests"
cargo test --release --locked -- --test-threads 2
