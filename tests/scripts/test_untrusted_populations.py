"""Untrusted population snapshots (docs/output.md, "Population snapshot"): a damaged or
hand-made snapshot is refused with exit 3, naming the file (and the dataset and row where there
is one), and writes nothing; where a damaged byte does not matter, the run's results equal the
clean snapshot's. The battery: truncations, 40 single-bit flips at seeds 1..40 over the whole
file, a flipped byte of checksummed data, swapped dtypes and shapes of every dataset, NaN, +-inf
and negative values, out-of-range indices, values HDF5 would clip (an index of -1 stored as
int16), absurd declared sizes; a format 1.0 snapshot (no checksums) still loads. A replay that
is a FIFO is refused before it is opened. Under ASan no run may report a sanitizer error."""
import os
import random
import shutil
from concurrent.futures import ThreadPoolExecutor

import h5py
import numpy as np

from mftest import SANITIZED, check, cleanup, config, differing, finish, run, tmpdir

work = tmpdir()
small = config("small.yaml")
# A few hundred accounts keep the file small (so flips often hit metadata) and the runs short.
clean = os.path.join(work, "book.h5")
result = run(["population", small, "-o", clean, "--set", "population.accounts=300"])
if not check(result.returncode == 0, f"population snapshot saved {result.stderr[-200:]}"):
    finish()
with open(clean, "rb") as f:
    clean_bytes = f.read()


# Leak checking is most of a run's cost under ASan (slow unwinding at every allocation of
# MPI's start-up): every case runs with ASan's memory and UB checks, one case of each kind of
# refusal (check_leaks=True) with LeakSanitizer as well.
NO_LEAK_CHECK = {"LSAN_OPTIONS": os.environ.get("LSAN_OPTIONS", "") + ":detect_leaks=0"}


def run_with(path, name, check_leaks=True):
    out = os.path.join(work, "out-" + name + ".h5")
    result = run(["run", small, "--paths", "2", "-o", out, "--quiet",
                  "--set", f"population.file={path}"],
                 extra_env=None if check_leaks else NO_LEAK_CHECK)
    return result, out


reference_result, reference = run_with(clean, "clean")
if not check(reference_result.returncode == 0,
             f"the clean snapshot runs {reference_result.stderr[-200:]}"):
    finish()

counts = {"refused": 0, "identical": 0}
cases = []  # (path, what, needles, must_refuse, check_leaks), run together by judge_cases()


hdf5_leaks = []  # cases where HDF5 itself leaked while refusing a damaged file (ASan build)


def leaks_inside_hdf5(stderr):
    """Whether every leak LeakSanitizer reports was allocated inside libhdf5: HDF5 1.10 leaks a
    metadata-cache entry when an object header fails its checksum, which is not marginfall's."""
    blocks = stderr.split("leak of ")[1:]
    for block in blocks:
        frames = [line for line in block.splitlines()[1:] if line.strip().startswith("#")]
        callers = [f for f in frames[1:] if "libsanitizer" not in f]
        if not callers or "libhdf5" not in callers[0]:
            return False
    return bool(blocks)


def sanitizer_clean(result, what):
    if "runtime error" in result.stderr:
        return False
    if "AddressSanitizer" not in result.stderr:
        return True
    if "ERROR: AddressSanitizer" not in result.stderr and leaks_inside_hdf5(result.stderr):
        hdf5_leaks.append(what)
        return True
    return False


def judge(path, what, needles, must_refuse, check_leaks, result, out):
    """The run is refused (exit > 0, not a signal; the message names the file and every needle;
    no output file) or, unless must_refuse, succeeds with the clean snapshot's results."""
    name = os.path.basename(path)[:-3]
    message = result.stderr.strip()
    if result.returncode > 0:
        ok = (name in message and all(n in message for n in needles)
              and not os.path.exists(out))
        outcome = "refused"
    elif result.returncode == 0 and not must_refuse:
        diff = differing(out, reference)
        ok = not diff
        outcome = "identical"
        message = f"differs in {diff[:4]}" if diff else "same results"
    else:
        ok, outcome = False, "signal" if result.returncode < 0 else "accepted"
    ok = ok and sanitizer_clean(result, what)
    if ok:
        counts[outcome] += 1
    check(ok, f"{what}: {outcome} (exit {result.returncode}: {message[-240:]!r})")
    if os.path.exists(out):
        os.remove(out)
    return outcome


