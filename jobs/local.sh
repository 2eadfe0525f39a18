#!/usr/bin/env bash
# Run a scenario on a workstation with R MPI ranks x T OpenMP threads per rank.
#   jobs/local.sh CONFIG [RANKS] [THREADS] [extra marginfall run options...]
# The output name records the run shape: results/<config>-r<RANKS>xt<THREADS>-<UTC time>.h5
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:?usage: jobs/local.sh CONFIG [RANKS] [THREADS] [options...]}
ranks=${2:-1}
threads=${3:-1}
shift $(( $# < 3 ? $# : 3 ))
binary=${MARGINFALL:-build/release/marginfall}
name=$(basename "${config%.*}")
mkdir -p results
output="results/${name}-r${ranks}xt${threads}-$(date -u +%Y%m%dT%H%M%SZ).h5"
export OMP_NUM_THREADS=$threads
# Open MPI refuses root without these; --bind-to none lets each rank use its threads.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "marginfall: ${config} on ${ranks} rank(s) x ${threads} thread(s) -> ${output}" >&2
exec mpiexec -n "$ranks" --bind-to none --oversubscribe -x OMP_NUM_THREADS \
  "$binary" run "$config" -o "$output" "$@"
