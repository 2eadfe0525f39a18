"""Traces of chosen paths (output.traces, output.traces_worst; docs/output.md "Traces"): the
paths listed and the k with the largest liquidated notional are written per point as time
series that agree with the paths' own rows (liquidations by side add up to the path's
liquidated notional, accounts, rounds, final backlog, the fund's minimum, the start prices),
the same bits on 1 and 2 ranks, and for every point of a sweep."""
import os

import h5py
import numpy as np

from mftest import check, cleanup, config, datasets, finish, run, tmpdir

work = tmpdir()
small = config("small.yaml")
options = ["--set", "output.paths=true", "--set", "output.traces=[0,5]",
           "--set", "output.traces_worst=3"]

one = os.path.join(work, "one.h5")
result = run(["run", small, "-o", one, "--quiet", *options])
check(result.returncode == 0, f"small.yaml with traces runs {result.stderr.strip()[-300:]!r}")

with h5py.File(one, "r") as f:
    table = f["point_0/paths"]
    liquidated = table["liquidated_notional"][()]
    order = sorted(range(len(liquidated)), key=lambda p: (-liquidated[p], p))
    worst = order[:3]
    expected = sorted(set([0, 5] + worst))
    traces = f["point_0/traces"]
    names = sorted(traces.keys(), key=lambda n: int(n.split("_")[1]))
    check(names == [f"path_{p}" for p in expected],
          f"traced paths are 0, 5 and the worst 3 {worst}: {names}")
    dt = 60.0
    for name in names:
        g = traces[name]
        p = int(g.attrs["path_index"])
        rank = int(g.attrs["worst_rank"])
        check(rank == (worst.index(p) + 1 if p in worst else 0),
              f"{name}: worst_rank {rank} is its rank by liquidated notional")
        check(int(g.attrs["requested"]) == (1 if p in (0, 5) else 0), f"{name}: requested flag")
        longs, shorts = g["liquidated_long"][()], g["liquidated_short"][()]
        total = float(np.sum(longs + shorts))
        check(abs(total - table["liquidated_notional"][p]) <= 1e-9 * max(1.0, total),
              f"{name}: longs + shorts over the steps = the path's liquidated notional "
              f"({total:.6g} vs {table['liquidated_notional'][p]:.6g})")
        check(int(round(np.sum(g["liquidated_accounts"][()]))) == table["liquidated_accounts"][p],
              f"{name}: accounts per step add up to the path's liquidated accounts")
        check(int(np.max(g["rounds"][()])) == table["max_rounds"][p],
              f"{name}: the most rounds in a step = max_rounds")
        check(g["backlog"][-1] == table["final_backlog"][p],
              f"{name}: the last step's backlog = final_backlog ({g['backlog'][-1]:.6g})")
        check(float(np.min(g["fund"][()])) >= table["fund_min"][p],
              f"{name}: the fund never goes below the path's minimum")
        starts = [g["index_BTC"][0] / 100000.0, g["mark_BTC"][0] / 100000.0,
                  g["index_ETH"][0] / 3500.0]
        check(all(abs(x - 1) < 1e-12 for x in starts),
              f"{name}: prices start at the configured ones (ratios {starts})")
        check(len(g["time"]) == 241 and g["time"][-1] == 240 * dt and g["step_end"][0] == dt,
              f"{name}: time axes in seconds (241 instants, 240 step ends)")
        check(g["time"].attrs.get("unit") == "s" and g["mark_BTC"].attrs.get("unit") == "USD",
              f"{name}: units")
    any_backlog = any(np.max(traces[n]["backlog"][()]) > 0 for n in names)
    check(any_backlog, "some traced path has a liquidation backlog (the throughput cap binds)")

# The same traces on 2 ranks, bit for bit.
two = os.path.join(work, "two.h5")
result = run(["run", small, "-o", two, "--quiet", *options], ranks=2)
check(result.returncode == 0, f"2 ranks {result.stderr.strip()[-300:]!r}")
if result.returncode == 0:
    a = {k: v for k, v in datasets(one).items() if "/traces/" in k}
    b = {k: v for k, v in datasets(two).items() if "/traces/" in k}
    check(len(a) > 0 and a == b, f"every trace dataset equal on 1 and 2 ranks ({len(a)} datasets)")

# A sweep: every point has its own worst path.
sweep = os.path.join(work, "sweep.h5")
result = run(["run", config("sweep-small.yaml"), "-o", sweep, "--quiet",
              "--set", "output.traces_worst=1"])
check(result.returncode == 0, f"sweep with traces {result.stderr.strip()[-300:]!r}")
if result.returncode == 0:
    with h5py.File(sweep, "r") as f:
        points = [k for k in f.keys() if k.startswith("point_")]
        ok = True
        for point in points:
            values = f[f"{point}/path_values/liquidated_notional"][()]
            best = min(range(len(values)), key=lambda p: (-values[p], p))
            ok &= list(f[f"{point}/traces"].keys()) == [f"path_{best}"]
        check(len(points) > 1 and ok, f"each of {len(points)} points traces its own worst path")

# Refusals before any work.
refused = run(["run", small, "-o", os.path.join(work, "x.h5"), "--set", "output.traces=[3,1]"])
check(refused.returncode == 2 and "output.traces[1]" in refused.stderr,
      f"unordered paths refused naming the item: {refused.stderr.strip()!r}")
refused = run(["run", small, "-o", os.path.join(work, "x.h5"), "--set", "output.traces=[24]"])
check(refused.returncode == 2 and "path 24 does not exist" in refused.stderr,
      f"a path beyond run.paths refused: {refused.stderr.strip()!r}")
check(not os.path.exists(os.path.join(work, "x.h5")), "no output from a refused config")

cleanup(work)
finish()
