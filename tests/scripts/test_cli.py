"""The command line as a user meets it: help, version, a run with its summary, `info`,
provenance in the file, refusing to overwrite, --force, and saving a population snapshot
that reproduces the generated run bit for bit."""
import os

import h5py
import numpy as np

from mftest import check, cleanup, config, differing, digest, finish, run, tmpdir

work = tmpdir()

result = run(["--help"])
check(result.returncode == 0 and "marginfall run CONFIG" in result.stdout
      and "Exit status" in result.stdout, "--help prints usage and exit codes")
result = run(["--version"])
check(result.returncode == 0 and result.stdout.startswith("marginfall "), "--version")
result = run(["frobnicate"])
check(result.returncode == 1 and "unknown command" in result.stderr, "unknown command: exit 1")
result = run(["run"])
check(result.returncode == 1 and "missing CONFIG" in result.stderr, "missing argument: exit 1")
result = run(["run", config("small.yaml"), "--paths", "zero"])
check(result.returncode == 1 and "--paths" in result.stderr, "bad --paths: exit 1")

out = os.path.join(work, "small.h5")
result = run(["run", config("small.yaml"), "-o", out], threads=2)
check(result.returncode == 0, f"run succeeds: {result.stderr[-400:]}")
check("Expected liquidated notional" in result.stdout and "p99 largest cascade" in result.stdout
      and "Probability of bad debt" in result.stdout and "shortfall" in result.stdout,
      "run prints the headline figures")
check(out in result.stdout, "run says where its output went")
check("paths/s" in result.stderr and "ETA" in result.stderr, "progress with rate and ETA on stderr")
check(not [f for f in os.listdir(work) if ".tmp" in f], "no temporary file left behind")

with h5py.File(out, "r") as f:
    attrs = f.attrs
    check(attrs["format"] in ("marginfall", b"marginfall"), "format attribute")
    check(list(attrs["format_version"]) == [2, 1], "format_version [2, 1]")
    for key in ("engine_version", "git_commit", "created", "config", "seed", "paths", "ranks",
                "threads", "wall_seconds"):
        check(key in attrs, f"root attribute {key}")
    check(int(attrs["paths"]) == 24 and int(attrs["seed"]) == 7, "paths and seed recorded")
    text = attrs["config"]
    text = text.decode() if isinstance(text, bytes) else text
    check("liquidation_throughput_usd" in text and "depth_usd" in text, "resolved config stored")
    point = f["point_0"]
    liquidated = point["metrics/liquidated_notional"]
    rows = point["paths/liquidated_notional"][()]
    check(len(rows) == 24, "per-path table has one row per path")
    check(np.isclose(liquidated["sample_mean"][()], rows.mean(), rtol=1e-12),
          "metric mean equals the mean of the per-path table")
    check(int(liquidated["counts"][()].sum() + liquidated["underflow"][()] + liquidated["overflow"][()]) == 24,
          "histogram counts add up to the number of paths")
    levels = list(liquidated["quantile_levels"][()])
    check(levels == [0.5, 0.9, 0.95, 0.975, 0.99, 0.999], "the default output.quantiles")
    q99 = liquidated["quantiles"][()][levels.index(0.99)]
    check(q99 == np.sort(rows)[int(np.ceil(0.99 * 24)) - 1], "p99 is the order statistic")
    profile = point["profile/liquidated_notional"][()]
    check(np.isclose(profile.sum(), rows.mean(), rtol=1e-9), "profile sums to the mean total")

result = run(["info", out])
check(result.returncode == 0 and "liquidated_notional" in result.stdout, "info prints the metrics")

before = digest(out)
result = run(["run", config("small.yaml"), "-o", out, "--quiet"])
check(result.returncode == 4 and out in result.stderr and "--force" in result.stderr,
      "an existing output is refused without --force (exit 4, names the file)")
check(digest(out) == before, "the refused run left the existing file untouched")
result = run(["run", config("small.yaml"), "-o", out, "--quiet", "--force", "--paths", "8"])
check(result.returncode == 0 and digest(out) != before, "--force replaces the file")

# A saved population gives the same results as the generated one, bit for bit.
snapshot = os.path.join(work, "population.h5")
result = run(["population", config("small.yaml"), "-o", snapshot])
check(result.returncode == 0 and os.path.exists(snapshot), "population command saves a snapshot")
generated = os.path.join(work, "generated.h5")
loaded = os.path.join(work, "loaded.h5")
run(["run", config("small.yaml"), "-o", generated, "--quiet", "--paths", "8"])
result = run(["run", config("small.yaml"), "-o", loaded, "--quiet", "--paths", "8",
              "--set", f"population.file={snapshot}"])
check(result.returncode == 0, f"run with population.file: {result.stderr[-300:]}")
if result.returncode == 0:
    diff = differing(generated, loaded)
    check(not diff, f"loaded population reproduces the generated run (differs: {diff[:5]})")

cleanup(work)
finish()
