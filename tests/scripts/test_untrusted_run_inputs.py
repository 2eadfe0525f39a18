"""Untrusted inputs of a run: an empty config is refused; a damaged checkpoint is refused by
--resume, naming the file and saying how to go on, and writes nothing; --resume keeps a finished
file only when it was made by the same config (otherwise it names the differing line, and
--force replaces it)."""
import os
import random
import shutil

from mftest import (check, cleanup, config, datasets, finish, interrupt_with_checkpoint, run,
                    tmpdir)

work = tmpdir()

# --- empty configs ----------------------------------------------------------------------------
for name, text in [("empty.yaml", ""), ("comments.yaml", "# nothing but a comment\n\n---\n")]:
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(text)
    out = os.path.join(work, name + ".h5")
    result = run(["run", path, "-o", out])
    check(result.returncode == 2 and f"{path}:1: the config file is empty" in result.stderr
          and not os.path.exists(out), f"{name}: refused with exit 2 naming the file "
          f"(exit {result.returncode}: {result.stderr.strip()[-200:]!r})")

# --- a damaged checkpoint ---------------------------------------------------------------------
long_config = os.path.join(work, "long.yaml")
with open(config("small.yaml")) as f:
    text = f.read()
with open(long_config, "w") as f:
    f.write(text.replace("  paths: 24\n", "  paths: 96\n  margin_kernel: reference\n"))
target = os.path.join(work, "interrupted.h5")
directory = target + ".checkpoint"
stopped = interrupt_with_checkpoint(long_config, target)
check(stopped == 8, f"SIGTERM leaves a checkpoint (exit {stopped})")
files = sorted(n for n in os.listdir(directory) if n.endswith(".ckpt")) if os.path.isdir(directory) else []
if check(len(files) == 1, f"one checkpoint file: {files}"):
    path = os.path.join(directory, files[0])
    with open(path, "rb") as f:
        clean = f.read()
    saved = os.path.join(work, "clean.ckpt")
    shutil.copy(path, saved)
    rng = random.Random(20261128)
    offsets = sorted({0, 9, len(clean) // 2, len(clean) - 1} |
                     {rng.randrange(len(clean)) for _ in range(8)})
    for offset in offsets:
        damaged = bytearray(clean)
        damaged[offset] ^= 1 << rng.randrange(8)
        with open(path, "wb") as f:
            f.write(damaged)
        result = run(["run", long_config, "-o", target, "--resume"])
        check(result.returncode == 3 and files[0] in result.stderr and "--force" in result.stderr
              and not os.path.exists(target),
              f"a bit flipped at byte {offset} of {len(clean)}: --resume refuses it "
              f"(exit {result.returncode}: {result.stderr.strip()[-160:]!r})")
    for cut in (len(clean) - 8, len(clean) // 3, 100):
        with open(path, "wb") as f:
            f.write(clean[:cut])
        result = run(["run", long_config, "-o", target, "--resume"])
        check(result.returncode == 3 and not os.path.exists(target),
              f"cut at {cut} of {len(clean)} bytes: refused (exit {result.returncode})")
    shutil.copy(saved, path)
    result = run(["run", long_config, "-o", target, "--resume"], threads=2)
    check(result.returncode == 0 and os.path.exists(target),
          f"the undamaged checkpoint resumes ({result.stderr.strip()[-200:]!r})")

# --- --resume on a finished file ----------------------------------------------------------------
finished = os.path.join(work, "finished.h5")
small = [config("small.yaml"), "--paths", "4"]
check(run(["run", *small, "-o", finished, "--quiet"]).returncode == 0, "a finished run")
before = datasets(finished)
result = run(["run", *small, "-o", finished, "--resume"])
check(result.returncode == 0 and "complete" in result.stdout + result.stderr,
      "--resume with the same config keeps the finished file")
result = run(["run", *small, "-o", finished, "--resume", "--set", "venue.max_rounds=3"])
check(result.returncode == 4 and "max_rounds: 50" in result.stderr
      and "max_rounds: 3" in result.stderr and datasets(finished) == before,
      f"--resume with another config is refused, naming the line "
      f"({result.stderr.strip()[-240:]!r})")
result = run(["run", *small, "-o", finished, "--resume", "--set", "venue.max_rounds=3",
              "--force", "--quiet"])
check(result.returncode == 0 and datasets(finished) != before,
      "with --force the other config runs and replaces the file")

cleanup(work)
finish()
