"""Untrusted result files (issue 8, part 5): `marginfall info` and `marginfall merge` on damaged
files. Truncations, bit flips at fixed seeds, datasets rewritten with another dtype or shape,
NaN and infinite values, negative and INT64_MIN counts, absurd point counts and indices, a seed
stored as text and a swapped pair of point groups. Every case either exits with a code > 0
(never a signal), names the damaged file and (merge) writes nothing, or, where the change hit
bytes that do not matter, gives exactly the clean file's output. Under the ASan build any
sanitizer report fails the case."""
import concurrent.futures
import os
import random
import shutil
import time

import h5py
import numpy as np

from mftest import (SANITIZED, check, cleanup, config, differing, finish, leak_check_env, run,
                    tmpdir)

work = tmpdir()
started = time.time()
INT64_MIN = np.iinfo(np.int64).min
# Under ASan a run costs over a second of CPU (most of it MPI's start): there the battery takes
# every eighth flip seed, every third cut offset and every fourth rewrite, plus the
# merge-only rewrites (the release build runs them all).
STRIDE = 8 if SANITIZED else 1


def path(name):
    return os.path.join(work, name)


def marginfall(args):
    return run(args, extra_env=leak_check_env())


# The cases run four at a time (a run spends most of its time starting MPI, not computing);
# their checks are reported in order at the end.
pool = concurrent.futures.ThreadPoolExecutor(max_workers=4)
pending = []


def later(function, *args, **kwargs):
    pending.append(pool.submit(function, *args, **kwargs))


def report_pending():
    for future in pending:
        check(*future.result())
    pending.clear()


# --- the clean files, made once ----------------------------------------------------------------
clean = path("clean.h5")
result = marginfall(["run", config("small.yaml"), "-o", clean, "--quiet"])
sweep = config("sweep-small.yaml")
part0, part1 = path("part0.h5"), path("part1.h5")
results = [result,
           marginfall(["run", sweep, "-o", part0, "--points", "0:3", "--quiet"]),
           marginfall(["run", sweep, "-o", part1, "--points", "3:6", "--quiet"])]
merged_clean = path("merged-clean.h5")
results.append(marginfall(["merge", merged_clean, part0, part1]))
if not check(all(r.returncode == 0 for r in results),
             f"clean run, parts and merge {[r.stderr[-200:] for r in results if r.returncode]}"):
    finish()
with h5py.File(clean, "r") as f:
    check(f["point_0/paths/bad_debt"].fletcher32 and f["point_0/profile/fund"].fletcher32
          and f["point_0/metrics/bad_debt/counts"].fletcher32
          and tuple(f.attrs["format_version"]) == (2, 1),
          "format 2.1: arrays carry Fletcher32 checksums")
clean_info = marginfall(["info", clean])
check(clean_info.returncode == 0 and "liquidated_notional" in clean_info.stdout, "info on the clean file")


def sanitizer_report(stderr):
    return any(s in stderr for s in ("runtime error", "AddressSanitizer", "LeakSanitizer: detected"))


def info_output(result):
    """info's output after its first line, which names the file."""
    return result.stdout.split("\n", 1)[-1]


def expect_info(damaged, what, must_refuse=False):
    """info on `damaged`: refused (exit > 0, no signal, message naming the file) or, unless
    must_refuse, exactly the clean file's output."""
    result = marginfall(["info", damaged])
    name = os.path.basename(damaged)
    refused = 0 < result.returncode < 128 and name in result.stderr and not result.stdout
    same = (result.returncode == 0 and not must_refuse
            and info_output(result) == info_output(clean_info))
    ok = (refused or same) and not sanitizer_report(result.stderr)
    return ok, (f"info, {what}: {'refused' if refused else 'same output' if same else 'WRONG'} "
                f"(exit {result.returncode}: {result.stderr.strip()[-240:]!r})")


def expect_merge(damaged, what, must_refuse=False, other=part1):
    """merge of `damaged` (in place of part0) and `other`: refused naming the damaged file,
    writing nothing, or, unless must_refuse, the clean merge's datasets exactly."""
    out = path("merged-" + os.path.basename(damaged))
    result = marginfall(["merge", out, damaged, other])
    name = os.path.basename(damaged)
    refused = (0 < result.returncode < 128 and name in result.stderr
               and not os.path.exists(out))
    same = (result.returncode == 0 and not must_refuse and os.path.exists(out)
            and not differing(out, merged_clean))
    ok = (refused or same) and not sanitizer_report(result.stderr)
    if os.path.exists(out):
        os.remove(out)
    return ok, (f"merge, {what}: {'refused' if refused else 'same datasets' if same else 'WRONG'} "
                f"(exit {result.returncode}: {result.stderr.strip()[-240:]!r})")


