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

wait=0
if [[ ${1:-} == --wait ]]; then wait=1; shift; fi
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
mf_submit_sweep_job submit.sh "$wait" "$config" "$output" "$log_pattern" "$@"
