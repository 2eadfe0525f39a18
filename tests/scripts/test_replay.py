"""Replay of a real crash day end to end: the index follows the shared BTC 2020-03-12 minute
closes, every path is identical (no noise), and the index drawdown the engine reports equals
the one computed here from the CSV."""
import csv
import os

import h5py
import numpy as np

from mftest import SHARED, SOURCE, check, cleanup, finish, run, tmpdir

csv_path = os.path.join(SHARED, "replay", "btc_2020-03-12_1m.csv")
if not check(os.path.exists(csv_path), f"shared replay file present: {csv_path}"):
    finish()

with open(csv_path) as f:
    closes = np.array([float(row["close"]) for row in csv.DictReader(f)])
steps = 1438
path = closes[: steps + 1]
peak = np.maximum.accumulate(path)
expected_drawdown = float(np.max(1 - path / peak))

work = tmpdir()
out = os.path.join(work, "replay.h5")
result = run(["run", os.path.join(SOURCE, "configs", "replay-2020-03-12.yaml"), "-o", out,
              "--paths", "3", "--set", "run.block_paths=2", "--set", "population.accounts=3000"],
             threads=2)
check(result.returncode == 0, f"replay run succeeds: {result.stderr[-300:]}")
if result.returncode == 0:
    with h5py.File(out, "r") as f:
        rows = f["point_0/paths"]
        drawdown = rows["index_drawdown"][()]
        check(np.allclose(drawdown, expected_drawdown, rtol=1e-12, atol=0),
              f"index drawdown {drawdown[0]:.12f} equals the file's {expected_drawdown:.12f}")
        for name in ("liquidated_notional", "liquidated_accounts", "bad_debt", "mark_drawdown",
                     "largest_cascade", "cascades"):
            values = rows[name][()]
            check(np.all(values == values[0]), f"replay: {name} identical on every path")
        check(rows["liquidated_notional"][0] > 0, "the crash liquidates positions")
        check(rows["mark_drawdown"][0] >= drawdown[0], "impact makes the mark fall at least as far")

cleanup(work)
finish()
