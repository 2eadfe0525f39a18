"""Sweeps: common random numbers, splitting a sweep into parts and merging them back bit for
bit, refusing bad sweeps and bad merges, and checkpoint/restart after SIGKILL and SIGTERM."""
import os
import signal
import subprocess
import time

import h5py
import numpy as np

from mftest import (BINARY, MPIEXEC, SANITIZED, check, cleanup, config, differing, digest, finish, run,
                    tmpdir)

work = tmpdir()
sweep = config("sweep-small.yaml")


def out(name):
    return os.path.join(work, name)


# --- one job for the whole sweep ------------------------------------------------------------
whole = out("whole.h5")
result = run(["run", sweep, "-o", whole], threads=2)
check(result.returncode == 0, f"sweep runs: {result.stderr[-300:]}")
check("point" in result.stdout and "max_leverage=20" in result.stdout, "sweep summary lists points")
with h5py.File(whole, "r") as f:
    check(int(f.attrs["points"]) == 6, "6 points")
    check(sorted(k for k in f.keys() if k.startswith("point_")) == [f"point_{i}" for i in range(6)],
          "one group per point")
    leverage = f["sweep/venue.max_leverage"][()]
    depth = f["sweep/venue.markets.BTC.depth_usd"][()]
    check(list(leverage) == [20, 20, 50, 50, 100, 100] and list(depth) == [1e6, 4e6] * 3,
          "sweep table in product order, last key fastest")
    check(float(f["point_3"].attrs["venue.max_leverage"]) == 50.0, "point attributes carry parameters")
    means = [f[f"point_{i}/metrics/liquidated_notional/sample_mean"][()] for i in range(6)]
    check(means[4] >= means[0], "higher leverage cap liquidates at least as much (same noise)")

result = run(["info", whole])
check(result.returncode == 0 and "sweep: 6 points" in result.stdout, "info lists the sweep's points")

# --- parts and merge --------------------------------------------------------------------------
parts = []
for i in range(3):
    part = out(f"part{i}.h5")
    result = run(["run", sweep, "-o", part, "--points-part", f"{i}/3", "--quiet"], threads=1)
    check(result.returncode == 0, f"part {i}/3 runs")
    parts.append(part)
single = out("single.h5")
result = run(["run", sweep, "-o", single, "--points", "4", "--quiet"], ranks=2)
check(result.returncode == 0, "--points 4 on 2 ranks runs")
merged = out("merged.h5")
result = run(["merge", merged] + parts)
check(result.returncode == 0, f"merge succeeds: {result.stderr[-300:]}")
if result.returncode == 0:
    diff = differing(whole, merged)
    check(not diff, f"merged parts equal the single job bit for bit (differs: {diff[:5]})")
    with h5py.File(whole, "r") as a, h5py.File(merged, "r") as b:
        whole_digest = a.attrs["verification_digest"]
        check(len(whole_digest) == 16 and whole_digest == b.attrs["verification_digest"],
              f"merged file carries the single job's verification digest {whole_digest}")
        check(len({a[f"point_{i}"].attrs["verification_digest"] for i in range(6)}) == 6,
              "every point has its own digest")
with h5py.File(single, "r") as f:
    check(list(f.attrs["points_in_file"]) == [4], "--points 4 holds point 4 only")

def refused(args, code, needle, what):
    target = args[1]
    result = run(args)
    check(result.returncode == code and needle in result.stderr,
          f"{what}: exit {result.returncode} (want {code}), message {result.stderr.strip()[:200]!r}")
    check(not os.path.exists(target), f"{what}: nothing written")

refused(["merge", out("overlap.h5"), parts[0], parts[0].replace("part0", "part0"), parts[1]], 3,
        "cannot merge", "the same part twice")
refused(["merge", out("gap.h5"), parts[0], parts[2]], 3, "--allow-gaps", "a gap")
result = run(["merge", out("gap_ok.h5"), parts[0], parts[2], "--allow-gaps"])
check(result.returncode == 0, "--allow-gaps merges a gappy set")
other_seed = out("other_seed.h5")
run(["run", sweep, "-o", other_seed, "--points-part", "1/3", "--seed", "99", "--quiet"])
refused(["merge", out("mismatch.h5"), parts[0], other_seed, parts[2]], 3, "seed", "another seed")
overlap = out("overlap_part.h5")
run(["run", sweep, "-o", overlap, "--points", "1:3", "--quiet"])
refused(["merge", out("overlap2.h5"), parts[0], overlap, parts[2]], 3, "in both", "overlapping parts")

