"""Per-path tables and traces are written collectively (docs/output.md, "How per-path tables and
traces are written"): every rank writes the rows and traces it computed into the file rank 0
created, with hyperslab selections. Whatever the number of ranks, and however unevenly the
blocks fall on them (a rank with no block of a point, a short last block, blocks restored from a
checkpoint on rank 0), every dataset and attribute equals the one the former way (whole rows
gathered on rank 0, kept behind MARGINFALL_GATHER_PATHS=1) writes, bit for bit."""
import glob
import os
import shutil

import h5py
import numpy as np

from mftest import (check, cleanup, config, datasets, digest, finish, interrupt_with_checkpoint,
                    long_small_config, run, tmpdir)

work = tmpdir()
GATHER = {"MARGINFALL_GATHER_PATHS": "1"}
# Run-dependent attributes (docs/output.md: attributes, never datasets).
RUN_FACTS = {"created", "wall_seconds", "ranks", "threads", "command_line", "DIMENSION_LIST",
             "REFERENCE_LIST"}


def attributes(path):
    out = {}
    with h5py.File(path, "r") as f:
        def grab(name, obj):
            for key, value in obj.attrs.items():
                if key not in RUN_FACTS:
                    out[(name, key)] = repr(np.asarray(value).tolist())
        grab("/", f)
        f.visititems(grab)
    return out


def table_and_traces(data):
    return {k: v for k, v in data.items() if "/paths/" in k or "/traces/" in k}


def same_as(reference, path, what):
    """Every dataset and attribute of `path` equals `reference`'s; the paths and traces exist."""
    a, b = datasets(reference), datasets(path)
    diff = sorted(n for n in set(a) | set(b) if a.get(n) != b.get(n))
    tables = table_and_traces(b)
    check(not diff and len(tables) > 0,
          f"{what}: every dataset equals the reference ({len(tables)} under paths/ and traces/; "
          f"differs: {diff[:5]})")
    x, y = attributes(reference), attributes(path)
    diff = sorted(n for n in set(x) | set(y) if x.get(n) != y.get(n))
    check(not diff, f"{what}: every attribute equals the reference, the digests included "
          f"(differs: {diff[:5]})")


def no_temporary_files(directory, what):
    left = glob.glob(os.path.join(directory, "*.tmp.*"))
    check(not left, f"{what}: no temporary file left ({left})")


# 1. One point with paths and traces (requested and worst), 1, 2 and 3 ranks, against the former
# gather on 1 and 3 ranks. 24 paths in blocks of 5: the last block is short.
small = config("small.yaml")
options = ["--quiet", "--set", "output.paths=true", "--set", "output.traces=[0,5,23]",
           "--set", "output.traces_worst=3", "--set", "run.block_paths=5"]
gathered = os.path.join(work, "gathered.h5")
result = run(["run", small, "-o", gathered, *options], extra_env=GATHER)
check(result.returncode == 0, f"the former gather runs {result.stderr.strip()[-300:]!r}")
gathered3 = os.path.join(work, "gathered3.h5")
result = run(["run", small, "-o", gathered3, *options], ranks=3, extra_env=GATHER)
check(result.returncode == 0, f"the former gather on 3 ranks {result.stderr.strip()[-300:]!r}")
same_as(gathered, gathered3, "gather, 3 ranks")
for ranks in (None, 2, 3):
    out = os.path.join(work, f"collective{ranks or 1}.h5")
    result = run(["run", small, "-o", out, *options], ranks=ranks)
    check(result.returncode == 0,
          f"collective write on {ranks or 1} rank(s) runs {result.stderr.strip()[-300:]!r}")
    if result.returncode != 0:
        continue
    same_as(gathered, out, f"collective, {ranks or 1} rank(s)")
    # The other writer did write it: the same data, laid out by parallel HDF5.
    check(digest(out) != digest(gathered),
          f"collective, {ranks or 1} rank(s): the file's bytes come from the collective writer")
    with h5py.File(out, "r") as f:
        names = sorted(f["point_0/traces"].keys(), key=lambda n: int(n.split("_")[1]))
        rows = f["point_0/paths/path_index"][()]
    check(list(rows) == list(range(24)), f"{ranks or 1} rank(s): path_index is 0..23 in order")
    check(len(names) >= 4 and "path_23" in names,
          f"{ranks or 1} rank(s): traces of the requested paths and the worst ({names})")
    no_temporary_files(work, f"{ranks or 1} rank(s)")

