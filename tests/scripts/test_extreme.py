"""Extreme but valid inputs (issue 8): every run is either refused before any work (exit 2,
the message names the key and its bound), or runs to a finite result (every per-path value
and profile finite, the probabilities agree with the per-path table), or stops with the
numeric error (exit 9) naming the path and the step. Never NaN with exit 0."""
import os
import signal
import subprocess
import time

import h5py
import numpy as np

import mftest
from mftest import check, cleanup, config, finish, run, tmpdir

work = tmpdir()
SMALL = config("small.yaml")


def output_of(name):
    outdir = os.path.join(work, "out_" + name)
    os.mkdir(outdir)
    return outdir, os.path.join(outdir, "result.h5")


def finite_file(name, path):
    """Every per-path value and profile finite; metrics finite wherever they have samples;
    the probabilities equal the per-path shares."""
    with h5py.File(path, "r") as f:
        point = f["point_0"]
        bad = []
        for group in ("paths", "profile"):
            for key, dataset in point[group].items():
                values = np.asarray(dataset[()])
                if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
                    bad.append(f"{group}/{key}")
        for key, metric in point["metrics"].items():
            if int(np.asarray(metric["sample_count"][()])) == 0:
                continue
            for field in ("sample_mean", "sample_min", "sample_max", "quantiles", "expected_shortfall"):
                if not np.all(np.isfinite(np.asarray(metric[field][()]))):
                    bad.append(f"metrics/{key}/{field}")
        check(not bad, f"{name}: every dataset is finite {bad[:5]}")
        rows = point["paths"]
        n = len(rows["bad_debt"][()])
        prob_bad = float(np.asarray(point["prob_bad_debt"][()]))
        prob_short = float(np.asarray(point["prob_fund_shortfall"][()]))
        check(prob_bad == np.count_nonzero(rows["bad_debt"][()] > 0) / n,
              f"{name}: P(bad debt) {prob_bad} is the share of paths with bad debt")
        check(prob_short == np.count_nonzero(rows["uncovered_deficit"][()] > 0) / n,
              f"{name}: P(fund shortfall) {prob_short} is the share of paths with a deficit")
        drawdown = rows["mark_drawdown"][()]
        # (1 - P / peak rounds to 1 once the mark falls 1e16-fold; the engine itself checks
        # that every mark stays > 0.)
        check(np.all((drawdown >= 0) & (drawdown <= 1)),
              f"{name}: mark drawdowns within [0, 1] (max {drawdown.max():.9f})")
        return rows["bad_debt"][()]


def expect_refused(name, sets, key, bound):
    outdir, output = output_of(name)
    args = ["run", SMALL, "--paths", "8", "-o", output, "--quiet"]
    for item in sets:
        args += ["--set", item]
    result = run(args)
    message = result.stderr.strip()
    check(result.returncode == 2, f"{name}: refused with exit 2 (got {result.returncode}): "
          f"{message[:300]}")
    check(key in message and bound in message, f"{name}: the message names {key} and {bound}")
    check(os.listdir(outdir) == [], f"{name}: nothing written")


def expect_outcome(name, sets, paths=4):
    """Runs to a finite result, or stops with exit 9 naming path and step: never NaN."""
    outdir, output = output_of(name)
    args = ["run", SMALL, "--paths", str(paths), "-o", output, "--quiet",
            "--set", "output.paths=true"]
    for item in sets:
        args += ["--set", item]
    start = time.time()
    result = run(args, threads=2)
    elapsed = time.time() - start
    message = result.stderr.strip()
    if result.returncode == 0:
        check(True, f"{name}: ran to the end in {elapsed:.1f} s")
        return "finite", finite_file(name, output)
    check(result.returncode == 9, f"{name}: exit 0 or 9 (got {result.returncode}): {message[:300]}")
    check("numeric error: path " in message and ", step " in message,
          f"{name}: the message names the path and the step: {message[:200]}")
    check(not os.path.exists(output), f"{name}: no result file after the numeric error")
    return "stopped", None


# The case: a $10 BTC book. It used to end with mark 0, 6 of 8 paths NaN and
# "probability of bad debt 25%"; the bounded impact keeps it finite.
kind, bad_debt = expect_outcome("thin_book", ["venue.markets.BTC.depth_usd=10"], paths=8)
check(kind == "finite", "thin_book: a $10 book runs to a finite result")
if bad_debt is not None:
    check(np.count_nonzero(bad_debt > 0) >= 6, f"thin_book: the thin book leaves bad debt on most "
          f"paths ({np.count_nonzero(bad_debt > 0)} of 8)")

# Huge volatility (the cap, 10000%) at 1-minute steps: finite.
kind, _ = expect_outcome("huge_volatility", ["market.assets.0.volatility=100",
                                             "market.assets.1.volatility=100"])
