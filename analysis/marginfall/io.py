"""Load a marginfall result file (docs/output.md) as one xarray Dataset.

``open_results(path)`` checks the file's ``format`` and ``format_version`` and returns an
``xarray.Dataset`` whose dimensions are the swept parameters (``ds.sel(max_leverage=20)``), or a
``point`` dimension for a zipped sweep, or no sweep dimension for a single-point run.

Names in the file change between format versions (format 2.0 renames ``count`` to
``sample_count`` and so on; 1.3/1.4 add precision datasets). Every name is looked up through
``ALIASES``, so this module never depends on one spelling. What a file lacks and the package can
compute (standard errors, quantile intervals, Wilson intervals of the probabilities) is computed
from what the file holds and marked with the attribute ``computed_by``.

Per-path arrays (the ``paths`` table, ``path_values``) are lazy: they are read from the HDF5 file
only when indexed or loaded, so opening a file with millions of paths is cheap. Keep the file
open (use ``with``) while you read them.

Variable naming in the Dataset (``m`` is a metric such as ``liquidated_notional``):

==============================  =============================================================
``m_count m_mean m_m2 m_min``   moments (whatever the file calls them)
``m_max``
``m_quantile``, ``m_es``        quantiles and expected shortfall over ``quantile``
``m_mean_se``                   standard error of the mean
``m_quantile_ci_low/high``      order-statistic confidence interval of each quantile
``m_es_se``                     standard error of the expected shortfall
``m_counts``                    histogram over ``m_bin`` (coordinate: geometric bin centre),
                                edges ``m_bin_edges`` over ``m_edge``; ``m_underflow``,
                                ``m_overflow``
``m_path_values``               one value per path (lazy), over ``path``, from
                                ``/point_<i>/path_values/m`` (format 1.4+)
``paths_<column>``              the per-path table (lazy), over ``path``
``profile_<series>``            per-step means over ``step`` (coordinate ``time``, seconds)
``prob_bad_debt`` ...           the point's scalars, with ``..._se``, ``..._ci_low/high``
==============================  =============================================================
"""
from __future__ import annotations

import math
import os
import re

import h5py
import numpy as np
import xarray as xr
from xarray.backends import BackendArray
from xarray.core import indexing

from . import stats

FORMAT = "marginfall"
SUPPORTED_MAJORS = (1, 2)

# canonical name -> the names a file may use for it (any format version). Looked up in order.
ALIASES = {
    "count": ("sample_count", "count"),
    "mean": ("sample_mean", "mean"),
    "m2": ("sample_m2", "m2"),
    "min": ("sample_min", "min"),
    "max": ("sample_max", "max"),
    "quantile_levels": ("quantile_levels",),
    "quantile": ("quantiles",),
    "es": ("expected_shortfall",),
    "mean_se": ("mean_standard_error", "sample_mean_standard_error"),
    "quantile_ci_low": ("quantile_ci_low",),
    "quantile_ci_high": ("quantile_ci_high",),
    "es_se": ("expected_shortfall_standard_error",),
    "tail_samples": ("tail_samples",),
    "path_values": ("path_values",),
    "bin_edges": ("bin_edges",),
    "bin_center": ("bin_center",),
    "counts": ("counts", "bin_counts"),
    "underflow": ("underflow",),
    "overflow": ("overflow",),
}
_CANONICAL = {name: canon for canon, names in ALIASES.items() for name in names}

# Per-path metric -> its column in the per-path table (where the names differ).
PATH_COLUMN = {"cascade_count": "cascades"}

# Readers of extra point sub-groups: name -> function(file, grid, dims, group, variables, coords).
# Per-path traces (format 2.0) hold different paths at each point, so they do not stack into
# the sweep grid: they are read one at a time by marginfall.traces.open_trace (and the
# accessor's `traces` method); their reader here only records that the file holds them.
GROUP_READERS = {}


class FormatError(ValueError):
    """The file is not a marginfall result file this package can read."""


def canonical(name):
    """Canonical name of a metric dataset name of any format version (or the name itself)."""
    return _CANONICAL.get(name, name)


def _find(group, canon):
    for name in ALIASES.get(canon, (canon,)):
        if name in group:
            return group[name]
    return None


