#!/usr/bin/env bash
# Builds llama.cpp's llama-server once, for the tests and benchmarks of the
# OpenAI-compatible model-server backend, and caches it outside the
# repository like the models. llama.cpp's source comes inside the
# llama-cpp-python source package (an ordinary package, fetched with pip,
# checked against the pinned sha256 below). Prints the program's path.
# Usage: scripts/build-llama-server.sh  (SIGNPOST_LLAMA_SERVER_DIR to choose
# the cache folder; default ~/.cache/signpost/llama-server-<version>;
# SIGNPOST_LLAMA_SERVER_ONLY_CACHED=1 to only print the cached program).
set -euo pipefail
version=0.3.36
sha256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
dir="${SIGNPOST_LLAMA_SERVER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/signpost/llama-server-$version}"
bin="$dir/llama-server"
if [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; then
  echo "$bin"
  exit 0
fi
if [ -n "${SIGNPOST_LLAMA_SERVER_ONLY_CACHED:-}" ]; then
  echo "llama-server is not built in $dir: run ./setup.sh" >&2
  exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "llama-server: fetching llama-cpp-python $version's source package" >&2
printf 'llama-cpp-python==%s --hash=sha256:%s\n' "$version" "$sha256" >"$work/req.txt"
python3 -m pip download --quiet --no-deps --no-binary :all: --require-hashes \
  -r "$work/req.txt" -d "$work" >&2
tarball="$(ls "$work"/llama_cpp_python-*.tar.gz)"
echo "$sha256  $tarball" | sha256sum -c --quiet - >&2
tar -xzf "$tarball" -C "$work"
src="$work/llama_cpp_python-$version/vendor/llama.cpp"
[ -f "$src/CMakeLists.txt" ] || { echo "llama-server: no llama.cpp source in the package" >&2; exit 1; }
echo "llama-server: building (about 7 minutes on 2 cores; once)" >&2
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF \
  -DLLAMA_CURL=OFF -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
  -DLLAMA_BUILD_SERVER=ON >"$work/cmake.log" 2>&1 || { tail -30 "$work/cmake.log" >&2; exit 1; }
cmake --build "$work/build" --target llama-server -j "$(nproc)" >"$work/build.log" 2>&1 ||
  { tail -30 "$work/build.log" >&2; exit 1; }
mkdir -p "$dir"
# Atomically: a half-copied program is never found in the cache.
cp "$work/build/bin/llama-server" "$dir/.llama-server.tmp"
"$dir/.llama-server.tmp" --version >/dev/null 2>&1 || { echo "llama-server: the built program does not run" >&2; exit 1; }
mv "$dir/.llama-server.tmp" "$bin"
echo "$bin"
