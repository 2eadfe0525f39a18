#!/usr/bin/env bash
# The whole test suite: a release build with warnings as errors, then the same tests under
# AddressSanitizer + UndefinedBehaviorSanitizer; first a debug build (-O0 warns differently).
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --test
jobs="$(nproc)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "=== debug: build (warnings as errors)" >&2
if ! { cmake --preset debug && cmake --build --preset debug -j"$jobs"; } >"$log" 2>&1; then
  tail -n 80 "$log" >&2
  echo "test.sh: the debug build failed" >&2
  exit 1
fi
for preset in release asan; do
  echo "=== ${preset}: configure and build" >&2
  if ! { cmake --preset "$preset" && cmake --build --preset "$preset" -j"$jobs"; } >"$log" 2>&1; then
    tail -n 80 "$log" >&2
    echo "test.sh: the ${preset} build failed" >&2
    exit 1
  fi
  echo "=== ${preset}: tests" >&2
  ctest --preset "$preset" -j"$jobs"
done
