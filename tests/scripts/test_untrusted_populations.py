"""Untrusted population snapshots and replay files: values HDF5 would clip on read (an asset
index or margin mode of -1 stored as int16), NaN quantities, absurd declared sizes, and a replay
that is a FIFO are refused with exit 3, naming the file (and the dataset and row where there is
one), and write nothing; the clean snapshot still runs."""
import os
import shutil

import h5py
import numpy as np

from mftest import check, cleanup, config, finish, run, tmpdir

work = tmpdir()
small = config("small.yaml")
clean = os.path.join(work, "book.h5")
result = run(["population", small, "-o", clean])
if not check(result.returncode == 0, f"population snapshot saved {result.stderr[-200:]}"):
    finish()


def variant(name, edit):
    path = os.path.join(work, name + ".h5")
    shutil.copy(clean, path)
    with h5py.File(path, "r+") as f:
        edit(f["population"])
    return path


def replace(group, name, values, dtype=None):
    del group[name]
    group.create_dataset(name, data=np.asarray(values, dtype=dtype))


def refused(path, what, *needles):
    out = os.path.join(work, "out-" + os.path.basename(path))
    result = run(["run", small, "--paths", "2", "-o", out, "--set", f"population.file={path}"])
    message = result.stderr.strip()
    ok = (result.returncode == 3 and os.path.basename(path) in message
          and all(n in message for n in needles) and not os.path.exists(out))
    check(ok, f"{what}: refused with exit 3 naming the file {needles} "
              f"(exit {result.returncode}: {message[-220:]!r})")


def edit_asset(group):
    values = group["position_asset"][()].astype(np.int16)
    values[5] = -1
    replace(group, "position_asset", values)


def edit_mode(group):
    values = group["account_mode"][()].astype(np.int16)
    values[3] = -1
    replace(group, "account_mode", values)


def edit_mode_high(group):
    values = group["account_mode"][()].astype(np.int16)
    values[3] = 300
    replace(group, "account_mode", values)


def edit_quantity(group):
    values = group["position_quantity"][()]
    values[7] = np.nan
    replace(group, "position_quantity", values)


def edit_huge(group):
    for name in list(group.keys()):
        dtype = group[name].dtype
        del group[name]
        group.create_dataset(name, shape=(1 << 33,), dtype=dtype, chunks=(1 << 16,))


refused(variant("asset_minus_one", edit_asset), "an asset index of -1 stored as int16",
        "position_asset[5]")
refused(variant("mode_minus_one", edit_mode), "a margin mode of -1 stored as int16",
        "account_mode[3]")
refused(variant("mode_300", edit_mode_high), "a margin mode of 300", "account_mode[3]")
refused(variant("nan_quantity", edit_quantity), "a NaN quantity")
refused(variant("huge", edit_huge), "2^33 declared accounts", "more than marginfall holds")

out = os.path.join(work, "clean-run.h5")
result = run(["run", small, "--paths", "2", "-o", out, "--set", f"population.file={clean}"])
check(result.returncode == 0, f"the clean snapshot runs {result.stderr[-200:]}")

# A replay that is a FIFO would block a reader for ever: refused before it is opened.
fifo = os.path.join(work, "replay.fifo")
os.mkfifo(fifo)
out = os.path.join(work, "fifo.h5")
result = run(["run", small, "--paths", "2", "-o", out,
              "--set", "market.assets.0.replay.format=csv",
              "--set", f"market.assets.0.replay.file={fifo}"], timeout=60)
check(result.returncode in (2, 3) and "not a regular file" in result.stderr
      and not os.path.exists(out),
      f"a FIFO replay is refused (exit {result.returncode}: {result.stderr.strip()[-200:]!r})")

cleanup(work)
finish()
