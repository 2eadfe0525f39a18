# shellcheck shell=bash
# The resources of every marginfall Slurm job: the one place to size a run.
# Sourced (through common.sh) by the submit scripts, which pass these to sbatch, and by the
# .sbatch files, which carry no resource lines of their own. Edit the defaults here, or
# override any of them for one submission from the environment:
#   NODES=4 TASKS=16 THREADS_PER_TASK=8 TIME=06:00:00 jobs/slurm/submit.sh configs/default.yaml
# Account and QOS: use sbatch's own variables (SBATCH_ACCOUNT, SBATCH_QOS) if your site needs them.
# How to size a run (memory per rank, wall time): docs/cluster.md.

NODES=${NODES:-1}                       # nodes per job (for an array: per array task)
TASKS=${TASKS:-2}                       # MPI ranks per job, in total over its nodes
THREADS_PER_TASK=${THREADS_PER_TASK:-1} # OpenMP threads per rank (--cpus-per-task)
TIME=${TIME:-01:00:00}                  # wall-time limit per job, [D-]HH:MM:SS
PARTITION=${PARTITION:-}                # empty: the cluster's default partition

GRACE_SECONDS=${GRACE_SECONDS:-90}      # SIGTERM this long before TIME runs out, so marginfall
                                        # writes a checkpoint (Slurm may send it up to 60 s early)
MERGE_TIME=${MERGE_TIME:-00:30:00}      # wall-time limit of the merge job (1 rank, 1 thread)
ARRAY_PARALLEL=${ARRAY_PARALLEL:-}      # at most this many array tasks at once; empty: no limit
MPI_PLUGIN=${MPI_PLUGIN:-pmix}          # srun --mpi=...; Debian's Open MPI 4 works with pmix only

# The run shape as it appears in output names: n<nodes>xr<ranks>xt<threads>.
mf_shape() {
  echo "n${NODES}xr${TASKS}xt${THREADS_PER_TASK}"
}

# sbatch options for a simulation job (sweep.sbatch or one array task), in MF_SBATCH_RUN.
mf_run_options() {
  MF_SBATCH_RUN=(--nodes="$NODES" --ntasks="$TASKS" --cpus-per-task="$THREADS_PER_TASK"
                 --time="$TIME" --signal="TERM@${GRACE_SECONDS}")
  if [[ -n $PARTITION ]]; then MF_SBATCH_RUN+=(--partition="$PARTITION"); fi
}

# sbatch options for the merge job, in MF_SBATCH_MERGE.
mf_merge_options() {
  MF_SBATCH_MERGE=(--nodes=1 --ntasks=1 --cpus-per-task=1 --time="$MERGE_TIME")
  if [[ -n $PARTITION ]]; then MF_SBATCH_MERGE+=(--partition="$PARTITION"); fi
}
