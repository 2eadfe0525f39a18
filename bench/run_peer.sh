#!/usr/bin/env bash
# run_peer.sh: bench/peer-shape.yaml end to end on one core (one rank, OMP_NUM_THREADS=1),
# whole-process wall time per margin kernel, best of REPEATS, against the Python + Numba peer's
# published 35.7 s on the same shape (docs/performance.md). Prints figures; judges nothing.
#   bench/run_peer.sh [KERNEL...]      (default: events filtered reference)
#   REPEATS=5 MARGINFALL=build/release/marginfall bench/run_peer.sh events
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
binary="${MARGINFALL:-$root/build/release/marginfall}"
repeats="${REPEATS:-3}"
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n 2,6p "$0"; exit 0
fi
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(events filtered reference)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
peer=35.7
echo "run_peer: marginfall $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'),"\
     "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
echo "config: bench/peer-shape.yaml (1 asset, 2,000 isolated accounts at 20x, 100 paths x 7,200 steps)"
printf '%-10s %10s %10s %12s\n' kernel "best s" "runs" "peer / best"
for kernel in "${kernels[@]}"; do
  best=""
  for ((i = 0; i < repeats; i++)); do
    rm -f "$work/peer.h5"
    start=$(date +%s.%N)
    OMP_NUM_THREADS=1 "$binary" run "$here/peer-shape.yaml" -o "$work/peer.h5" --quiet \
      --set "run.margin_kernel=$kernel" > /dev/null
    end=$(date +%s.%N)
    t=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.6f", b - a }')
    if [ -z "$best" ] || awk -v t="$t" -v b="$best" 'BEGIN { exit !(t < b) }'; then best=$t; fi
  done
  printf '%-10s %10.3f %10d %12.1f\n' "$kernel" "$best" "$repeats" \
    "$(awk -v p="$peer" -v b="$best" 'BEGIN { print p / b }')"
done
echo "peer (Python + Numba, its own figure on this machine): $peer s whole-process, one core"
