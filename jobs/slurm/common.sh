# shellcheck shell=bash
# Helpers shared by the Slurm scripts in jobs/slurm/. Sourced, never run.
# Submit side: mf_submit_setup, mf_stamp. Job side: mf_job_setup, mf_job_header, mf_launch,
# mf_job_footer. Sources resources.sh from the same directory.

# shellcheck source=jobs/slurm/resources.sh
source "$(dirname "${BASH_SOURCE[0]}")/resources.sh"

mf_die() {
  echo "${MF_SCRIPT:-marginfall}: $*" >&2
  exit 1
}

# ---------------------------------------------------------------- submit side

# Resolve the binary to an absolute path (relative to where the user stands), then move to
# the repository root so every job's submit directory is the repository root.
mf_submit_setup() {
  local slurm_dir
  slurm_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  command -v sbatch >/dev/null || mf_die "sbatch not found: run this on a Slurm login node"
  if [[ -n ${MARGINFALL:-} ]]; then
    MARGINFALL=$(realpath -m "$MARGINFALL")
  else
    MARGINFALL=$(realpath -m "$slurm_dir/../../build/release/marginfall")
  fi
  export MARGINFALL
  # Batch scripts run from a copy in slurmd's spool directory, so tell them where to find
  # common.sh.
  export MF_SLURM_DIR=$slurm_dir
  cd "$slurm_dir/../.." || mf_die "cannot enter the repository root"
}

# UTC time for output names, as in jobs/local.sh.
mf_stamp() {
  date -u +%Y%m%dT%H%M%SZ
}

# A config's name without directory and extension: configs/default.yaml -> default.
mf_config_name() {
  local name
  name=$(basename "$1")
  echo "${name%.*}"
}

