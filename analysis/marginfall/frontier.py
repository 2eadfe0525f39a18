"""The margin-policy frontier: what each policy asks of traders against the risk it leaves.

For every point of a sweep: the **capital asked of traders** is the traders' total collateral
at t = 0 (``initial_collateral`` of the per-path money ledger, docs/output.md; identical on
every path because the book is drawn once per point), i.e. the margin the accounts must post
at the leverage the policy lets them take. The **risk** is the p99 of a per-path loss metric
(default: ``largest_cascade``, the largest cascade's notional) and the probability of bad debt.

A point is **dominated** when another point asks no more capital, has no larger p99 and no
larger bad-debt probability, and is strictly better in at least one of them. Dominated policies
are never worth choosing: another one is cheaper for traders and no riskier. Comparisons can be
restricted to points that share other coordinates (``within=``), e.g. compare margin ladders
only at the same trader leverage, since leverage is the traders' choice, not the venue's.

Without the per-path table (``output.paths: false``) the file holds no capital figure; the
frontier then raises ``ValueError`` saying so.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .io import path_samples


def capital(ds):
    """Traders' collateral at t = 0 per sweep cell (USD), an xarray DataArray."""
    if "paths_initial_collateral" not in ds:
        raise ValueError(
            f"{ds.attrs.get('source_file', 'this file')}: no per-path money ledger "
            "(paths/initial_collateral), so the capital asked of traders is unknown; rerun "
            "with --set output.paths=true (format 1.2 or later)")
    # the same on every path: the first path's value suffices (and reads one row per point)
    return ds["paths_initial_collateral"].isel(path=0).load()


def frontier_table(ds, risk="largest_cascade", level=0.99, within=None):
    """One row per sweep cell: capital, risk quantile (+ interval), bad-debt probability
    (+ Wilson interval) and whether the cell is dominated.

    Parameters
    ----------
    ds : Dataset from ``open_results``
    risk : per-path metric whose ``level`` quantile measures the risk
    level : quantile level, one of the file's quantile levels
    within : list of sweep dimensions whose value must be equal for one cell to dominate
        another (None: all cells compete)

    Returns a pandas DataFrame with columns: the sweep dims, ``capital``, ``risk``,
    ``risk_low``, ``risk_high``, ``prob_bad_debt``, ``prob_low``, ``prob_high``,
    ``dominated`` (bool) and ``dominated_by`` (labels of the dominating cells).
    """
    cap = capital(ds)
    qname = f"{risk}_quantile"
    if qname not in ds:
        raise ValueError(f"no metric {risk!r} in {ds.attrs.get('source_file')}")
    r = ds[qname].sel(quantile=level, method="nearest")
    cols = {"capital": cap, "risk": r, "prob_bad_debt": ds["prob_bad_debt"],
            "prob_low": ds["prob_bad_debt_ci_low"], "prob_high": ds["prob_bad_debt_ci_high"]}
    for s, c in (("quantile_ci_low", "risk_low"), ("quantile_ci_high", "risk_high")):
        cols[c] = (ds[f"{risk}_{s}"].sel(quantile=level, method="nearest")
                   if f"{risk}_{s}" in ds else r * np.nan)
    dims = list(ds.attrs.get("sweep_dims", []))
    frame = pd.DataFrame({k: np.ravel(np.asarray(v.values, dtype=float)) for k, v in cols.items()})
    if dims:
        grids = np.meshgrid(*[ds[d].values for d in dims], indexing="ij")
        if len(dims) == 1 and ds[dims[0]].dims != (dims[0],):
            grids = [ds[dims[0]].values]
        for pos, (d, g) in enumerate(zip(dims, grids)):
            frame.insert(pos, d, np.ravel(g))
        frame["label"] = (np.ravel(ds["label"].values) if "label" in ds.coords
                          else [", ".join(f"{d}={row[d]}" for d in dims)
                                for _, row in frame.iterrows()])
    else:
        frame["label"] = "single point"
    frame = frame[np.isfinite(frame["capital"])].reset_index(drop=True)
    frame["dominated"], frame["dominated_by"] = dominated(
        frame[["capital", "risk", "prob_bad_debt"]].to_numpy(),
        frame[within].to_numpy() if within else None, frame["label"].to_list())
    return frame


def dominated(values, groups=None, labels=None):
    """Pareto dominance for minimisation of every column of ``values`` (n x d).

    Row j is dominated by row i when values[i] <= values[j] in every column and < in at least
    one (and, with ``groups``, both rows are in the same group). Returns (flags, dominating
    labels)."""
    v = np.asarray(values, dtype=float)
    n = len(v)
    labels = labels if labels is not None else [str(i) for i in range(n)]
    flags = np.zeros(n, dtype=bool)
    by = [[] for _ in range(n)]
    for j in range(n):
        for i in range(n):
            if i == j:
                continue
            if groups is not None and not np.array_equal(groups[i], groups[j]):
                continue
            if np.all(v[i] <= v[j]) and np.any(v[i] < v[j]):
                flags[j] = True
                by[j].append(labels[i])
    return flags, ["; ".join(b) for b in by]
