#!/usr/bin/env python3
"""Regression references: digests of every result dataset of a few small runs.

Each case runs the real binary, then hashes every dataset of the result file (dtype, shape
and exact bytes; variable-length strings by their text) and the attributes that carry
results (sweep parameters of each point, the verification digests). The digests are compared
with tests/regression/references.json. A dataset that is new since the references were made
is listed but does not fail; a missing or changed one does.

    regress.py                      compare (what the test suite runs)
    regress.py --update --reason R  rerun every case and rewrite the references on purpose;
                                    commit them with R in the commit message

Provenance (times, commit, command line) lives in root attributes and is never hashed.
"""
import argparse
import datetime
import hashlib
import json
import os
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
import mftest  # noqa: E402
from mftest import SHARED, SOURCE, check, cleanup, finish, run, tmpdir  # noqa: E402

REFERENCES = os.path.join(HERE, "references.json")
RESULT_ATTRIBUTES_SKIPPED = {"point_index"}  # identity, not a result


def cases():
    small = os.path.join(SOURCE, "tests", "configs", "small.yaml")
    replay_csv = os.path.join(SHARED, "replay", "btc_2020-03-12_1m.csv")
    return {
        # Two assets, 50/50 isolated and cross, a -6% stress at step 120: cascades, bad debt
        # beyond the fund (uncovered deficit) on most paths; the per-path table is kept.
        "stress-bad-debt": ["run", small],
        # Nine in ten accounts cross-margined with up to three positions, another seed.
        "cross-heavy": ["run", small, "--seed", "11",
                        "--set", "population.margin_modes.isolated=0.1",
                        "--set", "population.margin_modes.cross=0.9",
                        "--set", "population.max_positions=3",
                        "--set", "output.paths=false"],
        # A 3 x 2 sweep (leverage cap x BTC depth) on common random numbers.
        "sweep": ["run", os.path.join(SOURCE, "tests", "configs", "sweep-small.yaml")],
        # Black Thursday replayed: deterministic index, Binance tiers, sqrt impact.
        "replay": ["run", os.path.join(SOURCE, "configs", "replay-2020-03-12.yaml"),
                   "--paths", "2", "--set", "population.accounts=3000",
                   "--set", "run.block_paths=2", "--set", "run.steps=720",
                   "--set", f"market.assets.0.replay.file={replay_csv}"],
        # The default scenario (three assets, GARCH, jumps, depth feedback), shortened.
        "default-short": ["run", os.path.join(SOURCE, "configs", "default.yaml"),
                          "--paths", "16", "--set", "population.accounts=3000",
                          "--set", "run.steps=360", "--set", "output.paths=true"],
    }


def digest_value(value):
    value = np.asarray(value)
    if value.dtype.kind == "O":
        payload = repr([v.decode() if isinstance(v, bytes) else v
                        for v in value.ravel().tolist()]).encode()
        dtype = "text"
    else:
        payload = value.tobytes()
        dtype = value.dtype.str
    h = hashlib.sha256()
    h.update(f"{dtype}|{value.shape}|".encode())
    h.update(payload)
    return h.hexdigest()[:16]


def file_digests(path):
    out = {}
    with h5py.File(path, "r") as f:
        out["@verification_digest"] = str(f.attrs.get("verification_digest", ""))

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = digest_value(obj[()])
            elif isinstance(obj, h5py.Group) and name.count("/") == 0 and name.startswith("point_"):
                for key in sorted(obj.attrs):
                    if key not in RESULT_ATTRIBUTES_SKIPPED:
                        out[f"{name}@{key}"] = digest_value(obj.attrs[key])
        f.visititems(visit)
    return out


def run_case(name, args, work):
    out = os.path.join(work, f"{name}.h5")
    result = run(list(args) + ["-o", out], threads=2)
    if result.returncode != 0:
        return None, result.stderr[-600:]
    digests = file_digests(out)
    printed = [line.split()[-1] for line in result.stdout.splitlines()
               if "Verification digest" in line]
    if printed and printed[-1] != digests["@verification_digest"]:
        return None, f"printed digest {printed[-1]} != stored {digests['@verification_digest']}"
    return digests, ""


def relative_args(args):
    """Arguments as stored in the references: paths relative to the source tree."""
    out = []
    for a in args:
        a = a.replace(SOURCE + os.sep, "").replace(SHARED + os.sep, "<shared>/")
        out.append(a)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--update", action="store_true", help="rewrite the references")
    parser.add_argument("--reason", help="why the references change (required with --update)")
    parser.add_argument("--case", action="append", help="run only this case (repeatable)")
    options = parser.parse_args()
    if options.update and not options.reason:
        parser.error("--update needs --reason: say why every changed digest is right")

    selected = cases()
    if options.case:
        selected = {k: v for k, v in selected.items() if k in options.case}
    work = tmpdir()
    try:
        if options.update:
            references = {"comment": "digests of every result dataset; regenerate with "
                                     "tests/regression/regress.py --update --reason ...",
                          "updated": datetime.date.today().isoformat(),
                          "reason": options.reason, "cases": {}}
            if os.path.exists(REFERENCES):
                with open(REFERENCES) as f:
                    references["cases"] = json.load(f).get("cases", {})
            for name, args in selected.items():
                digests, error = run_case(name, args, work)
                if digests is None:
                    sys.exit(f"regress.py: case {name} failed: {error}")
                references["cases"][name] = {"args": relative_args(args), "digests": digests}
                print(f"{name}: {len(digests)} digests, run digest "
                      f"{digests['@verification_digest']}")
            with open(REFERENCES, "w") as f:
                json.dump(references, f, indent=1, sort_keys=True)
                f.write("\n")
            print(f"wrote {REFERENCES}")
            return

        with open(REFERENCES) as f:
            references = json.load(f)["cases"]
        for name, args in selected.items():
            if not check(name in references, f"{name}: has references"):
                continue
            digests, error = run_case(name, args, work)
            if not check(digests is not None, f"{name}: run succeeds {error}"):
                continue
            expected = references[name]["digests"]
            changed = [k for k in expected if k in digests and digests[k] != expected[k]]
            missing = [k for k in expected if k not in digests]
            added = [k for k in digests if k not in expected]
            check(not missing, f"{name}: all {len(expected)} referenced datasets present "
                               f"{missing[:5]}")
            check(not changed, f"{name}: every result unchanged bit for bit "
                               f"(changed: {changed[:8]})")
            if added:
                print(f"note {name}: datasets new since the references: {added[:10]}")
    finally:
        cleanup(work)
    finish()


if __name__ == "__main__":
    main()