def copy_of(source, name):
    target = path(name)
    shutil.copy(source, target)
    return target


# --- truncation ---------------------------------------------------------------------------------
for source, expect in ((clean, expect_info), (part0, expect_merge)):
    data = open(source, "rb").read()
    cuts = (0, 8, 47, 100, 2000, len(data) // 3, len(data) // 2, len(data) - 4096, len(data) - 1)
    for cut in cuts[::3 if SANITIZED else 1]:
        damaged = path(f"cut{cut}-{os.path.basename(source)}")
        with open(damaged, "wb") as f:
            f.write(data[:cut])
        later(expect, damaged, f"cut at byte {cut} of {len(data)}", must_refuse=True)
report_pending()
result = marginfall(["info", path("cut100-clean.h5")])
check("truncated or not an HDF5 file" in result.stderr and "HDF5-DIAG" not in result.stderr,
      f"a cut-off file is named as truncated, without HDF5's error stack: {result.stderr[-200:]!r}")

# --- bit flips at fixed seeds -------------------------------------------------------------------
for source, expect in ((clean, expect_info), (part0, expect_merge)):
    data = open(source, "rb").read()
    for seed in range(1, 41, STRIDE):
        rng = random.Random(seed)
        offset, bit = rng.randrange(len(data)), rng.randrange(8)
        flipped = bytearray(data)
        flipped[offset] ^= 1 << bit
        damaged = path(f"flip{seed}-{os.path.basename(source)}")
        with open(damaged, "wb") as f:
            f.write(flipped)
        later(expect, damaged, f"seed {seed}: bit {bit} of byte {offset} flipped")
report_pending()


# --- values and types rewritten with h5py (valid checksums: the readers' own checks) ---------
def edited(source, name, edit):
    target = copy_of(source, name + "-" + os.path.basename(source))
    with h5py.File(target, "r+") as f:
        edit(f)
    return target


def replace(f, name, value, **kwargs):
    del f[name]
    f.create_dataset(name, data=value, **kwargs)


def set_row(name, row, value):
    def edit(f):
        values = f[name][()]
        values[row] = value
        f[name][...] = values
    return edit


def retype(name, dtype):
    return lambda f: replace(f, name, np.asarray(f[name][()]).astype(dtype))


M = "point_0/metrics/bad_debt/"
cases = [
    ("counts as float32", retype(M + "counts", np.float32)),
    ("n_paths as int16", retype("point_0/n_paths", np.int16)),
    ("quantiles as float32", retype(M + "quantiles", np.float32)),
    ("count as uint64", retype(M + "sample_count", np.uint64)),
    ("mean as a string", lambda f: replace(f, M + "sample_mean", "1.5")),
    ("counts as strings", lambda f: replace(f, M + "counts", np.array([b"1"] * len(f[M + "counts"])))),
    ("profile/fund 2-D", lambda f: replace(f, "point_0/profile/fund",
                                           f["point_0/profile/fund"][()].reshape(1, -1))),
    ("bin_edges one row short", lambda f: replace(f, M + "bin_edges", f[M + "bin_edges"][:-1])),
    ("profile/fund one row longer", lambda f: replace(f, "point_0/profile/fund",
                                                      np.append(f["point_0/profile/fund"][()], 0.0))),
    ("NaN quantile", set_row(M + "quantiles", 2, np.nan)),
    ("+inf mean", lambda f: replace(f, M + "sample_mean", np.float64(np.inf))),
    ("-inf in the fund profile", set_row("point_0/profile/fund", 10, -np.inf)),
    ("NaN probability", lambda f: replace(f, "point_0/prob_bad_debt", np.float64(np.nan))),
    ("probability 1.5", lambda f: replace(f, "point_0/prob_bad_debt", np.float64(1.5))),
    ("negative bin count", set_row(M + "counts", 3, -5)),
    ("count -1", lambda f: replace(f, M + "sample_count", np.int64(-1))),
    ("count INT64_MIN", lambda f: replace(f, M + "sample_count", np.int64(INT64_MIN))),
    ("underflow INT64_MIN", lambda f: replace(f, M + "underflow", np.int64(INT64_MIN))),
    ("n_paths INT64_MIN", lambda f: replace(f, "point_0/n_paths", np.int64(INT64_MIN))),
    ("counts that do not sum to count", set_row(M + "counts", 0, 10 ** 6)),
    ("quantile levels not increasing", set_row(M + "quantile_levels", 1, 0.2)),
    ("quantile level 1.5", set_row(M + "quantile_levels", 3, 1.5)),
    ("bin edges not increasing", set_row(M + "bin_edges", 2, 0.0)),
    ("paths attribute INT64_MIN", lambda f: f.attrs.modify("paths", np.int64(INT64_MIN))),
    ("points 2^40 without a list", lambda f: (f.attrs.__delitem__("points_in_file"),
                                              f.attrs.modify("points", np.int64(1 << 40)))),
    ("points INT64_MIN", lambda f: f.attrs.modify("points", np.int64(INT64_MIN))),
    ("points_in_file out of range", lambda f: f.attrs.__setitem__("points_in_file",
                                                                  np.array([7], dtype=np.int64))),
    ("point_index 99", lambda f: f["point_0"].attrs.modify("point_index", np.int32(99))),
    ("seed as a string", lambda f: f.attrs.__setitem__("seed", "7")),
    ("seed as float64", lambda f: f.attrs.__setitem__("seed", np.float64(7))),
    ("2^40 declared rows of a step scale", lambda f: (
        f["point_0/profile"].__delitem__("step"),
        f["point_0/profile"].create_dataset("step", shape=(1 << 40,), dtype=np.int32,
                                            chunks=(1 << 16,)))),
    ("verification digest changed", lambda f: f.attrs.modify("verification_digest",
                                                              "0123456789abcdef")),
]
for what, edit in cases[::4 if SANITIZED else 1]:
    later(expect_info, edited(clean, what.replace(" ", "_").replace("/", "_"), edit), what,
          must_refuse=True)


def swap_points(f):
    f.move("point_0", "point_tmp")
    f.move("point_1", "point_0")
    f.move("point_tmp", "point_1")


merge_cases = cases + [
    ("NaN in a per-path column", set_row("point_0/paths/bad_debt", 5, np.nan)),
    ("negative per-path count", set_row("point_0/paths/liquidated_accounts", 5, -1)),
    ("path_index out of order", set_row("point_0/paths/path_index", 3, 0)),
    ("a swapped pair of point groups", swap_points),
    ("point group missing", lambda f: f.__delitem__("point_1")),
]
for what, edit in merge_cases[::4] + merge_cases[-5:] if SANITIZED else merge_cases:
    later(expect_merge, edited(part0, what.replace(" ", "_").replace("/", "_"), edit), what,
          must_refuse=True)
report_pending()

# A part of another configuration: refused, naming the first differing config line.
other_config = edited(part1, "other-config", lambda f: f.attrs.modify(
    "config", f.attrs["config"].replace("max_rounds:", "max_rounds: 7 #", 1)))
result = marginfall(["merge", path("merged-other.h5"), part0, other_config])
check(result.returncode == 3 and "max_rounds" in result.stderr
      and not os.path.exists(path("merged-other.h5")),
      f"merge names the differing config line (exit {result.returncode}: {result.stderr[-240:]!r})")

# A checksum failure is named as such: a flipped byte inside a chunk of raw data.
with h5py.File(clean, "r") as f:
    offset = f["point_0/profile/fund"].id.get_chunk_info(0).byte_offset
data = bytearray(open(clean, "rb").read())
data[offset + 16] ^= 0x10
raw_flip = path("raw-flip.h5")
open(raw_flip, "wb").write(data)
result = marginfall(["info", raw_flip])
check(result.returncode == 3 and "raw-flip.h5" in result.stderr and "profile/fund" in result.stderr
      and "checksum" in result.stderr,
      f"a flipped data byte fails its checksum, named (exit {result.returncode}: "
      f"{result.stderr[-240:]!r})")

pool.shutdown()
elapsed = time.time() - started
print(f"{elapsed:.1f} s{' (ASan)' if SANITIZED else ''}")
cleanup(work)
finish()