def _attr_text(value):
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "OSU":
            return [v.decode() if isinstance(v, bytes) else str(v) for v in value]
        return value.tolist() if value.ndim else value.item()
    if isinstance(value, np.generic):
        return value.item()
    return value


def check_format(f, path):
    """Return (major, minor) or raise FormatError naming the file and what was found."""
    fmt = _attr_text(f.attrs.get("format", None))
    if fmt != FORMAT:
        raise FormatError(f"{path}: not a marginfall result file (attribute 'format' is "
                          f"{fmt!r}, expected {FORMAT!r})")
    version = f.attrs.get("format_version", None)
    try:
        major, minor = (int(v) for v in np.asarray(version).ravel()[:2])
    except (TypeError, ValueError):
        raise FormatError(f"{path}: attribute 'format_version' is {version!r}, expected "
                          f"two integers {{major, minor}}") from None
    if major not in SUPPORTED_MAJORS:
        raise FormatError(f"{path}: format_version {major}.{minor} is not supported by this "
                          f"package (it reads major versions "
                          f"{', '.join(map(str, SUPPORTED_MAJORS))}); use a matching "
                          f"marginfall analysis package")
    return major, minor


def dim_name(key, keys):
    """Dimension name of a swept key: its last component (``venue.max_leverage`` ->
    ``max_leverage``), or the last two joined when that is ambiguous or generic
    (``population.leverage.median`` -> ``leverage_median``)."""
    parts = re.split(r"[.\[\]]+", key.strip("."))
    parts = [p for p in parts if p]
    last = parts[-1]
    generic = {"median", "mean", "sigma", "values", "value", "share", "mmr", "isolated",
               "cross", "price", "volatility", "drift", "intensity_per_year", "stdev", "law"}
    others = [re.split(r"[.\[\]]+", k)[-1] for k in keys if k != key]
    if (last in generic or last in others or last.isdigit()) and len(parts) > 1:
        last = f"{parts[-2]}_{last}"
    return re.sub(r"\W", "_", last)


class _Sweep:
    """The sweep's layout: grid dims, coordinates, and point index per grid cell (-1: absent)."""

    def __init__(self, f, held):
        self.dims, self.coords, self.grid = (), {}, np.array(held[0] if held else 0)
        self.keys, self.mode = [], "none"
        if "sweep" not in f:
            return
        sw = f["sweep"]
        keys = [str(k) for k in _attr_text(sw.attrs.get("parameters", []))]
        values = {k: np.array([_attr_text(v) for v in sw[k][()]]) for k in keys}
        npoints = len(sw["point"])
        self.keys = keys
        names = [dim_name(k, keys) for k in keys]
        if len(set(names)) < len(names):
            names = [re.sub(r"\W", "_", k) for k in keys]
        uniques = [list(dict.fromkeys(values[k].tolist())) for k in keys]
        shape = tuple(len(u) for u in uniques)
        is_product = int(np.prod(shape)) == npoints and len(keys) > 1
        if is_product:
            idx = np.unravel_index(np.arange(npoints), shape)
            is_product = all(np.array(uniques[i], dtype=values[k].dtype)[idx[i]].tolist()
                             == values[k].tolist() for i, k in enumerate(keys))
        heldset = set(int(p) for p in held)
        point = np.array([p if p in heldset else -1 for p in range(npoints)])
        labels = [str(v) for v in _attr_text(sw["label"][()])] if "label" in sw else None
        if is_product:
            self.mode = "product"
            self.dims = tuple(names)
            self.grid = point.reshape(shape)
            for name, key, u in zip(names, keys, uniques):
                self.coords[name] = xr.Variable(name, np.array(u), {"key": key})
            self.coords["point"] = xr.Variable(self.dims, np.arange(npoints).reshape(shape))
            if labels:
                self.coords["label"] = xr.Variable(self.dims, np.array(labels, dtype=object)
                                                   .reshape(shape))
        else:  # zip sweep or a single parameter: one `point` dimension
            self.mode = "zip" if len(keys) > 1 else "single"
            self.dims = ("point",)
            self.grid = point
            self.coords["point"] = xr.Variable("point", np.arange(npoints))
            for name, key in zip(names, keys):
                self.coords[name] = xr.Variable("point", values[key], {"key": key})
            if labels:
                self.coords["label"] = xr.Variable("point", np.array(labels, dtype=object))
            if len(keys) == 1:  # one parameter: make it the dimension so .sel(name=v) works
                self.dims = (names[0],)
                self.coords = {names[0]: xr.Variable(names[0], values[keys[0]],
                                                     {"key": keys[0]}),
                               "point": xr.Variable(names[0], np.arange(npoints))}
                if labels:
                    self.coords["label"] = xr.Variable(names[0],
                                                       np.array(labels, dtype=object))