def judge_cases():
    """Run the queued cases, three at a time (a run mostly waits for MPI to start), and judge
    each; returns the outcomes in order."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(
            lambda case: run_with(case[0], os.path.basename(case[0])[:-3], case[4]), cases))
    outcomes = [judge(*case, *result) for case, result in zip(cases, results)]
    cases.clear()
    return outcomes


def refused_or_identical(path, what, needles=(), must_refuse=False, check_leaks=False):
    cases.append((path, what, needles, must_refuse, check_leaks))


def refused(path, what, *needles, check_leaks=False):
    refused_or_identical(path, what, needles, must_refuse=True, check_leaks=check_leaks)


def raw_variant(name, data):
    path = os.path.join(work, name + ".h5")
    with open(path, "wb") as f:
        f.write(data)
    return path


def variant(name, edit):
    path = os.path.join(work, name + ".h5")
    shutil.copy(clean, path)
    with h5py.File(path, "r+") as f:
        edit(f["population"])
    return path


def replace(group, name, values, dtype=None, **options):
    del group[name]
    group.create_dataset(name, data=np.asarray(values, dtype=dtype), **options)


def set_value(name, row, value):
    def edit(group):
        values = group[name][()]
        values[row] = value
        replace(group, name, values)
    return edit


# --- truncations and bit flips ------------------------------------------------------------------
size = len(clean_bytes)
cuts = (0, 100, 2048, size // 4, size // 2, size - 100, size - 1)
for cut in cuts:
    refused(raw_variant(f"cut_{cut}", clean_bytes[:cut]), f"cut at {cut} of {size} bytes",
            check_leaks=cut == size // 2)

for seed in range(1, 41):
    rng = random.Random(seed)
    offset, bit = rng.randrange(size), rng.randrange(8)
    damaged = bytearray(clean_bytes)
    damaged[offset] ^= 1 << bit
    refused_or_identical(raw_variant(f"flip_{seed}", bytes(damaged)),
                         f"seed {seed}: bit {bit} of byte {offset} flipped",
                         check_leaks=seed <= 3)

# A flipped byte inside a dataset's data: its Fletcher32 checksum fails.
with h5py.File(clean, "r") as f:
    entry_offset = f["population/position_entry"].id.get_chunk_info(0).byte_offset
damaged = bytearray(clean_bytes)
damaged[entry_offset + 20] ^= 0x10
refused(raw_variant("data_flip", bytes(damaged)), "a flipped byte of position_entry's data",
        "/population/position_entry", "Fletcher32", check_leaks=True)

# --- stored types and shapes --------------------------------------------------------------------
with h5py.File(clean, "r") as f:
    names = list(f["population"].keys())
    float_columns = [n for n in names if f["population"][n].dtype.kind == "f"]
for name in names:
    def as_float32(group, name=name):
        replace(group, name, group[name][()], np.float32)

    def as_int16(group, name=name):
        replace(group, name, group[name][()], np.int16)

    def as_string(group, name=name):
        replace(group, name, [str(v).encode() for v in group[name][()]], "S24")

    def as_matrix(group, name=name):
        values = group[name][()]
        replace(group, name, values.reshape(len(values), 1))

    def shortened(group, name=name):
        replace(group, name, group[name][()][:-1])

    def scalar(group, name=name):
        replace(group, name, group[name][0])

    # The stored type and shape are checked by one function for every column: each shape
    # case on one integer and one float column, each type case on every column.
    leaks = name == "position_entry"
    if name in ("position_account", "position_entry"):
        refused(variant(f"{name}_string", as_string), f"{name} stored as strings", name,
                check_leaks=leaks)
        refused(variant(f"{name}_matrix", as_matrix), f"{name} as an (n, 1) matrix", name,
                "1-D")
        refused(variant(f"{name}_scalar", scalar), f"{name} a scalar", name, "1-D")
    if name in ("account_mode", "position_asset", "position_margin"):
        refused(variant(f"{name}_short", shortened), f"{name} one element short", name)
    if name in float_columns:
        # float32 cannot hold the snapshot's values bit for bit; int16 would truncate them.
        refused(variant(f"{name}_float32", as_float32), f"{name} stored as float32", name,
                "float64", check_leaks=leaks)
        refused(variant(f"{name}_int16", as_int16), f"{name} stored as int16", name)
    else:
        # Integers keep their values in any width (read at 64 bits); a float is refused.
        refused(variant(f"{name}_float32", as_float32), f"{name} stored as float32", name,
                "integers")
        refused_or_identical(variant(f"{name}_int16", as_int16), f"{name} stored as int16",
                             (name,))

# --- values -------------------------------------------------------------------------------------
with h5py.File(clean, "r") as f:
    group = f["population"]
    modes = group["account_mode"][()]
    owners = group["position_account"][()]
n_accounts = len(modes)
cross_position = int(np.flatnonzero(modes[owners] == 1)[0])
isolated_position = int(np.flatnonzero(modes[owners] == 0)[0])
for name in float_columns:
    for label, value in (("nan", np.nan), ("inf", np.inf), ("minus_inf", -np.inf)):
        refused(variant(f"{name}_{label}", set_value(name, 7, value)), f"{name}[7] = {value}",
                f"/population/{name}[7]", check_leaks=name == "position_quantity")
for name, value, what in (("account_collateral", -1.0, "negative collateral"),
                          ("position_entry", -50.0, "a negative entry price"),
                          ("position_entry", 0.0, "a zero entry price"),
                          ("position_quantity", 0.0, "a zero quantity")):
    refused(variant(f"{name}_{value}", set_value(name, 4, value)), what, f"/population/{name}[4]")
refused(variant("margin_negative", set_value("position_margin", isolated_position, -1.0)),
        "a negative isolated margin", f"/population/position_margin[{isolated_position}]")
refused(variant("cross_margin", set_value("position_margin", cross_position, 5.0)),
        "isolated margin on a cross account's position",
        f"/population/position_margin[{cross_position}]", "cross", check_leaks=True)
for label, row, value, needle in (
        ("owner_minus_one", 0, -1, "position_account[0]"),
        ("owner_past_end", len(owners) - 1, n_accounts, f"position_account[{len(owners) - 1}]"),
        ("owner_jump", 5, owners[5] + 3, "position_account[")):
    refused(variant(label, set_value("position_account", row, value)),
            f"position_account[{row}] = {value}", needle)


def owner_gap(group):
    values = group["position_account"][()]
    values[values == 10] = 11  # account 10 loses its positions
    replace(group, "position_account", values)


refused(variant("owner_gap", owner_gap), "an account without positions",
        "position_account", "at least one position", check_leaks=True)
refused(variant("asset_2", set_value("position_asset", 3, 2)), "asset index 2 of 2 assets",
        "position_asset[3]")


def edit_asset(group):
    values = group["position_asset"][()].astype(np.int16)
    values[5] = -1
    replace(group, "position_asset", values)


def edit_mode(group, value):
    values = group["account_mode"][()].astype(np.int16)
    values[3] = value
    replace(group, "account_mode", values)


def edit_owner_u64(group):
    values = group["position_account"][()].astype(np.uint64)
    values[-1] = np.uint64(1) << np.uint64(63)  # HDF5 clips it to INT64_MAX when read as int64
    replace(group, "position_account", values)


refused(variant("asset_minus_one", edit_asset), "an asset index of -1 stored as int16",
        "position_asset[5]", check_leaks=True)
refused(variant("mode_minus_one", lambda g: edit_mode(g, -1)),
        "a margin mode of -1 stored as int16", "account_mode[3]")
refused(variant("mode_300", lambda g: edit_mode(g, 300)), "a margin mode of 300",
        "account_mode[3]")
refused(variant("mode_3", lambda g: edit_mode(g, 3)), "a margin mode of 3 (2 is portfolio)",
        "account_mode[3]")
refused(variant("owner_u64", edit_owner_u64), "an owner of 2^63 stored as uint64",
        f"position_account[{len(owners) - 1}]")


def edit_huge(group):
    for name in list(group.keys()):
        dtype = group[name].dtype
        del group[name]
        group.create_dataset(name, shape=(1 << 33,), dtype=dtype, chunks=(1 << 16,))


refused(variant("huge", edit_huge), "2^33 declared accounts", "more than marginfall holds",
        check_leaks=True)

# --- older and edited snapshots -----------------------------------------------------------------
def format_1_0(path):
    """The same population as a format 1.0 file: no checksums, HDF5's earliest file format."""
    with h5py.File(clean, "r") as source, h5py.File(path, "w", libver="earliest") as f:
        group = f.create_group("population")
        for key, value in source["population"].attrs.items():
            group.attrs[key] = value
        group.attrs["format_version"] = np.array([1, 0], dtype=np.int32)
        for name in names:
            group.create_dataset(name, data=source["population"][name][()])
    return path


