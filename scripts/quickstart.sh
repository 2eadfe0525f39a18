#!/usr/bin/env bash
# Quick start: install what is missing, build (release preset) and run the default scenario.
# The result goes to results/default-<UTC time>.h5; nothing existing is overwritten.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" >/dev/null
mkdir -p results
output="results/default-$(date -u +%Y%m%dT%H%M%SZ).h5"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}"
build/release/marginfall run configs/default.yaml -o "$output"
