#!/usr/bin/env python3
"""bench_scale: end-to-end throughput of `marginfall run` as the book grows.

For each account count, market (calm: configs/default.yaml as it is; crash: the same with a
-10% shock over 30 steps at step 600; calm-book: no jumps, no GARCH, leverage sigma 0.3) and
margin kernel, it runs the default scenario on one
rank and prints
  - the fixed cost (population, event index, start-up: a 1-path, 1-step run) and peak memory,
  - the simulation time beyond it, path-steps per second and account-path-steps per second,
  - the exact account checks the event-driven kernel did per path-step (--set
    run.margin_kernel=events only; from the run's verbose summary when available).
It prints figures and judges nothing (no timed assertions anywhere in this project);
docs/performance.md records one run with its command.

  bench/bench_scale.py [--binary build/release/marginfall] [--accounts 1e4,1e5,1e6,1e7]
                       [--kernels events,filtered] [--markets calm,crash,calm-book] [--threads 1]
                       [--path-steps 2e6]
"""
import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

import h5py

SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRASH = "market.stress=[{asset: all, start_step: 600, steps: 30, log_return: -0.10}]"
# A calm book: no jumps, no GARCH, narrower leverage (0.05% of accounts liquidated a day).
CALM_BOOK = ["--set", "market.jumps.intensity_per_year=0", "--set", "market.garch.enabled=false",
             "--set", "population.leverage.sigma=0.3"]


def run(binary, args, threads, workdir):
    out = os.path.join(workdir, "bench.h5")
    if os.path.exists(out):
        os.remove(out)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OMP_PROC_BIND="false")
    cmd = ["/usr/bin/time", "-f", "%e %M", binary, "run",
           os.path.join(SOURCE, "configs", "default.yaml"), "-o", out, "--quiet"] + args
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"bench_scale: {' '.join(cmd)} failed:\n{result.stderr[-2000:]}")
    seconds, kib = result.stderr.strip().splitlines()[-1].split()
    with h5py.File(out, "r") as f:
        liquidated = float(f["point_0/metrics/liquidated_accounts/sample_mean"][()])
    return wall, int(kib) * 1024, liquidated


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.path.join(SOURCE, "build", "release", "marginfall"))
    parser.add_argument("--accounts", default="1e4,1e5,1e6,1e7")
    parser.add_argument("--kernels", default="events,filtered")
    parser.add_argument("--markets", default="calm,crash")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=1440)
    parser.add_argument("--path-steps", type=float, default=2e6,
                        help="account-independent budget: paths = clamp(path-steps x 1e4 / "
                             "accounts / steps, 8, 400) (default 2e6)")
    o = parser.parse_args()
    revision = subprocess.run(["git", "-C", SOURCE, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
    cpu = ""
    if os.path.exists("/proc/cpuinfo"):
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    print(f"bench_scale: marginfall {revision}, {os.cpu_count()} CPUs ({cpu}), "
          f"{platform.system()} {platform.release()}")
    print(f"command: {' '.join(sys.argv)}")
    print(f"OMP_NUM_THREADS={o.threads}, one rank, configs/default.yaml, {o.steps} steps")
    print()
    header = (f"{'accounts':>9} {'market':>9} {'kernel':>9} {'paths':>6} {'fixed s':>8} "
              f"{'sim s':>8} {'path-steps/s':>13} {'acct-path-steps/s':>18} {'peak MB':>8} "
              f"{'B/account':>10} {'liq/path':>10} {'us/liq':>9}")
    print(header)
    print("-" * len(header))
    workdir = tempfile.mkdtemp(prefix="mf_bench_scale_")
    try:
        for accounts in [int(float(a)) for a in o.accounts.split(",")]:
            paths = int(min(400, max(8, o.path_steps * 1e4 / accounts / o.steps)))
            base = ["--set", f"population.accounts={accounts}", "--set", f"run.steps={o.steps}"]
            fixed, fixed_bytes, _ = run(o.binary, ["--set", f"population.accounts={accounts}",
                                                "--paths", "1", "--set", "run.steps=1"],
                                     o.threads, workdir)
            for market in o.markets.split(","):
                extra = {"crash": ["--set", CRASH], "calm-book": CALM_BOOK}.get(market, [])
                for kernel in o.kernels.split(","):
                    wall, peak, liquidated = run(o.binary, base + extra + [
                        "--paths", str(paths), "--set", f"run.margin_kernel={kernel}"],
                        o.threads, workdir)
                    sim = max(wall - fixed, 1e-9)
                    path_steps = paths * o.steps / sim
                    per_liquidation = (1e6 * sim / paths / liquidated if liquidated > 0
                                       else float("nan"))
                    print(f"{accounts:>9} {market:>9} {kernel:>9} {paths:>6} {fixed:>8.2f} "
                          f"{sim:>8.2f} {path_steps:>13.4g} {path_steps * accounts:>18.4g} "
                          f"{peak / 2**20:>8.0f} {fixed_bytes / accounts:>10.0f} "
                          f"{liquidated:>10.0f} {per_liquidation:>9.2f}", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print("fixed s: a 1-path, 1-step run (population, event index, start-up, output); sim s: the")
    print("rest. Crash: a -10% shock on every asset over steps 600-629. Calm-book: no jumps, no")
    print("GARCH, population.leverage.sigma 0.3. liq/path: accounts liquidated per path; us/liq:")
    print("sim time per path over them (all of a path's cost charged to its liquidations).")
    print("B/account: peak memory of the 1-path run over the accounts (store, index, states).")


if __name__ == "__main__":
    main()
