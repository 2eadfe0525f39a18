"""Every class of bad input exits non-zero with a message naming the place (file, line,
key), before any work, and writes or changes no output file."""
import os
import re

from mftest import check, cleanup, config, digest, finish, run, tmpdir

work = tmpdir()
with open(config("small.yaml")) as f:
    base = f.read()


def line_of(text, needle):
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


def expect_failure(name, text, exit_code, needles, extra=()):
    """Write text as NAME.yaml, run it, check exit code, message parts and no output."""
    path = os.path.join(work, name + ".yaml")
    with open(path, "w") as f:
        f.write(text)
    outdir = os.path.join(work, "out_" + name)
    os.mkdir(outdir)
    output = os.path.join(outdir, "result.h5")
    result = run(["run", path, "-o", output, "--quiet"] + list(extra))
    message = result.stderr
    check(result.returncode == exit_code,
          f"{name}: exit {result.returncode} (want {exit_code}): {message.strip()[:300]}")
    for needle in needles:
        check(needle in message, f"{name}: message names {needle!r}")
    check(os.listdir(outdir) == [], f"{name}: no output file written")


# Missing config file.
outdir = os.path.join(work, "out_missing")
os.mkdir(outdir)
missing = os.path.join(work, "no-such.yaml")
result = run(["run", missing, "-o", os.path.join(outdir, "r.h5")])
check(result.returncode == 2 and "no-such.yaml" in result.stderr, "missing config: exit 2, names the file")
check(os.listdir(outdir) == [], "missing config: no output")

# YAML syntax error.
text = base.replace("  seed: 7\n", "  seed: [7\n")
expect_failure("syntax", text, 2, ["syntax.yaml:"])

# Unknown key.
text = base.replace("  seed: 7\n", "  seed: 7\n  sed: 8\n")
expect_failure("unknown_key", text, 2, [f"unknown_key.yaml:{line_of(text, 'sed: 8')}", "sed"])

# Wrong type.
text = base.replace("  steps: 240\n", "  steps: many\n")
expect_failure("wrong_type", text, 2, [f"wrong_type.yaml:{line_of(text, 'steps: many')}", "steps"])

# Out-of-range values.
text = base.replace("  max_leverage: 100\n", "  max_leverage: 0.5\n")
expect_failure("leverage", text, 2, [f"leverage.yaml:{line_of(text, 'max_leverage: 0.5')}", "max_leverage"])
text = base.replace("      depth_usd: 2.0e6\n", "      depth_usd: -1\n")
expect_failure("depth", text, 2, [f"depth.yaml:{line_of(text, 'depth_usd: -1')}", "depth_usd"])
text = base.replace("margin_modes: {isolated: 0.5, cross: 0.5}", "margin_modes: {isolated: 0.5, cross: 0.6}")
expect_failure("shares", text, 2, ["shares.yaml:", "margin_modes"])

# Correlation that is not positive definite: symmetric, unit diagonal, |rho| <= 1, but
# singular (rho = 1 makes the two assets one).
text = base.replace("correlation: [[1.0, 0.8], [0.8, 1.0]]", "correlation: [[1.0, 1.0], [1.0, 1.0]]")
expect_failure("correlation", text, 2, [f"correlation.yaml:{line_of(text, 'correlation:')}",
                                        "positive definite"])

# Unreadable replay file.
text = base.replace("{name: BTC, price: 100000, volatility: 0.8, drift: 0, jump_beta: 1.0}",
                    "{name: BTC, price: 100000, volatility: 0.8, drift: 0, jump_beta: 1.0, "
                    "replay: {format: csv, file: no-such-replay.csv}}")
expect_failure("replay", text, 3, ["no-such-replay.csv"])

# Unreadable population file (a text file, not HDF5).
junk = os.path.join(work, "junk.h5")
with open(junk, "w") as f:
    f.write("not hdf5\n")
text = base.replace("  accounts: 2000\n", f"  accounts: 2000\n  file: {junk}\n")
expect_failure("population", text, 3, ["junk.h5"])

# Bad --set: unknown key, and an impossible value.
expect_failure("set_unknown", base, 2, ["--set", "venue.nope"], extra=["--set", "venue.nope=1"])
expect_failure("set_value", base, 2, ["--set", "max_leverage"], extra=["--set", "venue.max_leverage=0"])

# An existing output without --force is refused and left as it was.
existing = os.path.join(work, "existing.h5")
with open(existing, "w") as f:
    f.write("precious\n")
before = digest(existing)
result = run(["run", config("small.yaml"), "-o", existing, "--quiet"])
check(result.returncode == 4 and "existing.h5" in result.stderr, "existing output: exit 4, names it")
check(digest(existing) == before, "existing output: unchanged")

# info on files that are not marginfall results.
result = run(["info", junk])
check(result.returncode == 3 and "junk.h5" in result.stderr, "info on a non-HDF5 file: exit 3")
result = run(["info", os.path.join(work, "absent.h5")])
check(result.returncode == 3 and "absent.h5" in result.stderr, "info on a missing file: exit 3")

cleanup(work)
finish()