judge_cases()
old = format_1_0(os.path.join(work, "format_1_0.h5"))
refused_or_identical(old, "a format 1.0 snapshot (no checksums)", check_leaks=True)
edited = variant("rewritten_entry",
                 lambda g: replace(g, "position_entry", g["position_entry"][()]))
refused_or_identical(edited, "a dataset rewritten by h5py without a checksum")
check(judge_cases() == ["identical", "identical"],
      "a format 1.0 snapshot and one edited with h5py (no Fletcher32) load, same results")
print(f"battery: {counts['refused']} refused, {counts['identical']} identical results"
      f"{' (ASan build)' if SANITIZED else ''}")
if hdf5_leaks:
    print(f"HDF5's own leaks while refusing a damaged file (not marginfall's): {hdf5_leaks}")

# --- a replay that is a FIFO would block a reader for ever: refused before it is opened ---------
fifo = os.path.join(work, "replay.fifo")
os.mkfifo(fifo)
out = os.path.join(work, "fifo.h5")
result = run(["run", small, "--paths", "2", "-o", out,
              "--set", "market.assets.0.replay.format=csv",
              "--set", f"market.assets.0.replay.file={fifo}"], timeout=60)
check(result.returncode in (2, 3) and "not a regular file" in result.stderr
      and not os.path.exists(out),
      f"a FIFO replay is refused (exit {result.returncode}: {result.stderr.strip()[-200:]!r})")

cleanup(work)
finish()
