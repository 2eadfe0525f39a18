"""marginfall-report on a sweep file and a single-point file."""
import os
import subprocess

import pytest

from conftest import REPO

SCRIPT = os.path.join(REPO, "analysis", "bin", "marginfall-report")


def _run(*args):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, env=env)


def test_report_on_sweep(sweep_file, tmp_path):
    out = tmp_path / "rep"
    r = _run(sweep_file, "-o", str(out))
    assert r.returncode == 0, r.stderr
    files = set(os.listdir(out))
    assert {"summary.md", "cascade_ccdf.png", "frontier.png",
            "heatmap_liquidated_notional_mean.png"} <= files
    text = (out / "summary.md").read_text()
    assert "±" in text and "venue.max_leverage=20" in text and "Margin-policy frontier" in text
    for f in files - {"summary.md"}:
        assert f in text and (out / f).stat().st_size > 10_000
    # an existing non-empty directory is refused without --force
    r = _run(sweep_file, "-o", str(out))
    assert r.returncode == 4 and "not empty" in r.stderr
    assert _run(sweep_file, "-o", str(out), "--force").returncode == 0


def test_report_on_single_point(single_file, tmp_path):
    r = _run(single_file, "-o", str(tmp_path / "one"))
    assert r.returncode == 0, r.stderr
    assert "single point" in (tmp_path / "one" / "summary.md").read_text()


def test_report_refuses_non_result(tmp_path):
    bad = tmp_path / "x.h5"
    bad.write_text("no")
    r = _run(str(bad), "-o", str(tmp_path / "o"))
    assert r.returncode == 3 and "x.h5: not an HDF5 file" in r.stderr
