"""Precision in the output (issue 9 part 1): every standard error and interval in the file
equals what numpy / scipy compute from the per-path table; path_values is the per-path
column; the summary warns about thin tails; output.quantiles is validated with file, line and
key; sweep points carry aligned path values (common random numbers) for paired errors."""
import math
import os

import h5py
import numpy as np
from scipy import stats

from mftest import check, cleanup, config, finish, run, tmpdir

work = tmpdir()

# metric -> its column of the per-path table
PER_PATH = {"liquidated_notional": "liquidated_notional",
            "liquidated_accounts": "liquidated_accounts", "bad_debt": "bad_debt",
            "uncovered_deficit": "uncovered_deficit", "fund_min": "fund_min",
            "largest_cascade": "largest_cascade", "cascade_count": "cascades",
            "mark_drawdown": "mark_drawdown", "index_drawdown": "index_drawdown",
            "liquidated_long": "liquidated_long", "liquidated_short": "liquidated_short",
            "adl_notional": "adl_notional", "socialised_loss": "socialised_loss",
            "vault_notional": "vault_notional", "funding_paid": "funding_paid",
            "breaker_trips": "breaker_trips"}


def exact_ranks(n, q):
    """Independent exact binomial ranks (scipy): l = max{l: P(B <= l-1) <= 2.5%},
    u = min{u: P(B <= u-1) >= 97.5%}; 0 / n+1 when open."""
    k = np.arange(n + 1)
    cdf = stats.binom.cdf(k, n, q)
    low = int(np.max(np.nonzero(cdf <= 0.025)[0], initial=-1)) + 1
    high = int(np.min(np.nonzero(cdf >= 0.975)[0])) + 1
    return low, (high if high <= n else n + 1)


# ---- one point, 64 paths, the per-path table kept -------------------------------------------
out = os.path.join(work, "p64.h5")
result = run(["run", config("small.yaml"), "--paths", "64", "-o", out], threads=2)
check(result.returncode == 0, f"64-path run succeeds: {result.stderr[-300:]}")
summary = result.stdout
check("±" in summary and "95% confidence" in summary, "the summary labels its ± figures")
check("warning: p99 rests on 1 path; run >= 1,000 paths for a usable p99" in summary,
      "64 paths: the p99 warning names the figure and the paths needed")
check("warning: p99.9 rests on 1 path; run >= 10,000 paths for a usable p99.9" in summary,
      "64 paths: the p99.9 warning")

with h5py.File(out, "r") as f:
    point = f["point_0"]
    n = int(point["n_paths"][()])
    check(n == 64, "64 paths")
    for metric, column in PER_PATH.items():
        group = point["metrics"][metric]
        x = point["paths"][column][()].astype(np.float64)
        values = point["path_values"][metric][()]
        check(values.dtype == np.float64 and np.array_equal(values, x),
              f"{metric}: path_values is the per-path column in path order")
        se = float(group["mean_standard_error"][()])
        want = math.sqrt(np.var(x, ddof=1) / n)
        check(math.isclose(se, want, rel_tol=1e-9, abs_tol=1e-300),
              f"{metric}: mean_standard_error {se} = sqrt(var / n) {want}")
        levels = group["quantile_levels"][()]
        xs = np.sort(x)
        for i, q in enumerate(levels):
            tail = group["tail_samples"][()][i]
            check(tail == max(1, math.ceil((1 - q) * n - 1e-9)),
                  f"{metric} q={q}: tail_samples {tail}")
            low, high = exact_ranks(n, q)
            got_low, got_high = group["quantile_ci_low"][()][i], group["quantile_ci_high"][()][i]
            check((math.isnan(got_low) if low < 1 else got_low == xs[low - 1]) and
                  (math.isnan(got_high) if high > n else got_high == xs[high - 1]),
                  f"{metric} q={q}: interval is [x({low}), x({high})]")
            es_se = group["expected_shortfall_standard_error"][()][i]
            if tail >= 2:
                t = xs[n - tail:]
                var = (np.var(t, ddof=1) + q * (t.mean() - xs[math.ceil(q * n - 1e-9) - 1]) ** 2) \
                    / (n * (1 - q))
                check(math.isclose(es_se, math.sqrt(var), rel_tol=1e-9, abs_tol=1e-300),
                      f"{metric} q={q}: ES standard error")
            else:
                check(math.isnan(es_se), f"{metric} q={q}: no ES standard error from {tail} sample")
    for name, column in (("prob_bad_debt", "bad_debt"), ("prob_fund_shortfall", "uncovered_deficit")):
        p = float(point[name][()])
        check(p == np.count_nonzero(point["paths"][column][()] > 0) / n, f"{name} value")
        check(math.isclose(float(point[name + "_standard_error"][()]),
                           math.sqrt(p * (1 - p) / n), rel_tol=1e-12, abs_tol=1e-300),
              f"{name}: standard error sqrt(p (1 - p) / n)")
        # statsmodels-free Wilson interval
        z = stats.norm.ppf(0.975)
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        low, high = float(point[name + "_ci_low"][()]), float(point[name + "_ci_high"][()])
        check(math.isclose(low, max(0.0, centre - half), abs_tol=1e-12) and
              math.isclose(high, min(1.0, centre + half), abs_tol=1e-12),
              f"{name}: Wilson interval [{low}, {high}]")
    check(sorted(k for k in point["path_values"] if k != "path_index") == sorted(PER_PATH),
          "path_values holds every per-path metric and no per-cascade one")

# xarray (h5netcdf) opens the metric group and the path values with named dimensions.
try:
    import xarray as xr
except ImportError:
    xr = None