# Submit array tasks TASKLIST (comma-separated part numbers) of a sweep in PARTS parts, each
# writing BASE-part<I>of<PARTS>.h5, then the merge of all PARTS part files into BASE.h5 that
# runs only if every submitted task succeeds (afterok). With an empty TASKLIST only the merge
# is submitted. Prints KEY=VALUE lines (ARRAY_JOB, MERGE_JOB, OUTPUT, PART_<I>,
# PART_LOG_<I> for the submitted tasks, MERGE_LOG). WAIT=1: return when the merge has ended,
# and fail unless its log says "finished OK". Needs mf_submit_setup first.
#   mf_submit_parts CONFIG BASE PARTS TASKLIST WAIT [marginfall run options...]
# Submit sweep.sbatch for CONFIG -> OUTPUT with the run resources, logging to LOG_PATTERN
# (%j = job id); print JOB/OUTPUT/LOG; with WAIT=1, wait and judge the job by its own log
# (sbatch --wait returns 0 for a job cancelled before it ran).
#   mf_submit_sweep_job CALLER WAIT CONFIG OUTPUT LOG_PATTERN [marginfall run options...]
mf_submit_sweep_job() {
  local caller=$1 wait=$2 config=$3 output=$4 log_pattern=$5
  shift 5
  local wait_flag=() status=0 job log
  if (( wait )); then wait_flag=(--wait); fi
  job=$(sbatch --parsable "${wait_flag[@]}" --export=ALL "${MF_SBATCH_RUN[@]}" \
          --job-name="mf-$(mf_config_name "$config")" --output="$log_pattern" \
          jobs/slurm/sweep.sbatch "$config" "$output" "$@") || status=$?
  job=${job%%;*}
  [[ -n $job ]] || mf_die "sbatch failed (exit $status)"
  log=${log_pattern//%j/$job}
  printf 'JOB=%q\nOUTPUT=%q\nLOG=%q\n' "$job" "$output" "$log"
  if (( wait )) && ! grep -q "finished OK" "$log" 2>/dev/null; then
    echo "${caller}: job $job did not finish OK (sbatch exit $status); see $log" >&2
    return 1
  fi
  return 0
}

mf_submit_parts() {
  local config=$1 base=$2 parts=$3 tasklist=$4 wait=$5 name base_name logdir output i
  shift 5
  name=$(mf_config_name "$config")
  base_name=$(basename "$base")
  logdir="$(dirname "$base")/logs"
  output="$base.h5"
  mkdir -p "$logdir"
  mf_run_options
  mf_merge_options
  local array_job="" dependency=() part_files=()
  if [[ -n $tasklist ]]; then
    array_job=$(sbatch --parsable --export=ALL "${MF_SBATCH_RUN[@]}" \
                  --array="${tasklist}${ARRAY_PARALLEL:+%$ARRAY_PARALLEL}" \
                  --job-name="mf-$name-part" --output="$logdir/$base_name-part%aof$parts-%A_%a.out" \
                  jobs/slurm/array.sbatch "$config" "$base" "$parts" "$@") ||
      mf_die "sbatch of the array failed"
    array_job=${array_job%%;*}
    dependency=(--dependency="afterok:$array_job")
  fi
  for ((i = 0; i < parts; i++)); do part_files+=("$base-part${i}of${parts}.h5"); done
  local merge_pattern="$logdir/$base_name-merge-%j.out" wait_flag=() status=0 merge_job
  if (( wait )); then wait_flag=(--wait); fi
  merge_job=$(sbatch --parsable "${wait_flag[@]}" --export=ALL "${MF_SBATCH_MERGE[@]}" "${dependency[@]}" \
                --job-name="mf-$name-merge" --output="$merge_pattern" \
                jobs/slurm/merge.sbatch "$output" "${part_files[@]}") || status=$?
  merge_job=${merge_job%%;*}
  if [[ -z $merge_job ]]; then
    mf_die "sbatch of the merge job failed${array_job:+; cancel the array with: scancel $array_job}"
  fi
  local merge_log=${merge_pattern//%j/$merge_job}
  printf 'ARRAY_JOB=%q\nMERGE_JOB=%q\nOUTPUT=%q\n' "$array_job" "$merge_job" "$output"
  for ((i = 0; i < parts; i++)); do
    printf 'PART_%d=%q\n' "$i" "${part_files[i]}"
    if [[ ,$tasklist, == *,$i,* ]]; then
      printf 'PART_LOG_%d=%q\n' "$i" "$logdir/$base_name-part${i}of$parts-${array_job}_$i.out"
    fi
  done
  printf 'MERGE_LOG=%q\n' "$merge_log"
  # sbatch --wait returns 0 for a merge cancelled because a part failed: trust the log.
  if (( wait )) && ! grep -q "finished OK" "$merge_log" 2>/dev/null; then
    echo "${MF_SCRIPT}: the merge job $merge_job did not finish OK (sbatch exit $status; no merge log means a part failed); see $logdir" >&2
    return 1
  fi
  return 0
}

# ---------------------------------------------------------------- job side

# Inside a job: find the binary, set threads (srun in Slurm 22.05 ignores SLURM_CPUS_PER_TASK,
# so SRUN_CPUS_PER_TASK carries it), fill MF_NODES, MF_RANKS, MF_THREADS, MF_SHAPE.
mf_job_setup() {
  [[ -n ${SLURM_JOB_ID:-} ]] || mf_die "not inside a Slurm job; submit with the jobs/slurm/submit*.sh scripts"
  # The default is relative to the submit directory, which is the job's working directory.
  MF_BINARY=${MARGINFALL:-build/release/marginfall}
  [[ -x $MF_BINARY ]] || mf_die "marginfall binary '$MF_BINARY' is not executable (working directory $PWD); set MARGINFALL"
  MF_NODES=${SLURM_JOB_NUM_NODES:-1}
  MF_RANKS=${SLURM_NTASKS:-1}
  MF_THREADS=${SLURM_CPUS_PER_TASK:-1}
  MF_SHAPE="n${MF_NODES}xr${MF_RANKS}xt${MF_THREADS}"
  export OMP_NUM_THREADS=$MF_THREADS
  # Threads stay on their cores and sleep when idle (docs/cluster.md, "Threads, ranks and
  # placement"); a user's own settings win.
  export OMP_PLACES=${OMP_PLACES:-cores}
  export OMP_PROC_BIND=${OMP_PROC_BIND:-close}
  export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
  export SRUN_CPUS_PER_TASK=$MF_THREADS
}

# Log what the job runs: config, points, shape, binary and its version, output.
#   mf_job_header WHAT CONFIG POINTS OUTPUT
mf_job_header() {
  local what=$1 config=$2 points=$3 output=$4 version task=""
  version=$("$MF_BINARY" --version 2>&1 | head -n 1) || version="(marginfall --version failed: $version)"
  if [[ -n ${SLURM_ARRAY_TASK_ID:-} ]]; then
    task=" (array job ${SLURM_ARRAY_JOB_ID}, task ${SLURM_ARRAY_TASK_ID})"
  fi
  echo "=== marginfall ${what}: Slurm job ${SLURM_JOB_ID}${task}, restart count ${SLURM_RESTART_COUNT:-0}"
  echo "started    $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
  echo "config     ${config}"
  echo "points     ${points}"
  echo "shape      ${MF_NODES} node(s) x ${MF_RANKS} rank(s) x ${MF_THREADS} thread(s) = ${MF_SHAPE} (nodes ${SLURM_JOB_NODELIST:-?})"
  echo "binary     $(realpath -m "$MF_BINARY")"
  echo "version    ${version}"
  echo "output     ${output}"
}

# Run marginfall under srun and wait for it. The time-limit warning (--signal=TERM@GRACE,
# without B:) goes to marginfall's ranks directly: srun itself answers a SIGTERM by killing
# the step, so forwarding one through the batch shell would lose the checkpoint. The batch
# shell may still get SIGTERM (pre-emption, scancel): it keeps waiting, so the ranks can
# finish their checkpoint. Sets MF_STATUS.
#   mf_launch RANKS ARGS...
mf_launch() {
  local ranks=$1 pid
  shift
  echo "command    srun --mpi=${MPI_PLUGIN} --ntasks=${ranks} --cpus-per-task=${MF_THREADS} ${MF_BINARY} $*"
  echo "---"
  trap 'echo "marginfall job: batch shell got SIGTERM at $(date -u +%H:%M:%SZ); waiting for marginfall to checkpoint"' TERM
  srun --mpi="$MPI_PLUGIN" --ntasks="$ranks" --cpus-per-task="$MF_THREADS" "$MF_BINARY" "$@" &
  pid=$!
  while :; do
    if wait "$pid"; then MF_STATUS=0; else MF_STATUS=$?; fi
    # wait returns early (status > 128) when a trapped signal arrives; srun is still running.
    kill -0 "$pid" 2>/dev/null || break
  done
  trap - TERM
}

# The job's last log line, which tests and people read: finished, checkpointed or failed.
#   mf_job_footer OUTPUT HINT   (HINT: how to continue after a checkpoint)
mf_job_footer() {
  local output=$1 hint=$2 meaning
  echo "---"
  case $MF_STATUS in
    0)
      if [[ -f $output ]]; then
        echo "=== marginfall job ${SLURM_JOB_ID}: finished OK at $(date -u +%Y-%m-%dT%H:%M:%SZ): ${output}"
        return 0
      fi
      echo "=== marginfall job ${SLURM_JOB_ID}: FAILED: marginfall exited 0 but ${output} does not exist"
      MF_STATUS=7
      return 0 ;;
    8)
      echo "=== marginfall job ${SLURM_JOB_ID}: CHECKPOINTED (exit 8, SIGTERM before the time limit or pre-emption)"
      echo "continue with: ${hint}"
      return 0 ;;
    1) meaning="usage error" ;;
    2) meaning="config error" ;;
    3) meaning="unreadable input" ;;
    4) meaning="output error (file exists, or cannot be written)" ;;
    5) meaning="out of memory" ;;
    6) meaning="MPI error" ;;
    7) meaning="internal error" ;;
    *) meaning="killed or srun failure" ;;
  esac
  echo "=== marginfall job ${SLURM_JOB_ID}: FAILED with exit code ${MF_STATUS} (${meaning})"
}
