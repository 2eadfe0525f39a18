"""Per-path traces (format 2.0, ``/point_<i>/traces/path_<p>``): the time series of one path.

The engine re-simulates the paths named by ``output.traces`` and the ``output.traces_worst`` = k
paths with the largest liquidated notional of each point, recording prices and liquidation flows
step by step (docs/output.md). ``list_traces`` says which paths a file holds; ``open_trace``
reads one as an ``xarray.Dataset``:

- ``index``, ``mark`` over (``asset``, ``time``): prices in USD at the S+1 step boundaries;
- ``liquidated_long``, ``liquidated_short``, ``liquidated_accounts``, ``backlog``, ``fund``,
  ``rounds`` over ``step_end`` (the end of each of the S steps);
- attributes ``point``, ``path_index``, ``worst_rank``, ``requested``, ``source_file`` and
  ``initial_fund`` (USD, the fund before the first step, when the file says).

Traces are small (a few thousand numbers), so they are read eagerly and the file is closed.
"""
from __future__ import annotations

import os
import re

import h5py
import numpy as np
import pandas as pd
import xarray as xr

from .io import GROUP_READERS, FormatError, _attr_text, _unit_attrs, check_format


class NoTracesError(LookupError):
    """The file (or the point) holds no per-path traces, or not the one asked for."""


def _open(path):
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise FormatError(f"{path}: not an HDF5 file, so not a marginfall result ({e})") from None
    check_format(f, path)
    return f


def _points_with_traces(f):
    return sorted(int(k.split("_")[1]) for k in f
                  if k.startswith("point_") and "traces" in f[k])


def _no_traces(path, what="no per-path traces"):
    return NoTracesError(f"{path}: {what}; run the engine with output.traces_worst: k (the k "
                         f"worst paths of each point) or output.traces: [path indices], e.g. "
                         f"--set output.traces_worst=3")


def list_traces(path):
    """The traced paths of a result file as a small ``pandas.DataFrame``.

    One row per trace: ``point``, ``path_index``, ``worst_rank`` (1 = largest liquidated
    notional of its point, 0 = only listed in ``output.traces``), ``requested`` (bool),
    ``liquidated_notional`` (USD, the sum of the trace's long and short flows) and
    ``final_backlog`` (USD). Sorted by point, then worst rank (listed-only paths last).
    Raises ``NoTracesError`` when the file holds none.
    """
    rows = []
    with _open(path) as f:
        for p in _points_with_traces(f):
            for name, g in f[f"point_{p}/traces"].items():
                rows.append({"point": p,
                             "path_index": int(_attr_text(g.attrs["path_index"])),
                             "worst_rank": int(_attr_text(g.attrs.get("worst_rank", 0))),
                             "requested": bool(_attr_text(g.attrs.get("requested", 0))),
                             "liquidated_notional": float(np.sum(g["liquidated_long"][()])
                                                          + np.sum(g["liquidated_short"][()])),
                             "final_backlog": float(g["backlog"][-1]) if g["backlog"].size
                             else 0.0})
    if not rows:
        raise _no_traces(os.fspath(path))
    df = pd.DataFrame(rows)
    # worst ranks first (1, 2, ...), listed-only paths (rank 0) after them
    df["_order"] = df["worst_rank"].where(df["worst_rank"] > 0, np.iinfo(np.int32).max)
    return (df.sort_values(["point", "_order", "path_index"]).drop(columns="_order")
            .reset_index(drop=True))