# --- common random numbers --------------------------------------------------------------------
crn_config = out("crn.yaml")
# The default market on a small book with a -5% shock (as tests/configs/sanity.yaml), two
# neighbouring BTC depths.
with open(crn_config, "w") as f:
    f.write("""run: {paths: 48, steps: 360, block_paths: 8, batch_paths: 8}
market:
  stress:
    - {asset: all, start_step: 100, steps: 10, log_return: -0.05}
population: {accounts: 2000}
output: {paths: true}
sweep:
  parameters:
    - key: venue.markets.BTC.depth_usd
      values: [2.0e7, 2.4e7]
""")
crn = out("crn.h5")
independent = out("independent.h5")
check(run(["run", crn_config, "-o", crn, "--quiet"], threads=2).returncode == 0, "CRN sweep runs")
check(run(["run", crn_config, "-o", independent, "--quiet", "--seed", "1234"], threads=2).returncode == 0,
      "the same sweep with another seed runs")
with h5py.File(crn, "r") as a, h5py.File(independent, "r") as b:
    la = a["point_0/paths/liquidated_notional"][()]
    lb = a["point_1/paths/liquidated_notional"][()]
    lb_independent = b["point_1/paths/liquidated_notional"][()]
n = len(la)
se_crn = np.std(la - lb, ddof=1) / np.sqrt(n)
se_independent = np.sqrt(np.var(la, ddof=1) / n + np.var(lb_independent, ddof=1) / n)
check(se_crn < 0.25 * se_independent,
      f"common random numbers: SE of the difference {se_crn:.4g} vs {se_independent:.4g} with "
      f"independent streams")

# --- bad sweeps are refused before any work ----------------------------------------------------
def bad_sweep(name, replace_from, replace_to, needle):
    path = out(name + ".yaml")
    with open(sweep) as f:
        text = f.read()
    assert replace_from in text, replace_from
    with open(path, "w") as f:
        f.write(text.replace(replace_from, replace_to))
    target = out(name + ".h5")
    result = run(["run", path, "-o", target, "--quiet"])
    check(result.returncode == 2 and name + ".yaml:" in result.stderr and needle in result.stderr,
          f"bad sweep {name}: exit {result.returncode}, {result.stderr.strip()[:200]!r}")
    check(not os.path.exists(target), f"bad sweep {name}: nothing written")

bad_sweep("sweep_unknown_key", "key: venue.max_leverage", "key: venue.max_leverag", "max_leverag")
bad_sweep("sweep_empty", "values: [20, 50, 100]", "values: []", "values")
bad_sweep("sweep_type", "values: [20, 50, 100]", "values: [20, lots, 100]", "max_leverage")
bad_sweep("sweep_typo", "log: {start: 1.0e6, stop: 4.0e6, num: 2}",
          "log: {start: 1.0e6, stop: 4.0e6, nun: 2}", "nun")
bad_sweep("sweep_range", "log: {start: 1.0e6, stop: 4.0e6, num: 2}",
          "log: {start: 0, stop: 4.0e6, num: 2}", "start")
path = out("sweep_huge.yaml")
with open(sweep) as f:
    text = f.read()
with open(path, "w") as f:
    f.write(text.replace("  paths: 16\n", "  paths: 200000000\n").replace("  block_paths: 4\n", "  block_paths: 100000\n"))
result = run(["run", path, "-o", out("huge.h5"), "--quiet"])
check(result.returncode == 2 and "split the sweep" in result.stderr,
      f"a sweep too large for memory is refused: {result.stderr.strip()[:200]!r}")
check(not os.path.exists(out("huge.h5")), "too large: nothing written")

# --- checkpoint and restart ---------------------------------------------------------------------
long_config = out("long.yaml")
with open(sweep) as f:
    text = f.read()
with open(long_config, "w") as f:
    # The full-sweep margin kernel: event-driven checks would finish before the first checkpoint.
    f.write(text.replace("  paths: 16\n", "  paths: 128\n  margin_kernel: reference\n")
            .replace("  steps: 240\n", "  steps: 480\n"))
