#!/usr/bin/env bash
# scaling.sh: how the default scenario scales over OpenMP threads and MPI ranks on this
# machine. Strong scaling: fixed total paths; weak scaling: paths proportional to the workers.
# Whole-process wall time, speed-up and efficiency per row. Prints figures; judges nothing.
#   bench/scaling.sh [PATHS_PER_WORKER] [ACCOUNTS] [--set KEY=VALUE ...]  (defaults: 64, 1000000)
# Paths differ in cost (a crash path liquidates far more), so weak scaling is only meaningful
# on a market whose paths cost alike; the extra --set arguments select one.
# Ranks beyond the core count are oversubscribed (their efficiency then says so).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
binary="${MARGINFALL:-$root/build/release/marginfall}"
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n 2,6p "$0"; exit 0
fi
per_worker="${1:-64}"
accounts="${2:-1000000}"
shift $(( $# > 2 ? 2 : $# ))
extra=("$@")
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
seconds() {  # seconds RANKS THREADS PATHS
  local ranks=$1 threads=$2 paths=$3 start end
  rm -f "$work/s.h5"
  start=$(date +%s.%N)
  if [ "$ranks" = 1 ]; then
    OMP_NUM_THREADS=$threads "$binary" run "$root/configs/default.yaml" -o "$work/s.h5" --quiet \
      --paths "$paths" --set "population.accounts=$accounts" ${extra[@]+"${extra[@]}"} > /dev/null
  else
    OMP_NUM_THREADS=$threads mpirun -n "$ranks" --oversubscribe --bind-to none "$binary" run \
      "$root/configs/default.yaml" -o "$work/s.h5" --quiet --paths "$paths" \
      --set "population.accounts=$accounts" ${extra[@]+"${extra[@]}"} > /dev/null
  fi
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
}
echo "scaling: marginfall $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')," \
     "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
echo "configs/default.yaml, $accounts accounts, $per_worker paths per worker ${extra[*]+${extra[*]}}"
printf '%-7s %6s %7s %7s %9s %9s %11s\n' kind ranks threads paths seconds speedup efficiency
row() {  # row KIND RANKS THREADS PATHS BASE_SECONDS BASE_WORKERS
  local t
  t=$(seconds "$2" "$3" "$4")
  awk -v kind="$1" -v r="$2" -v th="$3" -v p="$4" -v t="$t" -v base="$5" 'BEGIN {
    w = r * th
    if (kind == "strong") { s = base / t; e = s / w } else { s = base * w / t; e = base / t }
    printf "%-7s %6d %7d %7d %9.2f %9.2f %10.0f%%\n", kind, r, th, p, t, s, 100 * e }'
  echo "$t" > "$work/last"
}
strong_paths=$((per_worker * 2))
base=$(seconds 1 1 "$strong_paths")
printf '%-7s %6d %7d %7d %9.2f %9.2f %10.0f%%\n' strong 1 1 "$strong_paths" "$base" 1 100
row strong 1 2 "$strong_paths" "$base"
row strong 2 1 "$strong_paths" "$base"
row strong 4 1 "$strong_paths" "$base"
wbase=$(seconds 1 1 "$per_worker")
printf '%-7s %6d %7d %7d %9.2f %9.2f %10.0f%%\n' weak 1 1 "$per_worker" "$wbase" 1 100
row weak 1 2 $((per_worker * 2)) "$wbase"
row weak 2 1 $((per_worker * 2)) "$wbase"
row weak 4 1 $((per_worker * 4)) "$wbase"
echo "speedup: strong t1/t; weak (workers x t1)/t. efficiency: speedup / workers (strong), t1/t (weak)."
