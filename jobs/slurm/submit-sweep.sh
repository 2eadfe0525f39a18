#!/usr/bin/env bash
# Submit a sweep as a job array of PARTS parts, then a merge job that runs only when every
# part succeeded (--dependency=afterok:<array job>).
#   jobs/slurm/submit-sweep.sh [--wait] CONFIG PARTS [OUTDIR] [marginfall run options...]
# Each array task gets the resources of jobs/slurm/resources.sh. With BASE =
# OUTDIR/<config>-n<nodes>xr<ranks>xt<threads>-<UTC time> (OUTDIR defaults to results/):
#   parts   BASE-part<I>of<PARTS>.h5      logs  OUTDIR/logs/<BASE name>-part<I>of<PARTS>-<array job>_<I>.out
#   merged  BASE.h5                       log   OUTDIR/logs/<BASE name>-merge-<merge job>.out
# Prints shell-readable lines: ARRAY_JOB, MERGE_JOB, OUTPUT, PART_<I>, PART_LOG_<I>, MERGE_LOG.
# --wait: return when the merge job has ended (or was cancelled because a part failed);
# exit 0 only if the merge log says it finished OK.
# Parts that failed or ran out of time: jobs/slurm/resubmit.sh --parts PARTS CONFIG BASE.h5
set -euo pipefail
MF_SCRIPT=submit-sweep.sh
# shellcheck source=jobs/slurm/common.sh
source "$(dirname "$0")/common.sh"

wait=0
if [[ ${1:-} == --wait ]]; then wait=1; shift; fi
(( $# >= 2 )) || mf_die "usage: jobs/slurm/submit-sweep.sh [--wait] CONFIG PARTS [OUTDIR] [marginfall run options...]"
config=$(realpath -e "$1" 2>/dev/null) || mf_die "config $1 not found"
parts=$2
shift 2
[[ $parts =~ ^[1-9][0-9]*$ ]] || mf_die "PARTS must be a positive integer, got '$parts'"
outdir=results
if (( $# >= 1 )) && [[ $1 != -* ]]; then outdir=$1; shift; fi
outdir=$(realpath -m "$outdir")
mkdir -p "$outdir"

mf_submit_setup
base="$outdir/$(mf_config_name "$config")-$(mf_shape)-$(mf_stamp)"
[[ ! -e $base.h5 ]] || mf_die "$base.h5 exists already"
tasklist=$(seq -s, 0 $((parts - 1)))
echo "submit-sweep.sh: $config in $parts part(s), each on $(mf_shape) (nodes x ranks x threads), time $TIME -> $base.h5" >&2
mf_submit_parts "$config" "$base" "$parts" "$tasklist" "$wait" "$@"
