"""The Slurm job scripts (jobs/slurm/) on a real one-node cluster on 127.0.0.1
(tests/slurm/cluster.sh): a job submitted like a user would equals a local run bit for bit;
job arrays and afterok dependencies work and a failed part stops the merge; an array of two
sweep parts plus the merge job equals a single job of the same sweep bit for bit. The cluster is always stopped (finally, atexit, SIGTERM), and
its daemons must be gone afterwards.

Installs nothing: needs the Debian packages slurm-wlm and munge, and root."""
import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

import h5py

import mftest
from mftest import BINARY, SOURCE, check, config, differing, finish, run

CLUSTER = os.path.join(SOURCE, "tests", "slurm", "cluster.sh")
JOBS = os.path.join(SOURCE, "jobs", "slurm")
BINARY_PATH = os.path.abspath(BINARY)
TIMEOUT = 150  # seconds for any one submission to come back


def port_answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def show(title, text, lines=25):
    """Print the end of a log under a FAIL, indented, so a failure explains itself."""
    print(f"     --- {title}")
    for line in text.strip().splitlines()[-lines:]:
        print(f"     | {line}")


def parse(stdout):
    """KEY=VALUE lines printed by the submit scripts."""
    values = {}
    for line in stdout.splitlines():
        m = re.match(r"^([A-Z_0-9]+)=(.*)$", line)
        if m:
            values[m.group(1)] = m.group(2)
    return values


def alive(pid, program):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip() == program
    except OSError:
        return False


# --------------------------------------------------------------------------- preconditions
if not (shutil.which("slurmctld") or os.path.exists("/usr/sbin/slurmctld")):
    check(False, "slurmctld is installed (the suite's install script installs slurm-wlm and munge; "
                 "this test installs nothing)")
    finish()
if os.geteuid() != 0:
    check(False, "runs as root (the loopback cluster starts munged as user munge and slurmd as root)")
    finish()
busy = [port for port in (6817, 6818) if port_answers(port)]
if busy:
    check(False, f"ports 6817/6818 are free (something answers on {busy}: another Slurm? "
                 "refusing to start a test cluster)")
    finish()

work = tempfile.mkdtemp(prefix="mf_slurm_")
os.chmod(work, 0o755)  # munged runs as user munge and must reach the cluster directory inside
cluster_dir = os.path.join(work, "cluster")
pid_files = {"slurmctld": os.path.join(cluster_dir, "run", "slurmctld.pid"),
             "slurmd": os.path.join(cluster_dir, "run", "slurmd.pid"),
             "munged": os.path.join(cluster_dir, "munge", "munged.pid")}
_stopped = False


