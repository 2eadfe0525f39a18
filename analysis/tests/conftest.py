"""Shared fixtures: result files written by the real engine in a temporary directory.

The engine is ``$MF_BINARY`` when set (ctest sets it per preset), else
``build/release/marginfall`` of this repository."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "analysis"))


def binary():
    exe = os.environ.get("MF_BINARY") or os.path.join(REPO, "build", "release", "marginfall")
    if not os.path.isfile(exe):
        pytest.skip(f"no marginfall binary at {exe} (build it or set MF_BINARY)")
    return exe


def run_engine(config, out, *sets, paths=None):
    cmd = [binary(), "run", os.path.join(REPO, config), "-o", str(out), "--force"]
    for s in sets:
        cmd += ["--set", s]
    if paths:
        cmd += ["-n", str(paths)]
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=REPO)
    return str(out)


@pytest.fixture(scope="session")
def sweep_file(tmp_path_factory):
    """tests/configs/sweep-small.yaml (3 x 2 product sweep, per-path table on)."""
    return run_engine("tests/configs/sweep-small.yaml", tmp_path_factory.mktemp("s") / "s.h5")


@pytest.fixture(scope="session")
def single_file(tmp_path_factory):
    """tests/configs/small.yaml, 64 paths, per-path table on."""
    return run_engine("tests/configs/small.yaml", tmp_path_factory.mktemp("p") / "p.h5",
                      paths=64)


@pytest.fixture(scope="session")
def zip_file(tmp_path_factory):
    """A zipped sweep of the margin-mode shares (3 points)."""
    cfg = tmp_path_factory.mktemp("z") / "zip.yaml"
    with open(os.path.join(REPO, "tests/configs/small.yaml")) as fh:
        text = fh.read()
    text += ("sweep:\n  mode: zip\n  parameters:\n"
             "    - key: population.margin_modes.isolated\n      values: [0.0, 0.5, 1.0]\n"
             "    - key: population.margin_modes.cross\n      values: [1.0, 0.5, 0.0]\n")
    cfg.write_text(text)
    return run_engine(str(cfg), cfg.parent / "zip.h5", paths=8)