check(kind == "finite", "huge_volatility: finite at 1-minute steps")
# The same with day-long steps: the index leaves double range; the run stops, naming where.
kind, _ = expect_outcome("huge_volatility_daily", ["market.assets.0.volatility=100",
                                                   "run.dt_seconds=86400"])
check(kind == "stopped", "huge_volatility_daily: stops with the numeric error")

# Extreme depth feedback: the book all but vanishes after a tiny drawdown.
kind, _ = expect_outcome("extreme_feedback", ["market.depth_feedback.beta=1000",
                                              "market.depth_feedback.floor=1e-300"])
check(kind == "finite", "extreme_feedback: finite")

# The largest allowed fund and stress shocks at the bounds, both ways.
kind, _ = expect_outcome("fund_at_cap", ["venue.insurance_fund_usd=1e15"])
check(kind == "finite", "fund_at_cap: a 1e15 fund runs finite")
for sign, value in (("up", "20"), ("down", "-20")):
    expect_outcome(f"stress_{sign}", [f"market.stress.0.log_return={value}"])

# A replay whose price ratios overflow (1e300 / 1e-300): the index is infinite from step 1.
replay = os.path.join(work, "overflow.csv")
with open(replay, "w") as f:
    f.write("close\n1e-300\n1e-300\n" + "1e300\n" * 9)
# (A replay reader that refuses such a file outright, exit 2 or 3, is as good.)
outdir, output = output_of("replay_overflow")
result = run(["run", SMALL, "--paths", "4", "-o", output, "--quiet", "--set", "run.steps=10",
              "--set", "market.stress.0.start_step=2", "--set", "market.assets.0.replay.format=csv",
              "--set", f"market.assets.0.replay.file={replay}"])
message = result.stderr.strip()
check(result.returncode in (2, 3, 9), f"replay_overflow: refused or stopped (exit "
      f"{result.returncode}): {message[:300]}")
if result.returncode == 9:
    check("path 0, step 1:" in message, "replay_overflow: stops at path 0, step 1")
check(not os.path.exists(output), "replay_overflow: no result file")

# Jump intensity at the cap, day-long steps: bounded work per step (a few hundred jumps).
start = time.time()
expect_outcome("jumps_at_cap", ["market.jumps.intensity_per_year=1e5", "run.dt_seconds=86400",
                                "run.steps=40", "market.stress.0.start_step=10"], paths=4)
check(time.time() - start < 60, "jumps_at_cap: the Poisson sampler stays cheap")

# Out of bounds: refused before any work, naming the key and the bound.
expect_refused("jumps_1e15", ["market.jumps.intensity_per_year=1e15"],
               "market.jumps.intensity_per_year", "1e5")
expect_refused("stress_1000", ["market.stress.0.log_return=1000"],
               "market.stress[0].log_return", "[-20, 20]")
expect_refused("fund_1e308", ["venue.insurance_fund_usd=1e308"], "venue.insurance_fund_usd",
               "1e15")
expect_refused("volatility_1e3", ["market.assets.0.volatility=1000"],
               "market.assets[0].volatility", "[0, 100]")
expect_refused("steps_1e7", ["run.steps=10000000"], "run.steps", "1000000")
expect_refused("dt_year", ["run.dt_seconds=31557600"], "run.dt_seconds", "86400")
expect_refused("rounds_1e6", ["venue.max_rounds=1000000"], "venue.max_rounds", "10000")
expect_refused("accounts_2e9", ["population.accounts=2000000000"], "population.accounts", "1e9")
expect_refused("feedback_1e6", ["market.depth_feedback.beta=1e6"], "market.depth_feedback.beta",
               "1000")

# SIGTERM is honoured within a step, not only between blocks: one block of 4 paths x 400,000
# steps (about 15 s of work in a release build with the full-sweep margin kernel) stops at
# once, saving none of its paths.
outdir, output = output_of("sigterm")
env = dict(os.environ, OMP_NUM_THREADS="1")
process = subprocess.Popen([mftest.BINARY, "run", SMALL, "--paths", "4", "-o", output,
                            "--set", "run.steps=400000", "--set", "run.block_paths=4",
                            "--set", "run.margin_kernel=reference"],
                           stderr=subprocess.PIPE, text=True, env=env)
process.stderr.readline()  # the start line: the SIGTERM handler is installed right after it
time.sleep(1.0)
signalled = time.time()
process.send_signal(signal.SIGTERM)
_, stderr = process.communicate(timeout=300)
waited = time.time() - signalled
check(process.returncode == 8, f"sigterm: exit 8 (got {process.returncode}): {stderr.strip()[-200:]}")
check("0 of 1 blocks" in stderr, "sigterm: the block stopped mid-way is not saved (resume redoes it)")
check(waited < 3, f"sigterm: the run stopped {waited:.2f} s after the signal, within a step")

cleanup(work)
finish()
