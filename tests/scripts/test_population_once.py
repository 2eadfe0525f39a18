"""A sweep builds a population once for all the points that would draw the same one, and
again only when a key the generator reads changes (src/run/run.c, population_key); reusing it
changes nothing in the results."""
import os
import re

import h5py
import numpy as np

from mftest import check, cleanup, config, finish, run, tmpdir

work = tmpdir()
small = config("small.yaml")


def builds(stderr):
    match = re.search(r"population: built (\d+) times? for (\d+) points?", stderr)
    return (int(match.group(1)), int(match.group(2))) if match else None


def sweep_args(parameters):
    text = "{mode: product, parameters: [" + ", ".join(
        f"{{key: {key}, values: [{', '.join(map(str, values))}]}}" for key, values in parameters
    ) + "]}"
    return ["--set", f"sweep={text}"]


cases = [
    ("depth and fee (market keys)", [("venue.markets.BTC.depth_usd", [1.0e6, 4.0e6]),
                                     ("venue.liquidation_fee", [0.005, 0.02])], 1, 4),
    ("max leverage (read by the generator)", [("venue.max_leverage", [20, 50, 100])], 3, 3),
    ("accounts", [("population.accounts", [500, 800])], 2, 2),
    ("leverage median x fund", [("population.leverage.median", [5, 20]),
                                ("venue.insurance_fund_usd", [1e5, 1e6])], 2, 4),
]
for label, parameters, expected_builds, points in cases:
    out = os.path.join(work, re.sub(r"\W+", "_", label) + ".h5")
    result = run(["run", small, "-o", out, "--paths", "4", *sweep_args(parameters)])
    if not check(result.returncode == 0, f"{label}: runs {result.stderr[-300:]!r}"):
        continue
    check(builds(result.stderr) == (expected_builds, points),
          f"{label}: population built {expected_builds} time(s) for {points} points "
          f"(reported {builds(result.stderr)})")

# Reuse changes nothing: point 1 of the market-keys sweep equals a run of that point alone.
sweep_out = os.path.join(work, "depth_and_fee_market_keys_.h5")
alone = os.path.join(work, "alone.h5")
result = run(["run", small, "-o", alone, "--paths", "4", "--quiet", "--set",
              "venue.markets.BTC.depth_usd=1.0e6", "--set", "venue.liquidation_fee=0.02",
              "--set", "output.paths=true"])
result2 = run(["run", small, "-o", sweep_out + ".paths.h5", "--paths", "4", "--quiet",
               "--set", "output.paths=true",
               *sweep_args([("venue.markets.BTC.depth_usd", [1.0e6, 4.0e6]),
                            ("venue.liquidation_fee", [0.005, 0.02])])])
if check(result.returncode == 0 and result2.returncode == 0, "point alone and sweep: run"):
    with h5py.File(alone, "r") as a, h5py.File(sweep_out + ".paths.h5", "r") as s:
        same = all(np.array_equal(a["point_0/paths"][name][()], s["point_1/paths"][name][()])
                   for name in a["point_0/paths"])
        check(same, "the reused population's point gives the per-path table of the point alone")
        check(a["point_0/paths/liquidated_accounts"][()].sum() > 0,
              "that point liquidates accounts (the comparison is not empty)")

cleanup(work)
finish()
