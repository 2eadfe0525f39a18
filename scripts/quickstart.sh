#!/usr/bin/env bash
# Quick start: install what is missing, build (release preset) and run the default scenario.
# The result goes to results/default-<UTC time>.h5; nothing existing is overwritten.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "Building (release preset) ..." >&2
if ! { cmake --preset release && cmake --build --preset release -j"$(nproc)"; } >"$log" 2>&1; then
  tail -n 60 "$log" >&2
  echo "quickstart: the build failed (full log above)" >&2
  exit 1
fi
mkdir -p results
output="results/default-$(date -u +%Y%m%dT%H%M%SZ).h5"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}"
build/release/marginfall run configs/default.yaml -o "$output"
