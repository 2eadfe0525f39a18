"""The config schema (src/config/config_schema.c) against the docs and the runs.

- `marginfall schema --format markdown` equals the key tables of docs/config.md (between the
  `<!-- schema:begin TABLE -->` markers); `--format json` parses and lists every key.
- For every scalar key with an example value (list items by index: market.assets.0.price,
  venue.markets.0.tiers.1.mmr): a tiny run with `--set KEY=EXAMPLE` gives the same result
  datasets on 1 rank and on 2 ranks (ranks other than 0 rebuild the config from the
  resolved YAML, so a key the emitter dropped shows here), and, for keys that can be swept,
  the same datasets as the sweep point that sets KEY to EXAMPLE. Sweepable keys share zip
  sweeps: point i sets key i to its example and every other key to its base value.
"""
import json
import os
import re
import sys

import yaml

from mftest import SHARED, SOURCE, check, cleanup, config, datasets, finish, run, tmpdir

sys.path.insert(0, os.path.join(SOURCE, "tools"))
import config_docs  # noqa: E402

work = tmpdir()

# ---- docs and JSON ------------------------------------------------------------------------
result = run(["schema", "--format", "markdown"])
check(result.returncode == 0, f"schema --format markdown runs ({result.stderr.strip()[-200:]})")
tables = config_docs.blocks(result.stdout)
with open(os.path.join(SOURCE, "docs", "config.md")) as f:
    docs = config_docs.blocks(f.read())
check(sorted(tables) == sorted(docs),
      f"docs/config.md has a block for every schema table (missing {sorted(set(tables) - set(docs))}, "
      f"extra {sorted(set(docs) - set(tables))})")
for name, text in tables.items():
    check(docs.get(name) == text, f"docs/config.md table {name} equals the schema "
          "(tools/config_docs.py rewrites it)")

result = run(["schema", "--format", "json"])
rows = json.loads(result.stdout) if result.returncode == 0 else []
check(result.returncode == 0 and len(rows) > 60, f"schema --format json parses: {len(rows)} rows")
documented = set(re.findall(r"^\| `([^`]+)` \|", "".join(docs.values()), re.M))
check({r["key"] for r in rows} == documented, "the JSON lists every key of the docs' tables")
check(all(set(r) >= {"key", "type", "unit", "default", "bounds", "names", "doc", "source"}
          for r in rows), "every JSON row has key, type, unit, default, bounds, names, doc, source")
check(run(["schema", "--format", "yaml"]).returncode == 1, "an unknown format is a usage error")

# ---- every key on 1 and 2 ranks and as a sweep point ----------------------------------------
# A tiny scenario: tests/configs/small.yaml shortened. The example runs put their --set after
# these, so an example wins over them.
BASE = ["run.paths=4", "run.steps=60", "run.block_paths=2", "run.batch_paths=2",
        "population.accounts=300", "market.stress.0.start_step=30"]
REPLAY = os.path.join(SHARED, "replay", "btc_2020-03-12_1m.csv")


def sets(items):
    out = []
    for item in items:
        out += ["--set", item]
    return out


def point_datasets(path, point):
    prefix = f"point_{point}/"
    return {k[len(prefix):]: v for k, v in datasets(path).items() if k.startswith(prefix)}


def differing_points(a, pa, b, pb):
    da, db = point_datasets(a, pa), point_datasets(b, pb)
    if not da or not db:
        return ["(no datasets)"]
    return sorted(n for n in set(da) | set(db) if da.get(n) != db.get(n))


# The base scenario's resolved values (for the sweeps' other points) and a population snapshot.
base_out = os.path.join(work, "base.h5")
result = run(["run", config("small.yaml"), "-o", base_out, "--quiet"] + sets(BASE))
check(result.returncode == 0, f"the base run works ({result.stderr.strip()[-300:]})")
import h5py  # noqa: E402
with h5py.File(base_out, "r") as f:
    text = f.attrs["config"]
resolved = yaml.safe_load(text.decode() if isinstance(text, bytes) else text)
accounts = os.path.join(work, "accounts.h5")
result = run(["population", config("small.yaml"), "-o", accounts] + sets(BASE))
check(result.returncode == 0, "a population snapshot for population.file")


