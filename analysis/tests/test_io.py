"""The loader on files the engine writes, and on files rewritten as later/other formats."""
import shutil

import h5py
import numpy as np
import pytest

import marginfall as mf
from marginfall import frontier, stats

from conftest import run_engine


def test_product_sweep_dims_and_sel(sweep_file):
    with mf.open_results(sweep_file) as ds:
        assert ds.attrs["sweep_dims"] == ["max_leverage", "depth_usd"]
        assert ds.sizes["max_leverage"] == 3 and ds.sizes["depth_usd"] == 2
        sub = ds.sel(max_leverage=50)
        # point order: last parameter fastest -> (50, 2nd depth) is point 3
        assert int(sub["point"].isel(depth_usd=1)) == 3
        with h5py.File(sweep_file) as f:
            assert float(sub["prob_bad_debt"].isel(depth_usd=1)) == f["point_3/prob_bad_debt"][()]
            q = f["point_3/metrics/liquidated_notional/quantiles"][()]
        assert np.array_equal(sub["liquidated_notional_quantile"].isel(depth_usd=1).values, q)
        assert ds.attrs["config"].startswith("#") and len(ds.attrs["verification_digest"]) == 16


def test_statistics_cross_checked_against_per_path_table(single_file):
    with mf.open_results(single_file) as ds, h5py.File(single_file) as f:
        assert ds.attrs["sweep_dims"] == []
        for m in ("liquidated_notional", "largest_cascade", "bad_debt"):
            x = f[f"point_0/paths/{m}"][()]
            # SE from the engine's m2/count equals the direct computation from the paths
            assert float(ds[f"{m}_mean_se"]) == pytest.approx(
                np.std(x, ddof=1) / np.sqrt(x.size), rel=1e-9)
            levels = ds["quantile"].values
            assert np.array_equal(ds[f"{m}_quantile"].values, stats.quantile(x, levels))
            assert np.allclose(ds[f"{m}_es"].values, stats.expected_shortfall(x, levels),
                               rtol=1e-12)
            lo, hi = stats.quantile_ci(x, levels)
            assert np.array_equal(ds[f"{m}_quantile_ci_low"].values, lo, equal_nan=True)
            assert np.array_equal(ds[f"{m}_quantile_ci_high"].values, hi, equal_nan=True)
        pbd = float(ds["prob_bad_debt"])
        assert pbd == np.mean(f["point_0/paths/bad_debt"][()] > 0)
        lo, hi = stats.wilson_interval(round(pbd * 64), 64)
        assert float(ds["prob_bad_debt_ci_low"]) == pytest.approx(lo)


def test_per_path_arrays_are_lazy(sweep_file):
    with mf.open_results(sweep_file) as ds:
        var = ds.variables["paths_liquidated_notional"]
        assert not isinstance(var._data, np.ndarray)  # not read at open
        part = ds["paths_liquidated_notional"].isel(max_leverage=2, path=slice(2, 6)).values
        with h5py.File(sweep_file) as f:
            assert np.array_equal(part[1], f["point_5/paths/liquidated_notional"][2:6])


def test_zip_sweep_has_point_dimension(zip_file):
    with mf.open_results(zip_file) as ds:
        assert ds.attrs["sweep_mode"] == "zip"
        assert ds.marginfall.sweep_dims == ["point"]
        assert ds["margin_modes_isolated"].values.tolist() == [0.0, 0.5, 1.0]
        assert ds["paths_initial_collateral"].dims == ("point", "path")


def test_part_file_fills_absent_points_with_nan(tmp_path):
    out = run_engine("tests/configs/sweep-small.yaml", tmp_path / "part.h5", paths=4)
    part = tmp_path / "part0.h5"
    import subprocess
    from conftest import binary, REPO
    subprocess.run([binary(), "run", f"{REPO}/tests/configs/sweep-small.yaml", "-o", str(part),
                    "-n", "4", "--points-part", "0/2"], check=True, capture_output=True)
    with mf.open_results(part) as ds, mf.open_results(out) as full:
        held = np.isfinite(ds["prob_bad_debt"].values)
        assert 0 < held.sum() < held.size
        assert np.array_equal(ds["prob_bad_debt"].values[held], full["prob_bad_debt"].values[held])
        assert len(list(ds.marginfall.points())) == held.sum()