def stop_cluster():
    global _stopped
    if _stopped:
        return
    _stopped = True
    result = subprocess.run([CLUSTER, "stop", cluster_dir], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        print(f"cluster.sh stop exited {result.returncode}: {result.stderr.strip()}")


atexit.register(stop_cluster)
# ctest's timeout and Ctrl-C must still stop the daemons: turn signals into SystemExit so
# the finally below and atexit run.
for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
    signal.signal(sig, lambda number, frame: sys.exit(128 + number))

# Jobs see this environment (the submit scripts pass --export=ALL). Nothing from an
# enclosing Slurm job or the user's sbatch defaults may leak into the test cluster.
env = {k: v for k, v in os.environ.items()
       if not k.startswith(("SLURM_", "SBATCH_", "SRUN_", "SALLOC_"))}
env.update(SLURM_CONF=os.path.join(cluster_dir, "slurm.conf"), MARGINFALL=BINARY_PATH,
           NODES="1", TASKS="1", THREADS_PER_TASK="1", TIME="00:05:00", PARTITION="",
           GRACE_SECONDS="30", MERGE_TIME="00:05:00", ARRAY_PARALLEL="")


def submit(script, args, **resources):
    """Run a jobs/slurm submit script with --wait; returns (exit code, KEY=VALUE dict, stderr)."""
    job_env = dict(env, **{k: str(v) for k, v in resources.items()})
    try:
        result = subprocess.run([os.path.join(JOBS, script), "--wait"] + args, capture_output=True,
                                text=True, env=job_env, cwd=work, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return -1, {}, f"{script} did not return within {TIMEOUT} s"
    return result.returncode, parse(result.stdout), result.stderr


def sbatch(args):
    return subprocess.run(["sbatch", "--parsable"] + args, capture_output=True, text=True, env=env,
                          cwd=work, timeout=TIMEOUT)


def finished_ok(log):
    return "finished OK" in read(log)


def check_job_log(log, what, ranks, threads):
    """The job's own log, not sbatch's exit code, says whether it ran: sbatch --wait returns
    0 for a job cancelled before it ran."""
    text = read(log)
    ok = check("finished OK" in text, f"{what}: the job's log says it finished OK ({log})")
    if not ok:
        show(log, text)
    check(f"{ranks} rank(s) x {threads} thread(s)" in text and "version    marginfall" in text
          and "config     " in text and "points     " in text,
          f"{what}: the log states config, points, ranks x threads and marginfall --version")
    return ok


def same_bits(a, b, what):
    if not (os.path.exists(a) and os.path.exists(b)):
        return check(False, f"{what} (missing file: {a if not os.path.exists(a) else b})")
    diff = differing(a, b)
    return check(not diff, f"{what} (differs: {diff[:5]})")


# --------------------------------------------------------------------------- the checks
def plain_job():
    """(a) One job through submit.sh / sweep.sbatch, 2 ranks under srun --mpi=pmix."""
    out = os.path.join(work, "plain")
    code, info, err = submit("submit.sh", [config("small.yaml"), out, "--quiet"], TASKS=2)
    check(code == 0 and "JOB" in info, f"submit.sh --wait small.yaml on 2 ranks exits 0 (exit {code})"
          + (f": {err.strip()[-300:]}" if code else ""))
    if "LOG" not in info:
        return
    check("n1xr2xt1" in os.path.basename(info["OUTPUT"]),
          f"the output name records the run shape n1xr2xt1 ({os.path.basename(info['OUTPUT'])})")
    check_job_log(info["LOG"], "plain job", 2, 1)
    if os.path.exists(info["OUTPUT"]):
        with h5py.File(info["OUTPUT"], "r") as f:
            check(int(f.attrs["ranks"]) == 2, f"the job ran on 2 MPI ranks (file says {f.attrs['ranks']})")
    local = os.path.join(work, "plain-local.h5")
    result = run(["run", config("small.yaml"), "-o", local, "--quiet"], threads=1)
    check(result.returncode == 0, "the local reference run succeeds"
          + (f": {result.stderr.strip()[-200:]}" if result.returncode else ""))
    same_bits(local, info["OUTPUT"], "the Slurm job's result equals a local run bit for bit")

    # resubmit.sh on an output that was never written starts fresh (there is no checkpoint).
    again = os.path.join(work, "resubmit", "small-again.h5")
    os.makedirs(os.path.dirname(again))
    code, info, err = submit("resubmit.sh", [config("small.yaml"), again, "--quiet"], THREADS_PER_TASK=2)
    check(code == 0 and "LOG" in info, f"resubmit.sh --wait on a new output exits 0 (exit {code})"
          + (f": {err.strip()[-300:]}" if code else ""))
    if "LOG" in info:
        check_job_log(info["LOG"], "resubmitted job", 1, 2)
        same_bits(local, again, "the resubmitted job's result equals a local run bit for bit")


def plain_array():
    """Job arrays and afterok on the cluster, with plain runs (no sweep needed): task i runs
    --paths 8 --seed i; a job that depends on the whole array runs after it."""
    out = os.path.join(work, "array-plain")
    os.makedirs(out)
    script = os.path.join(out, "task.sh")
    with open(script, "w") as f:
        f.write("#!/bin/bash\n"
                "srun --mpi=pmix -n 1 \"$MARGINFALL\" run " + config("small.yaml") +
                f" -o {out}/seed$SLURM_ARRAY_TASK_ID.h5 --paths 8 --seed $SLURM_ARRAY_TASK_ID --quiet"
                " && echo \"task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_TASK_COUNT done\"\n")
    array = sbatch(["-n", "1", "-c", "1", "--array=0-1", f"--output={out}/task-%a.out", script])
    if not check(array.returncode == 0, "a job array of 2 plain runs is accepted"
                 + (f": {array.stderr.strip()}" if array.returncode else "")):
        return
    array_id = array.stdout.strip().split(";")[0]
    after = sbatch(["--wait", "-n", "1", f"--dependency=afterok:{array_id}", f"--output={out}/after.out",
                    "--wrap", "echo dependent job ran"])
    check(after.returncode == 0 and "dependent job ran" in read(f"{out}/after.out"),
          "a job with --dependency=afterok on the array runs after both tasks succeed")
    for task in (0, 1):
        log = read(f"{out}/task-{task}.out")
        if not check(f"task {task} of 2 done" in log, f"array task {task} ran (SLURM_ARRAY_TASK_COUNT=2)"):
            show(f"{out}/task-{task}.out", log)
        local = os.path.join(out, f"local{task}.h5")
        run(["run", config("small.yaml"), "-o", local, "--paths", "8", "--seed", str(task), "--quiet"])
        same_bits(local, f"{out}/seed{task}.h5", f"array task {task} (--seed {task}) equals a local run")


def failed_part():
    """A part that fails must stop the merge; sbatch --wait still returns 0 for the cancelled
    merge, so submit-sweep.sh --wait must judge by the logs."""
    out = os.path.join(work, "broken")
    os.makedirs(out)
    broken = os.path.join(out, "broken.yaml")
    with open(config("small.yaml")) as src, open(broken, "w") as dst:
        dst.write(src.read().replace("max_leverage: 100", "max_leverage: 0.5"))
    code, info, err = submit("submit-sweep.sh", [broken, "2", out, "--quiet"])
    check(code != 0, f"submit-sweep.sh --wait reports failure when the parts fail (exit {code})")
    if "MERGE_LOG" not in info:
        check(False, f"submit-sweep.sh printed its job ids {err.strip()[-300:]}")
        return
    for part in (0, 1):
        text = read(info.get(f"PART_LOG_{part}", ""))
        if not check("FAILED with exit code" in text, f"failing part {part}: its log says FAILED"):
            show(info.get(f"PART_LOG_{part}", "?"), text)
    check(not os.path.exists(info["MERGE_LOG"]) and not os.path.exists(info["OUTPUT"]),
          "the merge job never ran after a failed part (cancelled: no log, no merged file)")


def sweep_parts():
    """(b) An array of 2 parts plus the merge job equals a single job of the same sweep."""
    sweep = config("sweep-small.yaml")
    if not check(os.path.exists(sweep), "tests/configs/sweep-small.yaml exists"):
        return
    out = os.path.join(work, "sweep")
    code, info, err = submit("submit-sweep.sh", [sweep, "2", out, "--quiet"], TASKS=1, THREADS_PER_TASK=1)
    check(code == 0, f"submit-sweep.sh --wait sweep-small.yaml 2 exits 0 (exit {code})"
          + (f": {err.strip()[-300:]}" if code else ""))
    if "MERGE_LOG" not in info:
        return
    for part in (0, 1):
        log = info[f"PART_LOG_{part}"]
        check_job_log(log, f"sweep part {part}", 1, 1)
        check(f"--points-part {part}/2" in read(log), f"sweep part {part} ran --points-part {part}/2")
        check(os.path.exists(info[f"PART_{part}"]) and f"part{part}of2" in info[f"PART_{part}"],
              f"part {part} wrote its own file named after the part ({os.path.basename(info[f'PART_{part}'])})")
    check_job_log(info["MERGE_LOG"], "merge", 1, 1)

    single_dir = os.path.join(work, "sweep-single")
    code, single, err = submit("submit.sh", [sweep, single_dir, "--quiet"], TASKS=2)
    check(code == 0, f"the whole sweep as one job (submit.sh, 2 ranks) exits 0 (exit {code})"
          + (f": {err.strip()[-300:]}" if code else ""))
    if "LOG" in single:
        check_job_log(single["LOG"], "single sweep job", 2, 1)
        same_bits(single["OUTPUT"], info["OUTPUT"], "array of 2 parts + merge equals one job of the sweep bit for bit")
    local = os.path.join(work, "sweep-local.h5")
    result = run(["run", sweep, "-o", local, "--quiet"], threads=2)
    if check(result.returncode == 0, "a local run of the sweep succeeds"
             + (f": {result.stderr.strip()[-200:]}" if result.returncode else "")):
        same_bits(local, info["OUTPUT"], "the merged sweep equals a local run of the sweep bit for bit")

    # A part lost to pre-emption: resubmit.sh --parts reruns only the missing part, then the merge.
    if not all(os.path.exists(info[key]) for key in ("PART_0", "PART_1", "OUTPUT")):
        return
    os.remove(info["PART_1"])
    os.remove(info["OUTPUT"])
    code, again, err = submit("resubmit.sh", ["--parts", "2", sweep, info["OUTPUT"], "--quiet"])
    check(code == 0, f"resubmit.sh --parts 2 reruns the missing part and the merge (exit {code})"
          + (f": {err.strip()[-300:]}" if code else ""))
    check("PART_LOG_1" in again and "PART_LOG_0" not in again,
          f"only the missing part 1 was resubmitted ({sorted(k for k in again if k.startswith('PART_LOG'))})")
    if "PART_LOG_1" in again:
        check_job_log(again["PART_LOG_1"], "resubmitted part 1", 1, 1)
    if "LOG" in single:
        same_bits(single["OUTPUT"], info["OUTPUT"], "the merge after resubmitting a part equals one job bit for bit")


started = False
pids = {}
try:
    result = subprocess.run([CLUSTER, "start", cluster_dir], capture_output=True, text=True, timeout=120)
    started = check(result.returncode == 0, "the loopback cluster starts and its node is idle"
                    + (f": {result.stderr.strip()[-600:]}" if result.returncode else ""))
    for program, path in pid_files.items():
        text = read(path).strip()
        if text.isdigit():
            pids[program] = int(text)
    if started:
        for name, step in [("plain job", plain_job), ("plain job array", plain_array),
                           ("failed part", failed_part)]:
            try:
                step()
            except Exception as error:  # a broken step must not skip the others or the stop
                check(False, f"{name}: unexpected {error!r}")
        try:
            sweep_parts()
        except Exception as error:
            check(False, f"sweep parts: unexpected {error!r}")
finally:
    stop_cluster()

# (c) The daemons are gone: the processes named by the pid files no longer run.
if started:
    check(len(pids) == 3, f"all three pid files were written ({sorted(pids)})")
for program, pid in sorted(pids.items()):
    check(not alive(pid, program), f"{program} (pid {pid}) is stopped after cluster.sh stop")
check(not port_answers(6817) and not port_answers(6818), "nothing answers on ports 6817/6818 afterwards")

if mftest._failed:
    print(f"kept {work} (cluster config, daemon logs and job logs) for inspection")
else:
    mftest.cleanup(work)
finish()