reference = out("uninterrupted.h5")
check(run(["run", long_config, "-o", reference, "--quiet"], threads=2).returncode == 0,
      "uninterrupted long sweep runs")


def start_run(target):
    env = dict(os.environ, OMP_NUM_THREADS="2")
    return subprocess.Popen([BINARY, "run", long_config, "-o", target, "--quiet",
                             "--checkpoint-interval", "0.2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def wait_for_checkpoint(target, process, timeout=120):
    directory = target + ".checkpoint"
    deadline = time.time() + timeout
    while time.time() < deadline and process.poll() is None:
        if os.path.isdir(directory) and any(n.endswith(".ckpt") for n in os.listdir(directory)):
            return True
        time.sleep(0.05)
    return False


for how in ("SIGKILL", "SIGTERM"):
    target = out(f"killed_{how}.h5")
    process = start_run(target)
    got = wait_for_checkpoint(target, process)
    check(got, f"{how}: a checkpoint appears while running")
    process.send_signal(signal.SIGKILL if how == "SIGKILL" else signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    if how == "SIGTERM":
        check(process.returncode == 8 and "--resume" in stderr,
              f"SIGTERM: clean exit 8 naming --resume (exit {process.returncode}: {stderr.strip()[-200:]!r})")
    else:
        check(process.returncode == -signal.SIGKILL, "SIGKILL: killed")
    check(not os.path.exists(target), f"{how}: no partial result file")
    refused_again = run(["run", long_config, "-o", target, "--quiet"])
    check(refused_again.returncode == 4 and "--resume" in refused_again.stderr,
          f"{how}: a rerun without --resume is refused and points at --resume")
    resumed = run(["run", long_config, "-o", target, "--resume"], threads=2)
    check(resumed.returncode == 0 and "restored" in resumed.stderr,
          f"{how}: --resume completes from the checkpoint ({resumed.stderr.strip()[-200:]!r})")
    if resumed.returncode == 0:
        diff = differing(reference, target)
        check(not diff, f"{how}: resumed result equals the uninterrupted one bit for bit ({diff[:5]})")
        check(not os.path.exists(target + ".checkpoint"), f"{how}: checkpoint removed when done")
    again = run(["run", long_config, "-o", target, "--resume", "--quiet"])
    check(again.returncode == 0 and "complete" in again.stdout,
          f"{how}: --resume on a finished run is a no-op (exit {again.returncode}: "
          f"{again.stdout.strip()[-200:]!r} {again.stderr.strip()[-300:]!r})")

# Two ranks stopped by SIGTERM through mpiexec both checkpoint; three ranks resume them.
target = out("ranks.h5")
env = dict(os.environ, OMP_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
           OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
process = subprocess.Popen([MPIEXEC, "-n", "2", "--oversubscribe", "--bind-to", "none", BINARY,
                            "run", long_config, "-o", target, "--quiet",
                            "--checkpoint-interval", "0.2"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
if check(wait_for_checkpoint(target, process), "2 ranks: a checkpoint appears"):
    process.send_signal(signal.SIGTERM)
stdout, stderr = process.communicate(timeout=120)
check("--resume" in stderr or process.returncode == 0,
      f"2 ranks: SIGTERM through mpiexec stops the run with a checkpoint ({stderr.strip()[-200:]!r})")
resumed = run(["run", long_config, "-o", target, "--resume", "--quiet"], ranks=3)
check(resumed.returncode == 0, f"3 ranks resume what 2 ranks saved ({resumed.stderr.strip()[-200:]!r})")
if resumed.returncode == 0:
    diff = differing(reference, target)
    check(not diff, f"resumed on another rank count: bit for bit ({diff[:5]})")

# A checkpoint from another configuration is refused.
target = out("foreign.h5")
process = start_run(target)
wait_for_checkpoint(target, process)
process.send_signal(signal.SIGTERM)
process.communicate(timeout=120)
result = run(["run", long_config, "-o", target, "--resume", "--quiet", "--seed", "5"])
check(result.returncode == 3 and "different configuration" in result.stderr,
      f"a checkpoint of another config is refused ({result.stderr.strip()[:200]!r})")

cleanup(work)
finish()
