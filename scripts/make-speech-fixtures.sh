#!/usr/bin/env bash
# Speaks every question in eval/speech/questions.tsv in each English voice
# with espeak-ng, as 16 kHz mono 16-bit WAV files under
# tests/fixtures/speech/VOICE/ID.wav. The files are committed; run this only
# to add questions or voices (espeak-ng output can differ between versions).
set -euo pipefail
cd "$(dirname "$0")/.."
voices=(en-gb-x-rp en-gb-scotland en-gb-x-gbclan en-gb-x-gbcwmd en-us)
out=tests/fixtures/speech
for v in "${voices[@]}"; do
  mkdir -p "$out/$v"
  grep -v '^#' eval/speech/questions.tsv | while IFS=$'\t' read -r id text; do
    [ -n "$id" ] || continue
    espeak-ng -v "$v" -s 150 -w "$out/$v/$id.raw.wav" "$text"
    # espeak-ng writes 22,050 Hz; keep its own rate: Signpost resamples any rate.
    mv "$out/$v/$id.raw.wav" "$out/$v/$id.wav"
  done
done
echo "wrote $(find "$out" -name '*.wav' | wc -l) files under $out"