class _StackedArray(BackendArray):
    """A lazy array over (sweep grid..., inner...) read point by point from the HDF5 file."""

    def __init__(self, f, grid, relpath, inner_shape, dtype):
        self.f, self.grid, self.relpath = f, grid, relpath
        self.missing = bool((grid < 0).any())
        self.dtype = np.dtype(np.float64) if self.missing and dtype.kind in "iu" else dtype
        self.shape = grid.shape + tuple(inner_shape)
        self.inner_ndim = len(inner_shape)

    def __getitem__(self, key):
        return indexing.explicit_indexing_adapter(key, self.shape,
                                                  indexing.IndexingSupport.BASIC, self._read)

    def _read(self, key):
        g = self.grid.ndim
        gkey, ikey = key[:g], key[g:]
        sub = np.asarray(self.grid[gkey]) if g else self.grid
        inner_shape = np.broadcast_to(np.zeros((), np.int8), self.shape[g:])[ikey].shape
        out = np.full(sub.shape + inner_shape, np.nan if self.dtype.kind == "f" else 0,
                      dtype=self.dtype)
        for index, p in np.ndenumerate(sub):
            if p >= 0:
                out[index] = self.f[f"point_{p}/{self.relpath}"][ikey]
        return out


def _stack(per_point, grid, fill=np.nan):
    """Stack small per-point numpy arrays into grid-shaped arrays (NaN for absent points)."""
    first = next((v for v in per_point.values() if v is not None), None)
    if first is None:
        return None
    first = np.asarray(first)
    dtype = first.dtype
    if (grid < 0).any() and dtype.kind in "iub":
        dtype = np.dtype(np.float64)
    out = np.full(grid.shape + first.shape, fill if dtype.kind in "fc" else 0, dtype=dtype)
    for index, p in np.ndenumerate(grid):
        v = per_point.get(int(p))
        if p >= 0 and v is not None and np.shape(v) == first.shape:
            out[index] = v
    return out


def _unit_attrs(obj):
    a = {}
    unit = _attr_text(obj.attrs.get("units", obj.attrs.get("unit", None)))
    if unit is not None:
        a["units"] = unit
    for src, dst in (("long_name", "long_name"), ("description", "description"),
                     ("per", "per")):
        if src in obj.attrs:
            a[dst] = _attr_text(obj.attrs[src])
    if "long_name" not in a and "description" in a:
        a["long_name"] = a["description"]
    return a


def _dt_seconds(config_text):
    m = re.search(r"^\s*dt_seconds:\s*([0-9.eE+-]+)", config_text or "", re.M)
    return float(m.group(1)) if m else None


