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
