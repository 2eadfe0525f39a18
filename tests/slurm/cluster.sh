#!/usr/bin/env bash
# A real one-node Slurm cluster on 127.0.0.1, for testing jobs/slurm/ on one machine.
#   tests/slurm/cluster.sh start DIR   write DIR/slurm.conf, start munged, slurmctld and slurmd,
#                                      wait until the node is idle
#   tests/slurm/cluster.sh env DIR     print the export lines clients need (SLURM_CONF)
#   tests/slurm/cluster.sh stop DIR    cancel the cluster's jobs, stop the three daemons by the
#                                      pids in their pid files (never by name); safe to repeat
# Everything the cluster writes lives under DIR: config, munge key and socket, controller
# state, slurmd spool, pid files and logs. Needs root and the Debian packages slurm-wlm and
# munge. Refuses to start when something already answers on ports 6817 or 6818.
#
#   dir=$(mktemp -d); tests/slurm/cluster.sh start "$dir"; trap 'tests/slurm/cluster.sh stop "$dir"' EXIT
#   eval "$(tests/slurm/cluster.sh env "$dir")"; sbatch --wait --wrap hostname
set -euo pipefail

CONTROLLER_PORT=6817
NODE_PORT=6818
START_TIMEOUT=${MF_CLUSTER_TIMEOUT:-30}   # seconds to wait for the node to become idle

die() { echo "cluster.sh: $*" >&2; exit 1; }

usage() { die "usage: cluster.sh start|stop|env DIR"; }

# True when something accepts connections on 127.0.0.1:PORT.
port_answers() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# The pid in a pid file, if that process is alive and runs the expected program
# (a pid file left by a dead daemon may name an unrelated process by now).
live_pid() {
  local pidfile=$1 program=$2 pid comm
  [[ -s $pidfile ]] || return 1
  pid=$(tr -dc '0-9' <"$pidfile")
  [[ -n $pid ]] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [[ $comm == "$program" ]] || return 1
  echo "$pid"
}

# Stop one daemon: SIGTERM, up to 10 s to exit, then SIGKILL. Removes its pid file.
stop_daemon() {
  local pidfile=$1 program=$2 pid i
  if pid=$(live_pid "$pidfile" "$program"); then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      [[ -d /proc/$pid ]] || break
      sleep 0.1
    done
    if [[ -d /proc/$pid ]]; then
      echo "cluster.sh: $program (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
  fi
  rm -f "$pidfile"
}

show_logs() {
  local dir=$1 log
  for log in "$dir"/log/slurmctld.log "$dir"/log/slurmd.log "$dir"/munge/munged.log; do
    [[ -f $log ]] || continue
    echo "--- last lines of $log" >&2
    tail -n 15 "$log" >&2
  done
}