def open_trace(path, point=0, path_index=None, worst_rank=1):
    """One traced path as an ``xarray.Dataset`` (see the module docstring for its layout).

    Parameters
    ----------
    path : str or os.PathLike
        A result file written with ``output.traces`` or ``output.traces_worst``.
    point : int
        The point's global index in the sweep (0 without a sweep).
    path_index : int or None
        The path to read; when None, the trace with this ``worst_rank`` is read.
    worst_rank : int
        1 = the point's worst path by liquidated notional, 2 = the second worst, ...

    Raises
    ------
    NoTracesError
        The file holds no traces (the message says to set ``output.traces_worst``), or not for
        this point, path or rank (the message lists what it holds).
    """
    path = os.fspath(path)
    with _open(path) as f:
        points = _points_with_traces(f)
        if not points:
            raise _no_traces(path)
        if point not in points:
            raise NoTracesError(f"{path}: no traces for point {point}; points with traces: "
                                f"{points}")
        groups = f[f"point_{point}/traces"]
        found = None
        for g in groups.values():
            pi = int(_attr_text(g.attrs["path_index"]))
            wr = int(_attr_text(g.attrs.get("worst_rank", 0)))
            if (pi == path_index) if path_index is not None else (wr == worst_rank):
                found = g
                break
        if found is None:
            held = [(int(_attr_text(g.attrs["path_index"])),
                     int(_attr_text(g.attrs.get("worst_rank", 0)))) for g in groups.values()]
            want = f"path {path_index}" if path_index is not None else f"worst rank {worst_rank}"
            raise NoTracesError(f"{path}: point {point} has no trace of {want}; it holds "
                                f"(path_index, worst_rank) {held}")
        return _read(found, f, path, point)


def _read(g, f, path, point):
    assets = [n[len("index_"):] for n in g if n.startswith("index_")]
    order = [str(a) for a in _attr_text(f.attrs.get("assets", []))] or assets
    assets = [a for a in order if a in assets] + [a for a in assets if a not in order]
    n = g["backlog"].shape[0]
    t = g["time"][()] if "time" in g else None
    te = g["step_end"][()] if "step_end" in g else None
    if t is None or te is None:  # derive from the config's step when a writer left them out
        from .io import _dt_seconds
        dt = _dt_seconds(_attr_text(f.attrs.get("config", ""))) or 1.0
        t, te = np.arange(n + 1) * dt, np.arange(1, n + 1) * dt
    coords = {"asset": ("asset", np.array(assets, dtype=object)),
              "time": ("time", t, {"units": "s", "long_name": "time since the start"}),
              "step_end": ("step_end", te, {"units": "s", "long_name": "end of the step"})}
    data = {}
    for kind in ("index", "mark"):
        first = g[f"{kind}_{assets[0]}"]
        attrs = _unit_attrs(first)
        attrs["long_name"] = f"{kind} price"
        data[kind] = (("asset", "time"), np.stack([g[f"{kind}_{a}"][()] for a in assets]), attrs)
    for name, obj in g.items():
        if name.startswith(("index_", "mark_")) or name in ("time", "step_end"):
            continue
        if isinstance(obj, h5py.Dataset) and obj.ndim == 1 and obj.shape[0] == n:
            data[name] = (("step_end",), obj[()], _unit_attrs(obj))
    attrs = {"point": point, "path_index": int(_attr_text(g.attrs["path_index"])),
             "worst_rank": int(_attr_text(g.attrs.get("worst_rank", 0))),
             "requested": int(_attr_text(g.attrs.get("requested", 0))),
             "source_file": os.path.abspath(path)}
    # the fund before the first step: the per-path table's initial_fund, else the config's
    pt = f.get(f"point_{point}/paths")
    start = None
    if pt is not None and "initial_fund" in pt and "path_index" in pt:
        hit = np.flatnonzero(pt["path_index"][()] == attrs["path_index"])
        if hit.size:
            start = float(pt["initial_fund"][int(hit[0])])
    if start is None:
        m = re.search(r"^\s*insurance_fund_usd:\s*([0-9.eE+-]+)",
                      _attr_text(f.attrs.get("config", "")) or "", re.M)
        start = float(m.group(1)) if m else None
    if start is not None:
        attrs["initial_fund"] = start
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _reader(f, grid, dims, group, variables, coords):
    """GROUP_READERS hook: traces are not stacked into the results Dataset (their paths differ
    from point to point); only note that the file holds them. Read them with ``open_trace``."""
    return None


GROUP_READERS["traces"] = _reader
