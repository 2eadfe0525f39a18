#!/usr/bin/env bash
# The whole test suite: a release build with warnings as errors, then the same tests under
# AddressSanitizer + UndefinedBehaviorSanitizer. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --test
jobs="$(nproc)"
for preset in release asan; do
  echo "=== ${preset}: configure and build" >&2
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j"$jobs" >/dev/null
  echo "=== ${preset}: tests" >&2
  ctest --preset "$preset" -j"$jobs"
done
