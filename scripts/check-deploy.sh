#!/usr/bin/env bash
# Offline checks of the deployment files in deploy/:
# - the systemd unit with `systemd-analyze verify` (any warning fails);
# - both Dockerfiles with hadolint (pinned in deploy/requirements-lint.txt,
#   installed by ./setup.sh);
# - the compose file against the Compose format's JSON schema, plus its own
#   consistency checks (scripts/check-compose.py).
# Not checked here: building or running the images (no container daemon and
# no registry for base images on this machine), `docker compose config`, and
# running the unit (PID 1 is not systemd).
set -euo pipefail
cd "$(dirname "$0")/.."

bin="$PWD/target/release/signpost"
[ -x "$bin" ] || { echo "build signpost first: cargo build --release" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The unit names the installed binary; verify it against the one built here.
sed "s#/opt/signpost/signpost#$bin#" deploy/signpost.service >"$tmp/signpost.service"
out="$(systemd-analyze verify --man=no "$tmp/signpost.service" 2>&1)" || {
  echo "$out" >&2
  echo "[deploy] deploy/signpost.service: systemd-analyze verify failed" >&2
  exit 1
}
if [ -n "$out" ]; then
  echo "$out" >&2
  echo "[deploy] deploy/signpost.service: systemd-analyze verify warned (above)" >&2
  exit 1
fi
echo "[deploy] systemd unit: verified"

venv="${SIGNPOST_TEST_PACKAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/signpost/test-packages}/hadolint-venv"
[ -x "$venv/bin/hadolint" ] || { echo "hadolint is missing: run ./setup.sh" >&2; exit 1; }
"$venv/bin/hadolint" deploy/Dockerfile deploy/llama-server.Dockerfile
echo "[deploy] Dockerfiles: hadolint found nothing"

packages="${SIGNPOST_TEST_PACKAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/signpost/test-packages}"
wheel="$packages/docker_compose-1.29.2-py2.py3-none-any.whl"
[ -f "$wheel" ] || { echo "the Compose schema's wheel is missing: run ./setup.sh" >&2; exit 1; }
"$packages/schemathesis-venv/bin/python" scripts/check-compose.py "$wheel" deploy/compose.yaml