PRECISION = ("mean_standard_error", "quantile_ci_low", "quantile_ci_high",
             "expected_shortfall_standard_error", "tail_samples")


def _put(group, name, data):
    if name in group:
        del group[name]
    group[name] = data


def _rewrite(src, dst, version, rename=True, add_path_values=True, drop_paths=False,
             strip_precision=False):
    """Copy an engine file and rewrite it as another format: rename the moments (2.0), put
    path_values in the metric groups, drop the per-path table and path_values, or strip the
    precision datasets of 1.4 (an older file)."""
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as f:
        f.attrs["format_version"] = np.array(version, dtype=np.int32)
        for p in [k for k in f if k.startswith("point_")]:
            for m, g in f[f"{p}/metrics"].items():
                if rename:  # 1.x names <-> 2.0 names, whichever the engine wrote
                    to_new = "count" in g
                    for old in ("count", "mean", "m2", "min", "max"):
                        a, b = (old, f"sample_{old}") if to_new else (f"sample_{old}", old)
                        if a in g:
                            g.move(a, b)
                            g[b].attrs["units"] = g.attrs["unit"]
                if strip_precision:
                    for name in PRECISION:
                        if name in g:
                            del g[name]
                col = {"cascade_count": "cascades"}.get(m, m)
                if add_path_values and g.attrs["per"] in ("path", b"path") and \
                        col in f[f"{p}/paths"]:
                    _put(g, "path_values", f[f"{p}/paths/{col}"][()].astype(float))
                    _put(g, "mean_standard_error", 12345.0)  # a stored value wins
            if strip_precision:
                for k in [k for k in f[p] if k.startswith("prob_") and k.count("_") > 2]:
                    del f[f"{p}/{k}"]
            if drop_paths:
                for k in ("paths", "path_values"):
                    if k in f[p]:
                        del f[f"{p}/{k}"]


def test_both_moment_namings_are_accepted(sweep_file, tmp_path):
    """A file with the other naming of the moments (1.x count/mean/... or 2.0 sample_*) loads
    to the same variables."""
    with h5py.File(sweep_file, "r") as f:
        engine_major = int(f.attrs["format_version"][0])
    version = [1, 4] if engine_major >= 2 else [2, 0]
    new = tmp_path / "renamed.h5"
    _rewrite(sweep_file, new, version, drop_paths=True)
    with mf.open_results(sweep_file) as old, mf.open_results(new) as ds:
        assert ds.attrs["format_version"] == f"{version[0]}.{version[1]}"
        for v in ("liquidated_notional_mean", "liquidated_notional_count",
                  "bad_debt_m2", "largest_cascade_max", "cascade_notional_quantile"):
            assert np.array_equal(ds[v].values, old[v].values, equal_nan=True), v
        assert float(ds["liquidated_notional_mean_se"].max()) == 12345.0
        # without the per-path table, path_values make intervals and paired differences possible
        assert "paths_liquidated_notional" not in ds
        assert np.array_equal(ds["liquidated_notional_quantile_ci_low"].values,
                              old["liquidated_notional_quantile_ci_low"].values, equal_nan=True)
        a = ds.marginfall.samples("liquidated_notional", max_leverage=20, depth_usd=1e6)
        b = old.marginfall.samples("liquidated_notional", max_leverage=20, depth_usd=1e6)
        assert np.array_equal(a, b)


@pytest.mark.parametrize("version", [[3, 0], [0, 9]])
def test_wrong_major_refused(sweep_file, tmp_path, version):
    bad = tmp_path / "bad.h5"
    _rewrite(sweep_file, bad, version, rename=False, add_path_values=False)
    with pytest.raises(mf.FormatError, match=rf"bad\.h5: format_version {version[0]}\.{version[1]} "
                                             r"is not supported"):
        mf.open_results(bad)