def base_value(key):
    value = resolved
    for part in key.split("."):
        try:
            value = value[int(part)] if isinstance(value, list) else value[part]
        except (KeyError, IndexError, ValueError, TypeError):
            return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return ".inf" if value == float("inf") else repr(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(value)


def example_of(row):
    value = row["example"]
    if value == "prices.csv":
        value = REPLAY
    if row["set_key"] == "population.file":
        value = accounts
    if row["type"] in ("string", "path"):
        return json.dumps(value)
    return value


def needs_of(row):
    needs = row["example_needs"]
    if needs and needs.endswith("=prices.csv"):
        needs = needs[: -len("prices.csv")] + REPLAY
    return [needs] if needs else []


UNSWEEPABLE = ("run.", "output.", "sweep.")
# Every key with an example; sweep.mode too (a scenario without a sweep ignores it, but the
# ranks must still agree), not the entries of sweep.parameters.
keys = [r for r in rows if r["example"] is not None and r["table"] != "sweep.parameters[]"]
check(len(keys) >= 55, f"{len(keys)} keys with an example value")
if not os.path.exists(REPLAY):
    keys = [r for r in keys if not r["set_key"].endswith(("replay.format", "replay.file"))]
    check(True, f"(no {REPLAY}: the replay keys are left out)")

direct = {}
for i, row in enumerate(keys):
    key = row["set_key"]
    args = sets(BASE + needs_of(row) + [f"{key}={example_of(row)}"])
    one, two = os.path.join(work, f"k{i}_r1.h5"), os.path.join(work, f"k{i}_r2.h5")
    r1 = run(["run", config("small.yaml"), "-o", one, "--quiet"] + args)
    r2 = run(["run", config("small.yaml"), "-o", two, "--quiet"] + args, ranks=2)
    if not check(r1.returncode == 0 and r2.returncode == 0,
                 f"--set {key}={row['example']} runs on 1 and 2 ranks "
                 f"({(r1.stderr + r2.stderr).strip()[-300:]})"):
        continue
    diff = differing_points(one, 0, two, 0)
    check(not diff, f"--set {key}={row['example']}: 1 and 2 ranks give the same datasets "
          f"(differs: {diff[:4]})")
    direct[key] = one

# Sweeps: keys without companions share zip sweeps of up to 8 parameters; a key that needs a
# companion value gets a sweep of its own whose one point sets both.
sweepable = [r for r in keys if not r["set_key"].startswith(UNSWEEPABLE)
             and r["set_key"] != "population.file" and r["set_key"] in direct]
for row in keys:
    check(base_value(row["set_key"]) is not None,
          f"the resolved config writes {row['set_key']}")
sweepable = [r for r in sweepable if base_value(r["set_key"]) is not None]
alone = [r for r in sweepable if r["example_needs"]]
shared = [r for r in sweepable if not r["example_needs"]]
groups = [shared[i:i + 8] for i in range(0, len(shared), 8)] + [[r] for r in alone]
with open(config("small.yaml")) as f:
    small = f.read()
for g, group in enumerate(groups):
    lines = ["sweep:", "  mode: zip", "  parameters:"]
    for need in needs_of(group[0]) if group[0]["example_needs"] else []:
        need_key, need_value = need.split("=", 1)
        lines.append(f"    - key: {need_key}")
        lines.append(f"      values: [{json.dumps(need_value) if '/' in need_value else need_value}]")
    for p, row in enumerate(group):
        values = [example_of(row) if q == p else base_value(row["set_key"])
                  for q in range(len(group))]
        lines.append(f"    - key: {row['set_key']}")
        lines.append(f"      values: [{', '.join(values)}]")
    path = os.path.join(work, f"sweep{g}.yaml")
    with open(path, "w") as f:
        f.write(small + "\n" + "\n".join(lines) + "\n")
    out = os.path.join(work, f"sweep{g}.h5")
    result = run(["run", path, "-o", out, "--quiet"] + sets(BASE))
    if not check(result.returncode == 0, f"sweep {g} ({len(group)} keys) runs "
                 f"({result.stderr.strip()[-300:]})"):
        continue
    for p, row in enumerate(group):
        diff = differing_points(direct[row["set_key"]], 0, out, p)
        check(not diff, f"{row['set_key']}={row['example']} as sweep point {p} equals the "
              f"--set run (differs: {diff[:4]})")

cleanup(work)
finish()
