#!/usr/bin/env bash
# Continue a run that was pre-empted, hit its time limit or failed, under the same names.
#   jobs/slurm/resubmit.sh [--wait] CONFIG OUTPUT [marginfall run options...]
#       one sweep job (sweep.sbatch) again for OUTPUT
#   jobs/slurm/resubmit.sh [--wait] --parts N[:LIST] CONFIG OUTPUT [marginfall run options...]
#       the parts of an array sweep (submit-sweep.sh) whose files OUTPUT-without-.h5-part<I>ofN.h5
#       are missing (or the comma-separated LIST, e.g. 4:1,3), then the merge into OUTPUT
# Every job passes --resume, so marginfall continues from each output's checkpoint (a fresh
# start where there is none). Resources come from jobs/slurm/resources.sh and may differ from
# the first submission's: results do not depend on the number of ranks or threads; the names
# keep the first shape. Prints KEY=VALUE lines like submit.sh and submit-sweep.sh.
set -euo pipefail
MF_SCRIPT=resubmit.sh
# shellcheck source=jobs/slurm/common.sh
source "$(dirname "$0")/common.sh"

wait=0
if [[ ${1:-} == --wait ]]; then wait=1; shift; fi
parts_spec=""
if [[ ${1:-} == --parts ]]; then parts_spec=${2:-}; shift 2 || true; fi
if [[ ${1:-} == --wait ]]; then wait=1; shift; fi
(( $# >= 2 )) || mf_die "usage: jobs/slurm/resubmit.sh [--wait] [--parts N[:LIST]] CONFIG OUTPUT [marginfall run options...]"
config=$(realpath -e "$1" 2>/dev/null) || mf_die "config $1 not found"
output=$(realpath -m "$2")
shift 2
[[ $output == *.h5 ]] || mf_die "OUTPUT must end in .h5: $output"
[[ ! -e $output ]] || mf_die "$output exists: that run has finished, there is nothing to resume"
[[ -d $(dirname "$output") ]] || mf_die "directory of $output does not exist"

mf_submit_setup

if [[ -n $parts_spec ]]; then
  [[ $parts_spec =~ ^([1-9][0-9]*)(:([0-9]+(,[0-9]+)*))?$ ]] ||
    mf_die "--parts takes N or N:I,J,... (e.g. 8 or 8:2,5), got '$parts_spec'"
  parts=${BASH_REMATCH[1]}
  tasklist=${BASH_REMATCH[3]}
  base=${output%.h5}
  if [[ -z $tasklist ]]; then
    for ((i = 0; i < parts; i++)); do
      [[ -e $base-part${i}of${parts}.h5 ]] || tasklist+="${tasklist:+,}$i"
    done
  fi
  for i in ${tasklist//,/ }; do
    (( i < parts )) || mf_die "part $i does not exist in a sweep of $parts parts"
    [[ ! -e $base-part${i}of${parts}.h5 ]] ||
      mf_die "part $i has finished ($base-part${i}of${parts}.h5 exists); remove it to run it again"
  done
  echo "resubmit.sh: parts ${tasklist:-(none missing)} of $parts on $(mf_shape) (nodes x ranks x threads), time $TIME, then the merge -> $output" >&2
  mf_submit_parts "$config" "$base" "$parts" "$tasklist" "$wait" "$@"
  exit $?
fi

mf_run_options
logdir="$(dirname "$output")/logs"
mkdir -p "$logdir"
log_pattern="$logdir/$(basename "${output%.h5}")-%j.out"
echo "resubmit.sh: continuing $output on $(mf_shape) (nodes x ranks x threads), time $TIME" >&2
mf_submit_sweep_job resubmit.sh "$wait" "$config" "$output" "$log_pattern" "$@"
