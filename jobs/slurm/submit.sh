#!/usr/bin/env bash
# Submit one MPI job for a whole config (every sweep point) with the resources of
# jobs/slurm/resources.sh.
#   jobs/slurm/submit.sh [--wait] CONFIG [OUTDIR] [marginfall run options...]
# The output is OUTDIR/<config>-n<nodes>xr<ranks>xt<threads>-<UTC time>.h5 (OUTDIR defaults to
# results/), the log OUTDIR/logs/<same name>-<job id>.out. Prints shell-readable lines:
#   JOB=<id>  OUTPUT=<file>  LOG=<file>
# --wait: return when the job has ended; exit 0 only if its log says it finished OK.
# A pre-empted or timed-out job continues with jobs/slurm/resubmit.sh CONFIG OUTPUT.
set -euo pipefail
MF_SCRIPT=submit.sh
# shellcheck source=jobs/slurm/common.sh
source "$(dirname "$0")/common.sh"

wait_flag=()
if [[ ${1:-} == --wait ]]; then wait_flag=(--wait); shift; fi
(( $# >= 1 )) || mf_die "usage: jobs/slurm/submit.sh [--wait] CONFIG [OUTDIR] [marginfall run options...]"
config=$(realpath -e "$1" 2>/dev/null) || mf_die "config $1 not found"
shift
outdir=results
if (( $# >= 1 )) && [[ $1 != -* ]]; then outdir=$1; shift; fi
outdir=$(realpath -m "$outdir")
mkdir -p "$outdir/logs"

mf_submit_setup
mf_run_options
base="$(mf_config_name "$config")-$(mf_shape)-$(mf_stamp)"
output="$outdir/$base.h5"
[[ ! -e $output ]] || mf_die "$output exists already"
log_pattern="$outdir/logs/$base-%j.out"

echo "submit.sh: $config on $(mf_shape) (nodes x ranks x threads), time $TIME -> $output" >&2
status=0
job=$(sbatch --parsable "${wait_flag[@]}" --export=ALL "${MF_SBATCH_RUN[@]}" \
        --job-name="mf-$(mf_config_name "$config")" --output="$log_pattern" \
        jobs/slurm/sweep.sbatch "$config" "$output" "$@") || status=$?
job=${job%%;*}
[[ -n $job ]] || mf_die "sbatch failed (exit $status)"
log=${log_pattern//%j/$job}
printf 'JOB=%q\nOUTPUT=%q\nLOG=%q\n' "$job" "$output" "$log"

if (( ${#wait_flag[@]} )); then
  # sbatch --wait returns 0 for a job cancelled before it ran: trust the job's own log.
  if ! grep -q "finished OK" "$log" 2>/dev/null; then
    echo "submit.sh: job $job did not finish OK (sbatch exit $status); see $log" >&2
    exit 1
  fi
fi