def test_wrong_format_refused(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.attrs["format"] = "marginfall-population"
    with pytest.raises(mf.FormatError, match=r"other\.h5: not a marginfall result file "
                                             r"\(attribute 'format' is 'marginfall-population'"):
        mf.open_results(other)
    text = tmp_path / "text.h5"
    text.write_text("hello")
    with pytest.raises(mf.FormatError, match=r"text\.h5: not an HDF5 file"):
        mf.open_results(text)
    with pytest.raises(FileNotFoundError):
        mf.open_results(tmp_path / "missing.h5")


def test_paired_difference_between_sweep_points(sweep_file):
    with mf.open_results(sweep_file) as ds:
        a = ds.marginfall.samples("liquidated_notional", max_leverage=20, depth_usd=1e6)
        b = ds.marginfall.samples("liquidated_notional", max_leverage=100, depth_usd=1e6)
        d, se, se_unpaired = stats.paired_difference(a, b)
        assert d == pytest.approx(float(ds["liquidated_notional_mean"].sel(
            max_leverage=100, depth_usd=1e6) - ds["liquidated_notional_mean"].sel(
            max_leverage=20, depth_usd=1e6)), rel=1e-9)
        # paired SE^2 = SE_a^2 + SE_b^2 - 2 cov(a, b) / N: the covariance is what pairing removes
        n = a.size
        cov = np.cov(a, b, ddof=1)[0, 1]
        assert se ** 2 == pytest.approx(se_unpaired ** 2 - 2 * cov / n, rel=1e-9)
        assert se == pytest.approx(np.std(b - a, ddof=1) / np.sqrt(n), rel=1e-12)


def test_frontier_dominance():
    flags, by = frontier.dominated(np.array([[1, 1, 1], [2, 2, 2], [0.5, 3, 1], [1, 1, 1]]),
                                   labels=["a", "b", "c", "d"])
    assert flags.tolist() == [False, True, False, False] and by[1] == "a; d"


def test_frontier_table_on_sweep(sweep_file):
    with mf.open_results(sweep_file) as ds, h5py.File(sweep_file) as f:
        t = frontier.frontier_table(ds)
        assert len(t) == 6
        assert t["capital"].iloc[3] == f["point_3/paths/initial_collateral"][0]
        assert (t["capital"] > 0).all()


def test_format_1_4_precision_datasets_and_six_levels(single_file, tmp_path):
    """A file with configurable quantile levels (6 here) and stored precision datasets: the
    stored values are used, the levels become the `quantile` coordinate."""
    new = tmp_path / "v14.h5"
    shutil.copy(single_file, new)
    levels = np.array([0.5, 0.9, 0.95, 0.975, 0.99, 0.999])
    with h5py.File(new, "r+") as f:
        f.attrs["format_version"] = np.array([1, 4], dtype=np.int32)
        for m, g in f["point_0/metrics"].items():
            for name in PRECISION[1:] + ("quantile_levels", "quantiles", "expected_shortfall"):
                if name in g:
                    del g[name]
            g["quantile_levels"] = levels
            g["quantiles"] = np.arange(6.0)
            g["expected_shortfall"] = np.arange(6.0) + 1
            g["quantile_ci_low"] = np.arange(6.0) - 0.5
            g["quantile_ci_high"] = np.arange(6.0) + 0.5
            g["tail_samples"] = np.arange(6, dtype=np.int64)
        _put(f["point_0"], "prob_bad_debt_standard_error", 0.01)
    with mf.open_results(new) as ds:
        assert ds["quantile"].values.tolist() == levels.tolist()
        assert ds["bad_debt_quantile_ci_low"].values.tolist() == (np.arange(6.0) - 0.5).tolist()
        assert ds["bad_debt_tail_samples"].dims == ("quantile",)
        assert "computed_by" not in ds["bad_debt_quantile_ci_high"].attrs
        assert "computed_by" in ds["bad_debt_es_se"].attrs  # absent in the file: computed
        assert float(ds["prob_bad_debt_standard_error"]) == 0.01


def test_schema_units_and_graceful_degradation(monkeypatch):
    from marginfall import schema
    assert schema.unit("venue.markets.BTC.depth_usd") == "USD"
    assert "leverage" in schema.doc("population.leverage.median")
    assert schema.axis_label("venue.insurance_fund_usd") == "venue.insurance_fund_usd (USD)"
    # without any binary: empty units, the key as its own documentation
    monkeypatch.setattr(schema, "find_binary", lambda binary=None: None)
    schema.load_schema.cache_clear()
    try:
        assert schema.load_schema() == {}
        assert schema.unit("venue.insurance_fund_usd") == ""
        assert schema.axis_label("venue.insurance_fund_usd") == "venue.insurance_fund_usd"
    finally:
        schema.load_schema.cache_clear()


def test_without_per_path_values_intervals_are_nan(sweep_file, tmp_path):
    new = tmp_path / "nopaths.h5"
    _rewrite(sweep_file, new, [1, 2], rename=False, add_path_values=False, drop_paths=True,
             strip_precision=True)
    with mf.open_results(new) as ds:
        assert np.isnan(ds["liquidated_notional_quantile_ci_low"].values).all()
        assert "unavailable" in ds["liquidated_notional_es_se"].attrs["computed_by"]
        assert np.isfinite(ds["liquidated_notional_mean_se"].values).all()
        # per-cascade metrics have no per-path values either
        assert np.isnan(ds["cascade_notional_quantile_ci_high"].values).all()
    older = tmp_path / "older.h5"  # per-path values kept, precision datasets stripped
    _rewrite(sweep_file, older, [1, 2], rename=False, add_path_values=False,
             strip_precision=True)
    with mf.open_results(older, derive=False) as ds:
        assert "not computed" in ds["bad_debt_quantile_ci_low"].attrs["computed_by"]
    with mf.open_results(older) as ds, mf.open_results(sweep_file) as ref:
        assert ds["bad_debt_quantile_ci_low"].attrs["computed_by"] == "marginfall.stats"
        assert np.array_equal(ds["bad_debt_quantile_ci_low"].values,
                              ref["bad_debt_quantile_ci_low"].values, equal_nan=True)


def test_engine_precision_figures_reproduced(sweep_file):
    """Format 1.4+: the engine's own standard errors and intervals equal marginfall.stats on the
    same samples (skipped for an older engine, which writes none)."""
    with h5py.File(sweep_file) as f:
        g0 = f["point_0/metrics/liquidated_notional"]
        if "expected_shortfall_standard_error" not in g0:
            pytest.skip("engine writes format < 1.4 (no precision figures)")
        for p in range(6):
            for m in ("liquidated_notional", "bad_debt", "largest_cascade", "cascade_count"):
                g = f[f"point_{p}/metrics/{m}"]
                col = {"cascade_count": "cascades"}.get(m, m)
                x = (f[f"point_{p}/path_values/{m}"][()] if "path_values" in f[f"point_{p}"]
                     else f[f"point_{p}/paths/{col}"][()].astype(float))
                lv = g["quantile_levels"][()]
                lo, hi = stats.quantile_ci(x, lv)
                assert np.array_equal(lo, g["quantile_ci_low"][()], equal_nan=True), (p, m)
                assert np.array_equal(hi, g["quantile_ci_high"][()], equal_nan=True), (p, m)
                assert np.allclose(stats.expected_shortfall_se(x, lv),
                                   g["expected_shortfall_standard_error"][()], rtol=1e-12,
                                   equal_nan=True), (p, m)
                assert stats.mean_se(x) == pytest.approx(g["mean_standard_error"][()], rel=1e-12)
