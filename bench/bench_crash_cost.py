#!/usr/bin/env python3
"""bench_crash_cost: what a crashing path costs beyond its liquidations (event-driven checks).

A crash liquidates far more than a calm day, so comparing their times says little. This program
separates the two. For each market (calm: configs/default.yaml with no jumps, no GARCH and
population.leverage.sigma 0.3; crash: the same with a -10% shock over 30 steps at step 600) it
runs two books of the same size:
  - a low-leverage book (median 1.2x, sigma 0.05) that nothing liquidates, even in the crash:
    its per-path time is the step's cost without liquidations (index, cursors, recording);
  - the calm book itself: its extra time over the low-leverage book, divided by the accounts
    it liquidated, is the cost of one liquidation (its checks, the engine, settlement).
Each time is (T(P paths) - T(1 path)) / (P - 1), one rank, one thread; the fixed cost (population,
event index, start-up) cancels. It prints the figures and judges nothing (docs/performance.md
records one run with its command).

  bench/bench_crash_cost.py [--binary build/release/marginfall] [--accounts 1e6] [--paths 129]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import h5py

SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CALM = ["--set", "market.jumps.intensity_per_year=0", "--set", "market.garch.enabled=false",
        "--set", "population.leverage.sigma=0.3"]
CRASH = ["--set", "market.stress=[{asset: all, start_step: 600, steps: 30, log_return: -0.10}]"]
LOW_LEVERAGE = ["--set", "population.leverage.median=1.2", "--set", "population.leverage.sigma=0.05"]


def run(binary, args, paths, workdir):
    out = os.path.join(workdir, "crash_cost.h5")
    if os.path.exists(out):
        os.remove(out)
    env = dict(os.environ, OMP_NUM_THREADS="1", OMP_PROC_BIND="false")
    cmd = [binary, "run", os.path.join(SOURCE, "configs", "default.yaml"), "-o", out, "--quiet",
           "--paths", str(paths)] + args
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"bench_crash_cost: {' '.join(cmd)} failed:\n{result.stderr[-2000:]}")
    with h5py.File(out, "r") as f:
        liquidated = float(f["point_0/metrics/liquidated_accounts/sample_mean"][()])
    return wall, liquidated


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.path.join(SOURCE, "build", "release", "marginfall"))
    parser.add_argument("--accounts", default="1e6")
    parser.add_argument("--paths", type=int, default=129)
    o = parser.parse_args()
    accounts = int(float(o.accounts))
    revision = subprocess.run(["git", "-C", SOURCE, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
    print(f"bench_crash_cost: marginfall {revision}, {accounts} accounts, {o.paths} paths, "
          f"1 rank x 1 thread, run.margin_kernel events")
    print(f"command: {' '.join(sys.argv)}")
    print()
    size = ["--set", f"population.accounts={accounts}"]
    workdir = tempfile.mkdtemp(prefix="mf_bench_crash_")
    per_path = {}
    print(f"{'market':>6} {'book':>13} {'ms/path':>9} {'liquidated/path':>16}")
    for market, extra in (("calm", []), ("crash", CRASH)):
        for book, overrides in (("low-leverage", LOW_LEVERAGE), ("calm book", [])):
            args = size + CALM + extra + overrides
            one, _ = run(o.binary, args, 1, workdir)
            many, liquidated = run(o.binary, args, o.paths, workdir)
            ms = 1000 * (many - one) / (o.paths - 1)
            per_path[(market, book)] = (ms, liquidated)
            print(f"{market:>6} {book:>13} {ms:9.2f} {liquidated:16.1f}")
    print()
    base_calm = per_path[("calm", "low-leverage")][0]
    base_crash = per_path[("crash", "low-leverage")][0]
    print(f"without liquidations: crash {base_crash:.2f} ms/path, calm {base_calm:.2f} ms/path, "
          f"ratio {base_crash / base_calm:.2f}")
    for market, base in (("calm", base_calm), ("crash", base_crash)):
        ms, liquidated = per_path[(market, "calm book")]
        if liquidated > 0:
            print(f"{market}: {1000 * (ms - base) / liquidated:.2f} us per liquidated account "
                  f"({liquidated:.0f} per path)")
    os.remove(os.path.join(workdir, "crash_cost.h5"))
    os.rmdir(workdir)


if __name__ == "__main__":
    main()
