"""What a user meets on the command line (issue 9, part 7):

- Ctrl-C (SIGINT) checkpoints and exits 8 like SIGTERM, says how to resume, and --resume
  ends with the bits of an uninterrupted run;
- without -o, a second run of the same config writes CONFIG-2.h5 instead of failing, and
  --resume without -o continues the run that left a checkpoint;
- a file name given with --set is relative to the current directory, not to the config's;
- a tab in the YAML is called a tab, with the file and line."""
import os
import shutil
import signal

import mftest
from mftest import (check, cleanup, config, differing, finish, interrupt_with_checkpoint,
                    long_small_config, run, tmpdir)

work = tmpdir()
mftest.BINARY = os.path.abspath(mftest.BINARY)  # some runs below change the working directory

# ---- SIGINT: a checkpoint, exit 8, a message that says how to go on, then --resume.
long_config = long_small_config(work)
reference = os.path.join(work, "uninterrupted.h5")
check(run(["run", long_config, "-o", reference, "--quiet"], threads=2).returncode == 0,
      "uninterrupted 96-path run")
target = os.path.join(work, "interrupted.h5")
messages = []
stopped = interrupt_with_checkpoint(long_config, target, sig=signal.SIGINT, stderr_out=messages)
message = messages[0] if messages else ""
check(stopped == 8, f"SIGINT stops the run with exit 8 (exit {stopped})")
check("SIGINT" in message and "--resume" in message,
      f"the message names SIGINT and says to rerun with --resume: {message.strip()[-200:]!r}")
check(os.path.isdir(target + ".checkpoint") and not os.path.exists(target),
      "a checkpoint is left and no result file")
resumed = run(["run", long_config, "-o", target, "--resume", "--quiet"], threads=2)
check(resumed.returncode == 0, f"--resume completes ({resumed.stderr.strip()[-200:]!r})")
if resumed.returncode == 0 and os.path.exists(reference):
    diff = differing(reference, target)
    check(not diff, f"after SIGINT and --resume every dataset equals the uninterrupted run's {diff[:3]}")

# ---- default output names never collide.
cwd = os.path.join(work, "cwd")
os.makedirs(cwd)
first = run(["run", config("small.yaml"), "--quiet"], cwd=cwd)
second = run(["run", config("small.yaml"), "--quiet"], cwd=cwd)
check(first.returncode == 0 and first.stdout.strip() == "small.h5",
      f"first run without -o writes small.h5 ({first.stdout.strip()!r})")
check(second.returncode == 0 and second.stdout.strip() == "small-2.h5",
      f"second run without -o writes small-2.h5 ({second.stdout.strip()!r}, {second.stderr.strip()[-200:]!r})")
if first.returncode == 0 and second.returncode == 0:
    check(not differing(os.path.join(cwd, "small.h5"),
                        os.path.join(cwd, "small-2.h5")),
          "both hold the same results")
shutil.copy(long_config, os.path.join(cwd, "long.yaml"))
stopped = interrupt_with_checkpoint(os.path.join(cwd, "long.yaml"), os.path.join(cwd, "long.h5"))
check(stopped == 8, "a run with -o long.h5 stopped with a checkpoint")
resumed = run(["run", "long.yaml", "--resume", "--quiet"], cwd=cwd, threads=2)
check(resumed.returncode == 0 and resumed.stdout.strip() == "long.h5"
      and not os.path.exists(os.path.join(cwd, "long.h5.checkpoint")),
      f"--resume without -o continues long.h5 from its checkpoint ({resumed.stdout.strip()!r})")
again = run(["run", "long.yaml", "--resume", "--quiet"], cwd=cwd, threads=2)
check(again.returncode == 0 and "long.h5" in again.stdout and "complete" in again.stdout
      and not os.path.exists(os.path.join(cwd, "long-2.h5")),
      f"--resume without -o and no checkpoint finds long.h5 finished ({again.stdout.strip()!r})")