# The summary's figures that need every row (by-asset means, the digest) are the same.
printed = {}
for ranks, env in ((None, GATHER), (3, None)):
    out = os.path.join(work, f"summary{ranks or 1}.h5")
    result = run(["run", small, "-o", out, "--set", "run.block_paths=5"], ranks=ranks,
                 extra_env=env)
    lines = [l for l in result.stdout.splitlines() if "by asset" in l or "digest" in l]
    printed[ranks] = lines
check(len(printed[None]) == 2 and printed[None] == printed[3],
      f"by-asset means and the digest printed alike ({printed[3]})")

# 2. A sweep of 2 points with an uneven split: 10 paths in blocks of 4 (4, 4, 2) per point, on
# 3 ranks (rank 0 holds no block of point 1, rank 2 none of point 0) and on 4 ranks.
sweep = config("sweep-small.yaml")
sweep_options = ["--quiet", "--points", "0:2", "--set", "run.paths=10", "--set",
                 "run.block_paths=4", "--set", "output.paths=true", "--set",
                 "output.traces=[1,9]", "--set", "output.traces_worst=2"]
reference = os.path.join(work, "sweep_gathered.h5")
result = run(["run", sweep, "-o", reference, *sweep_options], extra_env=GATHER)
check(result.returncode == 0, f"sweep, former gather {result.stderr.strip()[-300:]!r}")
for ranks in (None, 3, 4):
    out = os.path.join(work, f"sweep{ranks or 1}.h5")
    result = run(["run", sweep, "-o", out, *sweep_options], ranks=ranks)
    check(result.returncode == 0, f"sweep on {ranks or 1} rank(s) {result.stderr.strip()[-300:]!r}")
    if result.returncode == 0:
        same_as(reference, out, f"sweep, {ranks or 1} rank(s)")
        with h5py.File(out, "r") as f:
            points = sorted(k for k in f.keys() if k.startswith("point_"))
            lengths = [len(f[f"{p}/paths/liquidated_notional"]) for p in points]
        check(points == ["point_0", "point_1"] and lengths == [10, 10],
              f"sweep, {ranks or 1} rank(s): two points of 10 rows ({points}, {lengths})")

# The parts of a split sweep, written collectively on 3 ranks, merge into the single job's file
# (merge checks every row of every table first).
whole = os.path.join(work, "whole_gathered.h5")
part_options = ["--quiet", "--set", "output.traces_worst=1"]
run(["run", sweep, "-o", whole, *part_options], extra_env=GATHER)
parts = []
for part in range(2):
    out = os.path.join(work, f"part{part}.h5")
    result = run(["run", sweep, "-o", out, *part_options, "--points-part", f"{part}/2"], ranks=3)
    check(result.returncode == 0, f"sweep part {part}/2 on 3 ranks {result.stderr.strip()[-300:]!r}")
    parts.append(out)
merged = os.path.join(work, "merged.h5")
result = run(["merge", merged, *parts])
check(result.returncode == 0, f"the parts merge {result.stderr.strip()[-300:]!r}")
if result.returncode == 0:
    a, b = datasets(whole), datasets(merged)
    diff = sorted(n for n in set(a) | set(b) if a.get(n) != b.get(n))
    check(not diff and len(table_and_traces(b)) > 0,
          f"merged parts equal the single gathered job, tables and traces included "
          f"(differs: {diff[:5]})")
    info = run(["info", merged])
    check(info.returncode == 0, f"marginfall info reads the merged file {info.stderr.strip()!r}")

