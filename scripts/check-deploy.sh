#!/usr/bin/env bash
# Offline checks of the deployment files in deploy/:
# - the systemd unit with `systemd-analyze verify` (any warning fails);
# - the Dockerfile with hadolint (pinned in deploy/requirements-lint.txt,
#   installed by ./setup.sh).
# Not checked here: building or running the image (no container daemon and
# no registry for base images on this machine) and running the unit (PID 1
# is not systemd).
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
"$venv/bin/hadolint" deploy/Dockerfile
echo "[deploy] Dockerfile: hadolint found nothing"