# ---- --set file names are relative to the current directory.
book_dir = os.path.join(work, "books")
os.makedirs(book_dir)
saved = run(["population", config("small.yaml"), "-o", "book.h5", "--quiet"], cwd=book_dir)
check(saved.returncode == 0, f"population snapshot saved ({saved.stderr.strip()[-200:]!r})")
loaded = run(["run", config("small.yaml"), "-o", "from_book.h5", "--quiet",
              "--set", "population.file=book.h5"], cwd=book_dir)
check(loaded.returncode == 0,
      f"--set population.file=book.h5 finds ./book.h5, not tests/configs/book.h5 "
      f"({loaded.stderr.strip()[-200:]!r})")
missing = run(["run", config("small.yaml"), "-o", "x.h5", "--quiet",
               "--set", "population.file=absent.h5"], cwd=book_dir)
check(missing.returncode == 3 and os.path.join(book_dir, "absent.h5") in missing.stderr,
      f"a missing --set file is named by its full path in the current directory "
      f"({missing.stderr.strip()[-200:]!r})")

# ---- a tab is called a tab.
tabbed = os.path.join(work, "tabbed.yaml")
with open(tabbed, "w") as f:
    f.write("run:\n  paths: 4\n\tsteps: 10\n")
result = run(["run", tabbed, "-o", os.path.join(work, "tab.h5")])
check(result.returncode == 2 and f"{tabbed}:3:" in result.stderr and "tab" in result.stderr
      and "cannot start any token" not in result.stderr,
      f"a tab gives exit 2 naming the file, line 3 and 'tab': {result.stderr.strip()!r}")

# ---- info --format table|csv|json: a compact and a machine-readable view of a sweep.
import csv
import io
import json

import h5py

sweep_file = os.path.join(work, "sweep.h5")
made = run(["run", config("sweep-small.yaml"), "-o", sweep_file, "--quiet"])
check(made.returncode == 0, f"sweep-small.yaml runs ({made.stderr.strip()[-200:]!r})")
with h5py.File(sweep_file, "r") as f:
    points = sorted(int(k.split("_")[1]) for k in f if k.startswith("point_"))
    means = {p: f[f"point_{p}/metrics/liquidated_notional/sample_mean"][()] for p in points}
    probs = {p: f[f"point_{p}/prob_bad_debt"][()] for p in points}
    leverage = {p: f[f"point_{p}"].attrs["venue.max_leverage"] for p in points}
table = run(["info", sweep_file, "--format", "table"])
lines = [l for l in table.stdout.splitlines() if l.strip()]
check(table.returncode == 0 and len(lines) == 2 + len(points),
      f"--format table: a title, a header and one line per point ({len(lines)} lines)")
as_csv = run(["info", "--format=csv", sweep_file])
rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
check(as_csv.returncode == 0 and [int(r["point"]) for r in rows] == points
      and all(float(r["liquidated_notional_mean_usd"]) == means[int(r["point"])] for r in rows)
      and all(float(r["venue.max_leverage"]) == leverage[int(r["point"])] for r in rows),
      "--format csv: one row per point, a column per swept key, means exact to the bit")
as_json = run(["info", sweep_file, "--format", "json"])
try:
    document = json.loads(as_json.stdout)
except ValueError:
    document = {}
results = document.get("point_results", [])
check(as_json.returncode == 0 and [r["point"] for r in results] == points
      and all(r["metrics"]["liquidated_notional"]["mean"] == means[r["point"]]
              and r["prob_bad_debt"] == probs[r["point"]] for r in results)
      and document.get("swept_keys") == ["venue.markets.BTC.depth_usd", "venue.max_leverage"],
      "--format json: every point's figures, equal to the file's")
wrong = run(["info", sweep_file, "--format", "xml"])
check(wrong.returncode == 1 and "text, table, csv or json" in wrong.stderr,
      f"an unknown --format is a usage error: {wrong.stderr.strip()[:120]!r}")
missing = run(["info", os.path.join(work, "absent.h5"), "--format", "json"])
check(missing.returncode == 3 and not missing.stdout and "absent.h5" in missing.stderr,
      "a missing file: exit 3, nothing on stdout")

cleanup(work)
finish()