# A rank with no block at all: one block for all paths on 2 ranks.
one_block = ["--quiet", "--set", "run.block_paths=24", "--set", "output.traces=[3]"]
reference = os.path.join(work, "oneblock_gathered.h5")
run(["run", small, "-o", reference, *one_block], extra_env=GATHER)
out = os.path.join(work, "oneblock2.h5")
result = run(["run", small, "-o", out, *one_block], ranks=2)
check(result.returncode == 0, f"one block on 2 ranks {result.stderr.strip()[-300:]!r}")
if result.returncode == 0:
    same_as(reference, out, "one block, 2 ranks (rank 1 holds nothing)")

# 3. Resumed on 3 ranks: rank 0 holds the blocks restored from the checkpoint, the others the
# rest; the rows still land in their places.
long_config = long_small_config(work, paths=48)
resume_config = os.path.join(work, "resume.yaml")
shutil.copy(long_config, resume_config)
with open(resume_config, "a") as f:
    f.write("  traces_worst: 2\n")  # output: is the file's last section
reference = os.path.join(work, "long_gathered.h5")
run(["run", resume_config, "-o", reference, "--quiet"], extra_env=GATHER)
resumed = os.path.join(work, "resumed.h5")
code = interrupt_with_checkpoint(resume_config, resumed)
check(code == 8, f"interrupted with a checkpoint (exit {code})")
result = run(["run", resume_config, "-o", resumed, "--quiet", "--resume"], ranks=3)
check(result.returncode == 0, f"resumed on 3 ranks {result.stderr.strip()[-300:]!r}")
if result.returncode == 0:
    a = table_and_traces(datasets(reference))
    b = table_and_traces(datasets(resumed))
    check(len(a) > 0 and a == b, f"resumed on 3 ranks: the table and traces equal an "
          f"uninterrupted run's ({len(a)} datasets)")
    with h5py.File(reference, "r") as f, h5py.File(resumed, "r") as g:
        digests = (f.attrs["verification_digest"], g.attrs["verification_digest"])
    check(digests[0] == digests[1], f"resumed on 3 ranks: the digest, carried along the ranks "
          f"over rank 0's restored blocks and the others', is the same ({digests})")

# 4. Refusals and failures: an existing file is kept without --force (every rank agrees, no
# temporary file); with --force it is replaced.
target = os.path.join(work, "collective3.h5")
before = digest(target) if os.path.exists(target) else None
result = run(["run", small, "-o", target, *options], ranks=3)
check(result.returncode == 4 and before is not None and digest(target) == before,
      f"an existing output is kept without --force (exit {result.returncode})")
no_temporary_files(work, "refused")
result = run(["run", small, "-o", target, *options, "--force", "--seed", "8"], ranks=3)
check(result.returncode == 0 and digest(target) != before,
      f"--force replaces it on 3 ranks (exit {result.returncode})")
no_temporary_files(work, "--force")
# A failure on one rank while the ranks write (MARGINFALL_FAIL_WRITE_RANK, a test hook): no rank
# hangs, all stop with the output error naming that rank, the temporary file is removed and
# the existing file is left as it was.
before = digest(target)
for failing in (0, 2):
    result = run(["run", small, "-o", target, *options, "--force"], ranks=3, timeout=120,
                 extra_env={"MARGINFALL_FAIL_WRITE_RANK": str(failing)})
    check(result.returncode == 4 and "failure injected on rank" in result.stderr
          and (failing == 0 or f"rank {failing}" in result.stderr),
          f"rank {failing} failing while writing: exit 4 on every rank "
          f"(exit {result.returncode}, {result.stderr.strip()[-200:]!r})")
    check(digest(target) == before, f"rank {failing} failing: the existing file is untouched")
    no_temporary_files(work, f"rank {failing} failing")
fresh = os.path.join(work, "fresh.h5")
result = run(["run", small, "-o", fresh, *options], ranks=2, timeout=120,
             extra_env={"MARGINFALL_FAIL_WRITE_RANK": "1"})
check(result.returncode == 4 and not os.path.exists(fresh),
      f"a new file is not published after a failure (exit {result.returncode})")
no_temporary_files(work, "new file after a failure")

cleanup(work)
finish()
