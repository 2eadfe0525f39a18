"""Results are bit-identical for any number of MPI ranks and OpenMP threads, and for any
batch size: every dataset of the result file (all metrics, profiles, the per-path table) is
compared byte for byte."""
import os

from mftest import check, cleanup, config, differing, finish, run, tmpdir

work = tmpdir()
shapes = [(1, 1), (1, 2), (2, 1), (3, 1), (2, 2)]
files = {}
for ranks, threads in shapes:
    path = os.path.join(work, f"r{ranks}_t{threads}.h5")
    result = run(["run", config("small.yaml"), "-o", path, "--quiet"], ranks=ranks, threads=threads)
    check(result.returncode == 0, f"{ranks} rank(s) x {threads} thread(s) runs "
          f"(exit {result.returncode}) {result.stderr.strip()[-300:]}")
    files[(ranks, threads)] = path

reference = files[(1, 1)]
for shape, path in files.items():
    if shape == (1, 1) or not os.path.exists(path) or not os.path.exists(reference):
        continue
    diff = differing(reference, path)
    check(not diff, f"{shape[0]} rank(s) x {shape[1]} thread(s) equals 1 x 1 bit for bit "
          f"(differs: {diff[:5]})")

# One block for all paths: threads then share each batch's margin sweeps over account
# chunks instead of taking whole blocks, and a second rank gets no block at all.
one_block = {}
for ranks, threads in [(1, 1), (1, 2), (2, 2)]:
    path = os.path.join(work, f"oneblock_r{ranks}_t{threads}.h5")
    result = run(["run", config("small.yaml"), "-o", path, "--quiet", "--set", "run.block_paths=24"],
                 ranks=ranks, threads=threads)
    check(result.returncode == 0, f"one block, {ranks} rank(s) x {threads} thread(s) runs")
    one_block[(ranks, threads)] = path
for shape in [(1, 2), (2, 2)]:
    if os.path.exists(one_block[shape]) and os.path.exists(one_block[(1, 1)]):
        diff = differing(one_block[(1, 1)], one_block[shape])
        check(not diff, f"one block: {shape[0]} x {shape[1]} equals 1 x 1 (differs: {diff[:5]})")

# The batch size (paths sharing one sweep over the accounts) is a performance knob only.
for batch in (1, 3):
    path = os.path.join(work, f"batch{batch}.h5")
    result = run(["run", config("small.yaml"), "-o", path, "--quiet",
                  "--set", f"run.batch_paths={batch}"], threads=2)
    check(result.returncode == 0, f"batch_paths={batch} runs")
    if result.returncode == 0:
        diff = differing(reference, path)
        check(not diff, f"batch_paths={batch} equals batch_paths=4 bit for bit (differs: {diff[:5]})")

cleanup(work)
finish()