write_config() {
  local dir=$1 node_line host
  node_line=$(slurmd -C | grep '^NodeName=' | head -n 1) || die "slurmd -C printed no NodeName line"
  # No RealMemory: the loopback node's memory is not managed, so jobs must not use --mem.
  node_line=$(sed -E 's/ ?RealMemory=[^ ]*//' <<<"$node_line")
  host=$(sed -E 's/^NodeName=([^ ]+).*/\1/' <<<"$node_line")
  cat >"$dir/slurm.conf" <<EOF
# Written by tests/slurm/cluster.sh: a one-node test cluster on 127.0.0.1.
ClusterName=marginfall-loopback
SlurmctldHost=${host}(127.0.0.1)
SlurmctldPort=${CONTROLLER_PORT}
SlurmdPort=${NODE_PORT}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${dir}/munge/munge.socket
MpiDefault=pmix
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MailProg=/bin/true
# Each of the next three prevents a hang: sbatch --wait polls slowly while finished jobs are
# kept; a job whose afterok dependency failed would pend forever; so would a job asking for
# more CPUs than the node has.
MinJobAge=5
DependencyParameters=kill_invalid_depend
EnforcePartLimits=ALL
KillWait=10
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool
SlurmctldPidFile=${dir}/run/slurmctld.pid
SlurmdPidFile=${dir}/run/slurmd.pid
SlurmctldLogFile=${dir}/log/slurmctld.log
SlurmdLogFile=${dir}/log/slurmd.log
${node_line} NodeAddr=127.0.0.1
PartitionName=loopback Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
  local dir=$1 i state=""
  [[ $(id -u) -eq 0 ]] || die "must run as root (munged runs as user munge, slurmd as root)"
  local program
  for program in munged mungekey slurmctld slurmd sinfo; do
    command -v "$program" >/dev/null || [[ -x /usr/sbin/$program ]] ||
      die "$program not found: install the Debian packages slurm-wlm and munge"
  done
  id munge >/dev/null 2>&1 || die "user munge does not exist: install the Debian package munge"
  if live_pid "$dir/run/slurmctld.pid" slurmctld >/dev/null || live_pid "$dir/run/slurmd.pid" slurmd >/dev/null ||
     live_pid "$dir/munge/munged.pid" munged >/dev/null; then
    die "a cluster is already running in $dir; stop it first"
  fi
  if port_answers "$CONTROLLER_PORT" || port_answers "$NODE_PORT"; then
    die "something already answers on 127.0.0.1:${CONTROLLER_PORT} or :${NODE_PORT} (another Slurm?); not starting"
  fi

  mkdir -p "$dir"
  # munged runs as user munge and must reach DIR/munge; it refuses group- or world-writable
  # directories on the way to its files.
  chmod 0755 "$dir"
  runuser -u munge -- test -x "$dir" ||
    die "user munge cannot reach $dir: make every directory above it searchable (chmod a+x)"
  mkdir -p "$dir"/state "$dir"/spool "$dir"/run "$dir"/log
  install -d -o munge -g munge -m 0755 "$dir/munge"
  if [[ ! -s $dir/munge/munge.key ]]; then
    # A key of its own: the test cluster never touches /etc/munge.
    runuser -u munge -- /usr/sbin/mungekey --create --keyfile="$dir/munge/munge.key" ||
      die "could not create a munge key in $dir/munge"
  fi
  write_config "$dir"
  export SLURM_CONF=$dir/slurm.conf

  runuser -u munge -- /usr/sbin/munged --key-file="$dir/munge/munge.key" \
    --socket="$dir/munge/munge.socket" --pid-file="$dir/munge/munged.pid" \
    --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" ||
    { show_logs "$dir"; stop "$dir"; die "munged did not start"; }
  slurmctld -c -f "$SLURM_CONF" || { show_logs "$dir"; stop "$dir"; die "slurmctld did not start"; }
  slurmd -f "$SLURM_CONF" || { show_logs "$dir"; stop "$dir"; die "slurmd did not start"; }

  for ((i = 0; i < START_TIMEOUT * 10; i++)); do
    state=$(sinfo -h -o %T 2>/dev/null | head -n 1 || true)
    [[ $state == idle ]] && break
    sleep 0.1
  done
  if [[ $state != idle ]]; then
    show_logs "$dir"
    stop "$dir"
    die "the node did not become idle within ${START_TIMEOUT} s (sinfo says '${state:-nothing}'); daemons stopped"
  fi
  echo "cluster.sh: one-node cluster up in $dir (export SLURM_CONF=$SLURM_CONF)" >&2
}

stop() {
  local dir=$1 i
  [[ -d $dir ]] || return 0
  if [[ -f $dir/slurm.conf ]] && live_pid "$dir/run/slurmctld.pid" slurmctld >/dev/null; then
    # Cancel what is still queued or running so no slurmstepd outlives slurmd.
    export SLURM_CONF=$dir/slurm.conf
    local jobs
    jobs=$(squeue -h -o %A 2>/dev/null | tr '\n' ' ' || true)
    if [[ -n ${jobs// /} ]]; then
      # shellcheck disable=SC2086
      scancel $jobs 2>/dev/null || true
      for ((i = 0; i < 150; i++)); do
        [[ -z $(squeue -h -o %A 2>/dev/null || true) ]] && break
        sleep 0.1
      done
    fi
  fi
  stop_daemon "$dir/run/slurmd.pid" slurmd
  stop_daemon "$dir/run/slurmctld.pid" slurmctld
  stop_daemon "$dir/munge/munged.pid" munged
}

[[ $# -eq 2 ]] || usage
command=$1
dir=$(realpath -m "$2")
case $command in
  start) start "$dir" ;;
  stop) stop "$dir" ;;
  env) printf 'export SLURM_CONF=%q\n' "$dir/slurm.conf" ;;
  *) usage ;;
esac