if xr is not None:
    ds = xr.open_dataset(out, group="point_0/metrics/liquidated_notional", engine="h5netcdf")
    check(float(ds.quantile_ci_high.sel(quantile_levels=0.9)) >=
          float(ds.quantiles.sel(quantile_levels=0.9)), "xarray: intervals over quantile_levels")
    pv = xr.open_dataset(out, group="point_0/path_values", engine="h5netcdf")
    check(pv.liquidated_notional.dims == ("path_index",) and pv.sizes["path_index"] == 64,
          "xarray: path values over path_index")

result = run(["info", out])
check(result.returncode == 0 and "±95%" in result.stdout and "p99 95% CI" in result.stdout
      and "p97.5" in result.stdout, "info shows the ± and interval columns and every level")

# ---- one path: the warnings ----------------------------------------------------------------
out1 = os.path.join(work, "p1.h5")
result = run(["run", config("small.yaml"), "--paths", "1", "-o", out1])
check(result.returncode == 0, "a one-path run succeeds")
check("warning: 1 path: no standard error can be estimated" in result.stdout,
      "--paths 1 warns that nothing can be estimated")
check("p99.9 rests on 1 path" in result.stdout, "--paths 1 warns about p99.9")
with h5py.File(out1, "r") as f:
    check(math.isnan(f["point_0/metrics/liquidated_notional/mean_standard_error"][()]),
          "one path: mean_standard_error is NaN")
    check(f["point_0/prob_bad_debt_ci_high"][()] - f["point_0/prob_bad_debt_ci_low"][()] > 0.5,
          "one path: the Wilson interval of a probability is wide")

# ---- output.quantiles: values, --set, refusals with file, line, key ------------------------
outq = os.path.join(work, "q.h5")
result = run(["run", config("small.yaml"), "--paths", "8", "--set",
              "output.quantiles=[0.9,0.95]", "--set", "output.path_values=false", "-o", outq,
              "--quiet"])
check(result.returncode == 0, f"--set output.quantiles=[0.9,0.95] runs: {result.stderr[-300:]}")
with h5py.File(outq, "r") as f:
    group = f["point_0/metrics/liquidated_notional"]
    check(list(group["quantile_levels"][()]) == [0.9, 0.95], "the file has the levels set")
    check(len(group["quantile_ci_low"][()]) == 2 and len(group["tail_samples"][()]) == 2,
          "every quantile dataset has the levels' length")
    check("path_values" not in f["point_0"], "output.path_values=false: no path values")
    text = f.attrs["config"]
    text = text.decode() if isinstance(text, bytes) else text
    check("quantiles: [0.9, 0.95]" in text, "the resolved config stores the levels")
result = run(["info", outq])
check(result.returncode == 0 and "p95" in result.stdout and "p99.9" not in result.stdout,
      "info reads the file's number of levels")

bad_cases = {
    "decreasing": ("output:\n  quantiles:\n    - 0.9\n    - 0.5\n", 4, "output.quantiles[1]",
                   "strictly increasing"),
    "out_of_range": ("output:\n  quantiles: [0.5, 1.0]\n", 2, "output.quantiles[1]", "(0, 1)"),
    "not_a_list": ("output:\n  quantiles: 0.99\n", 2, "output.quantiles", "a list"),
    "too_many": ("output:\n  quantiles: [" + ", ".join(str(0.01 * i) for i in range(1, 18))
                 + "]\n", 2, "output.quantiles", "MF_MAX_QUANTILES"),
    "not_a_number": ("run:\n  paths: 4\noutput:\n  quantiles: [0.5, high]\n", 4,
                     "output.quantiles[1]", "a number"),
}
for name, (text, line, key, words) in bad_cases.items():
    path = os.path.join(work, name + ".yaml")
    with open(path, "w") as f:
        f.write(text)
    target = os.path.join(work, name + ".h5")
    result = run(["run", path, "-o", target, "--quiet"])
    check(result.returncode == 2 and f"{path}:{line}: {key}:" in result.stderr
          and words in result.stderr and not os.path.exists(target),
          f"output.quantiles {name}: exit 2 naming file, line {line} and {key}: "
          f"{result.stderr.strip()[:200]}")
result = run(["run", config("small.yaml"), "--set", "output.quantiles=[0.99,0.9]", "-o",
              os.path.join(work, "never.h5"), "--quiet"])
check(result.returncode == 2 and "--set output.quantiles=[0.99,0.9]" in result.stderr
      and "output.quantiles[1]" in result.stderr, "a bad --set list names the argument and item")

# ---- a sweep: path values aligned across points (common random numbers) --------------------
outs = os.path.join(work, "sweep.h5")
result = run(["run", config("sweep-small.yaml"), "-o", outs, "--quiet"], threads=2)
check(result.returncode == 0, "the sweep runs")
with h5py.File(outs, "r") as f:
    points = sorted((k for k in f if k.startswith("point_")), key=lambda k: int(k[6:]))
    n = int(f[points[0]]["n_paths"][()])
    index = [f[p]["path_values/index_drawdown"][()] for p in points]
    # The sweep moves the leverage cap and the book depth, not the index: with the same path
    # streams on every point, each path's index is the same on every point.
    check(all(np.array_equal(index[0], v) for v in index[1:]),
          "index_drawdown path values are identical across points (same path streams)")
    a = f[points[0]]["path_values/liquidated_notional"][()]
    b = f[points[-1]]["path_values/liquidated_notional"][()]
    check(len(a) == n and len(b) == n, "every point has n_paths path values")
    paired = math.sqrt(np.var(a - b, ddof=1) / n)
    check(math.isfinite(paired), f"paired SE of the difference of means is computable ({paired:.4g})")

for path in (out, out1, outq, outs):
    cleanup(path)
finish()