def open_results(path, derive="auto"):
    """Open a marginfall result file as an ``xarray.Dataset`` (a context manager).

    Parameters
    ----------
    path : str or os.PathLike
        A result file written by ``marginfall run`` or ``marginfall merge``.
    derive : "auto", True or False
        Compute statistics the file lacks (mean SE from m2/count, order-statistic quantile
        intervals and ES standard errors from per-path values, Wilson intervals of the
        probabilities). ``"auto"`` computes the ones that need per-path values only when the
        file holds at most 5 million of them (reading them is then cheap).

    Returns
    -------
    xarray.Dataset
        Closes the HDF5 file on ``ds.close()`` or at the end of a ``with`` block. Attributes:
        ``config`` (the resolved YAML), provenance (engine version, commit, seed, ...),
        ``verification_digest``, ``format_version`` ("major.minor") and ``source_file``.

    Raises
    ------
    FormatError
        Not HDF5, not ``format == "marginfall"``, or a major version other than 1 or 2. The
        message names the file and what was found.
    FileNotFoundError
        The file does not exist.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise FormatError(f"{path}: not an HDF5 file, so not a marginfall result ({e})") from None
    try:
        ds = _build(f, path, derive)
    except BaseException:
        f.close()
        raise
    ds.set_close(f.close)
    return ds


def _build(f, path, derive):
    major, minor = check_format(f, path)
    attrs = {k: _attr_text(v) for k, v in f.attrs.items()}
    attrs["format_version"] = f"{major}.{minor}"
    attrs["source_file"] = os.path.abspath(path)
    held = [int(p) for p in np.asarray(f.attrs.get("points_in_file", []))] or sorted(
        int(k.split("_")[1]) for k in f if k.startswith("point_"))
    sweep = _Sweep(f, held)
    attrs["sweep_mode"] = sweep.mode
    attrs["sweep_keys"] = list(sweep.keys)
    attrs["sweep_dims"] = list(sweep.dims) if sweep.mode != "none" else []
    grid, gd = sweep.grid, sweep.dims
    held = [p for p in held if f"point_{p}" in f]
    p0 = f[f"point_{held[0]}"]
    variables, coords = {}, dict(sweep.coords)

    def per_point(fn):
        return {p: fn(f[f"point_{p}"]) for p in held}

    # point-level scalars (prob_bad_debt, n_paths, and whatever a later version adds)
    for name, obj in p0.items():
        if isinstance(obj, h5py.Dataset) and obj.shape == ():
            arr = _stack(per_point(lambda g, n=name: g[n][()] if n in g else None), grid)
            variables[name] = xr.Variable(gd, arr, _unit_attrs(obj))

    # metrics
    levels0 = None
    metrics = list(p0["metrics"]) if "metrics" in p0 else []
    for m in metrics:
        mg = p0[f"metrics/{m}"]
        mattrs = _unit_attrs(mg)
        mattrs["metric"] = m
        lv = _find(mg, "quantile_levels")
        levels = lv[()] if lv is not None else None
        if levels is not None and levels0 is None:
            levels0 = levels
            coords["quantile"] = xr.Variable("quantile", levels, {"long_name": "quantile level"})
        qdim = "quantile" if levels is not None and np.array_equal(levels, levels0) else f"{m}_quantile"
        if levels is not None and qdim != "quantile":
            coords[qdim] = xr.Variable(qdim, levels)
        bin_center = _find(mg, "bin_center")
        nbins = bin_center.shape[0] if bin_center is not None else -1
        if bin_center is not None:
            coords[f"{m}_bin"] = xr.Variable(f"{m}_bin", bin_center[()],
                                             {"units": mattrs.get("units", ""),
                                              "long_name": "geometric bin centre"})
        for name, obj in mg.items():
            if not isinstance(obj, h5py.Dataset):
                continue
            canon = canonical(name)
            if canon in ("quantile_levels", "bin_center"):
                continue
            va = dict(mattrs, statistic=canon)
            va.update({k: v for k, v in _unit_attrs(obj).items() if k != "per"})
            vname = f"{m}_{canon}"
            if canon == "path_values":
                arr = _StackedArray(f, grid, f"metrics/{m}/{name}", obj.shape, obj.dtype)
                variables[vname] = xr.Variable(gd + ("path",),
                                               indexing.LazilyIndexedArray(arr), va)
                continue
            if obj.ndim == 0:
                dims = gd
            elif obj.ndim == 1 and canon == "bin_edges":
                dims = gd + (f"{m}_edge",)
            elif obj.ndim == 1 and levels is not None and obj.shape[0] == len(levels) and (
                    canon in ("quantile", "es", "quantile_ci_low", "quantile_ci_high",
                              "es_se", "tail_samples") or obj.shape[0] != nbins):
                dims = gd + (qdim,)
            elif obj.ndim == 1 and obj.shape[0] == nbins:
                dims = gd + (f"{m}_bin",)
            else:
                continue  # a shape this version does not know: ignore (forward compatible)
            arr = _stack(per_point(lambda g, n=f"metrics/{m}/{name}": g[n][()] if n in g
                                   else None), grid)
            variables[vname] = xr.Variable(dims, arr, va)

    # profiles
    if "profile" in p0:
        pg = p0["profile"]
        step = pg["step"][()] if "step" in pg else None
        if step is not None:
            coords["step"] = xr.Variable("step", step, {"units": "steps"})
            tds = pg.get("time")
            if tds is not None:
                coords["time"] = xr.Variable("step", tds[()], {"units": "s"})
            else:
                dt = _dt_seconds(attrs.get("config", ""))
                if dt is not None:
                    coords["time"] = xr.Variable("step", step * dt,
                                                 {"units": "s", "computed_by": "marginfall"})
        for name, obj in pg.items():
            if name in ("step", "time") or not isinstance(obj, h5py.Dataset) or obj.ndim != 1:
                continue
            arr = _stack(per_point(lambda g, n=f"profile/{name}": g[n][()] if n in g
                                   else None), grid)
            variables[f"profile_{name}"] = xr.Variable(gd + ("step",), arr, _unit_attrs(obj))

    # per-path metric samples (lazy): /point_<i>/path_values/<metric> (format 1.4+); an older
    # draft put them in the metric group (handled above as m_path_values)
    pv = p0.get("path_values")
    if isinstance(pv, h5py.Group):
        if "path_index" in pv and "path" not in coords:
            coords["path"] = xr.Variable("path", pv["path_index"][()], {"units": "path"})
        for name, obj in pv.items():
            if name == "path_index" or not isinstance(obj, h5py.Dataset) or obj.ndim != 1:
                continue
            arr = _StackedArray(f, grid, f"path_values/{name}", obj.shape, obj.dtype)
            va = dict(_unit_attrs(obj), metric=name, statistic="path_values")
            variables[f"{name}_path_values"] = xr.Variable(gd + ("path",),
                                                           indexing.LazilyIndexedArray(arr), va)

    # per-path table (lazy)
    if "paths" in p0:
        tg = p0["paths"]
        if "path_index" in tg and "path" not in coords:
            coords["path"] = xr.Variable("path", tg["path_index"][()], {"units": "path"})
        for name, obj in tg.items():
            if name == "path_index" or not isinstance(obj, h5py.Dataset):
                continue
            arr = _StackedArray(f, grid, f"paths/{name}", obj.shape, obj.dtype)
            variables[f"paths_{name}"] = xr.Variable(gd + ("path",),
                                                     indexing.LazilyIndexedArray(arr),
                                                     _unit_attrs(obj))
    if "path" not in coords and any(v.dims[-1:] == ("path",) for v in variables.values()):
        n = next(v.shape[-1] for v in variables.values() if v.dims[-1:] == ("path",))
        coords["path"] = xr.Variable("path", np.arange(n), {"units": "path"})

    for name, reader in GROUP_READERS.items():
        if name in p0:
            reader(f, grid, gd, p0[name], variables, coords)

    ds = xr.Dataset(variables, coords=coords, attrs=attrs)
    ds.attrs["metrics"] = metrics
    _derive(ds, derive)
    return ds


def metric_names(ds):
    """The metrics of a Dataset from ``open_results``, in file order."""
    return list(ds.attrs.get("metrics", []))


def path_samples(ds, metric):
    """Per-path values of a metric as an xarray DataArray over (sweep dims..., path), or None.

    Uses ``m_path_values`` (format 1.3+) when present, else the per-path table
    (``output.paths: true``). Per-cascade metrics have no per-path values."""
    for name in (f"{metric}_path_values", f"paths_{PATH_COLUMN.get(metric, metric)}"):
        if name in ds.variables:
            return ds[name]
    return None


def _derive(ds, derive):
    """Fill in statistics the file does not hold, from what it does hold."""
    computed = {"computed_by": "marginfall.stats"}
    for m in metric_names(ds):
        if f"{m}_mean_se" not in ds and f"{m}_m2" in ds and f"{m}_count" in ds:
            se = stats.mean_se_from_moments(ds[f"{m}_m2"].values, ds[f"{m}_count"].values)
            ds[f"{m}_mean_se"] = xr.Variable(ds[f"{m}_m2"].dims, se,
                                             dict(ds[f"{m}_mean"].attrs, statistic="mean_se",
                                                  **computed))
    for name in ("prob_bad_debt", "prob_fund_shortfall"):
        # a stored standard error (format 1.3+) under its long name is the `_se` variable
        if f"{name}_standard_error" in ds and f"{name}_se" not in ds:
            ds[f"{name}_se"] = ds[f"{name}_standard_error"]
        if name in ds and "n_paths" in ds:
            p, n = ds[name].values, ds["n_paths"].values.astype(float)
            with np.errstate(invalid="ignore", divide="ignore"):
                k = np.round(p * n)
                lo, hi = stats.wilson_interval(k, n)
            for suffix, val in (("se", stats.proportion_se(p, n)), ("ci_low", lo),
                                ("ci_high", hi)):
                if f"{name}_{suffix}" not in ds:
                    ds[f"{name}_{suffix}"] = xr.Variable(ds[name].dims, val,
                                                         dict(units="fraction", **computed))
    for m in metric_names(ds):
        if "quantile" not in ds.coords or f"{m}_quantile" not in ds:
            continue
        qdim = f"{m}_quantile" if f"{m}_quantile" in ds.coords else "quantile"
        need = [s for s in ("quantile_ci_low", "quantile_ci_high", "es_se")
                if f"{m}_{s}" not in ds]
        if not need:
            continue
        samples = path_samples(ds, m)
        usable = samples is not None and derive is not False and not (
            derive == "auto" and samples.size > 5_000_000)
        levels = ds[qdim].values
        qvar = ds[f"{m}_quantile"]
        out = {s: np.full(qvar.shape, np.nan) for s in need}
        if usable:
            x = np.asarray(samples.values, dtype=float)
            for index in np.ndindex(*x.shape[:-1]):
                v = x[index]
                v = v[np.isfinite(v)]
                if v.size == 0:
                    continue
                lo, hi = stats.quantile_ci(v, levels)
                res = {"quantile_ci_low": lo, "quantile_ci_high": hi,
                       "es_se": stats.expected_shortfall_se(v, levels)}
                for s in need:
                    out[s][index] = res[s]
            how = computed
        else:  # no per-path values (or not read): NaN, and say why
            how = {"computed_by": "unavailable: no per-path values in the file"
                   if samples is None else "not computed (derive=False or a large file)"}
        for s in need:
            ds[f"{m}_{s}"] = xr.Variable(qvar.dims, out[s], dict(
                units=ds[f"{m}_mean"].attrs.get("units", ""), statistic=s, **how))


@xr.register_dataset_accessor("marginfall")
class MarginfallAccessor:
    """``ds.marginfall``: helpers on a Dataset from ``open_results``, including ``traces(...)``
    and ``list_traces()`` for files written with ``output.traces``/``output.traces_worst``."""

    def __init__(self, ds):
        self._ds = ds

    @property
    def sweep_dims(self):
        """The sweep dimensions (parameter names for a product sweep, else ``point``)."""
        return list(self._ds.attrs.get("sweep_dims", []))

    @property
    def metrics(self):
        return metric_names(self._ds)

    def samples(self, metric, **sel):
        """Per-path values of ``metric`` at one point as a numpy array (or None)."""
        s = path_samples(self._ds, metric)
        if s is None:
            return None
        return np.asarray(s.sel(**sel).values if sel else s.values, dtype=float)

    def points(self):
        """Iterate (selection dict, label) over the sweep's cells held by the file."""
        dims = self.sweep_dims
        if not dims:
            yield {}, "single point"
            return
        sizes = [self._ds.sizes[d] for d in dims]
        for idx in np.ndindex(*sizes):
            sel = {d: self._ds[d].values[i] for d, i in zip(dims, idx)}
            label = (str(self._ds["label"].isel(dict(zip(dims, idx))).item())
                     if "label" in self._ds.coords else ", ".join(f"{k}={v}" for k, v in sel.items()))
            isel = dict(zip(dims, idx))
            if "n_paths" in self._ds and not np.isfinite(float(self._ds["n_paths"].isel(isel))):
                continue
            yield isel, label

    def traces(self, point=None, path_index=None, worst_rank=1):
        """One traced path of this file (``marginfall.open_trace`` on ``source_file``).

        ``point`` defaults to the only point of a single-point file (else 0)."""
        from .traces import open_trace
        if point is None:
            p = np.asarray(self._ds["point"].values).ravel() if "point" in self._ds.coords else [0]
            point = int(p[0]) if len(p) == 1 else 0
        return open_trace(self._ds.attrs["source_file"], point, path_index, worst_rank)

    def list_traces(self):
        """The traced paths of this file (``marginfall.list_traces``)."""
        from .traces import list_traces
        return list_traces(self._ds.attrs["source_file"])
