"""Untrusted replay files (docs/model.md, "Replay"): marginfall reads users' HDF5 and CSV price
series. A damaged or unfit file is refused with exit 3, naming the file (and the dataset and
element, or the line), and writes nothing; where a damaged byte does not matter, the results
equal the clean file's. The battery: truncations, 40 single-bit flips at seeds 1..40 over the
whole HDF5 file, a flipped data byte under h5py's fletcher32=True, swapped dtypes (float32 is a
valid replay; int16, strings, float16 are not) and shapes, NaN, +-inf, negative, zero and
subnormal prices, price ratios that overflow or underflow, an absurd declared length; the same
value checks on CSV. Under ASan no run may report a sanitizer error."""
import os
import random
from concurrent.futures import ThreadPoolExecutor

import h5py
import numpy as np

from mftest import SANITIZED, check, cleanup, config, differing, finish, run, tmpdir

work = tmpdir()
small = config("small.yaml")
STEPS = 240  # small.yaml's run.steps: a replay needs 241 prices
rng = np.random.default_rng(20261128)
prices = 100000 * np.exp(np.cumsum(rng.normal(0, 0.002, 300)))


def write_hdf5(name, values, dtype=np.float64, fletcher32=True, libver="earliest", **options):
    path = os.path.join(work, name + ".h5")
    with h5py.File(path, "w", libver=libver) as f:
        data = np.asarray(values, dtype=dtype)
        if fletcher32 and data.ndim >= 1 and data.size:
            options.setdefault("chunks", (64,) + data.shape[1:])
        f.create_dataset("close", data=data, fletcher32=fletcher32 and data.ndim >= 1
                         and data.size > 0, **options)
    return path


def write_csv(name, texts):
    path = os.path.join(work, name + ".csv")
    with open(path, "w") as f:
        f.write("time,close\n" + "".join(f"{t},{v}\n" for t, v in enumerate(texts)))
    return path


NO_LEAK_CHECK = {"LSAN_OPTIONS": os.environ.get("LSAN_OPTIONS", "") + ":detect_leaks=0"}


def run_with(path, check_leaks=True):
    """small.yaml with BTC replayed from path (format from the extension)."""
    name = os.path.basename(path).rsplit(".", 1)[0]
    out = os.path.join(work, "out-" + name + ".h5")
    fmt = "csv" if path.endswith(".csv") else "hdf5"
    args = ["run", small, "--paths", "2", "-o", out, "--quiet",
            "--set", "population.accounts=200",
            "--set", f"market.assets.0.replay.format={fmt}",
            "--set", f"market.assets.0.replay.file={path}"]
    if fmt == "hdf5":
        args += ["--set", "market.assets.0.replay.dataset=/close"]
    else:
        args += ["--set", "market.assets.0.replay.column=close"]
    return run(args, extra_env=None if check_leaks else NO_LEAK_CHECK), out


clean = write_hdf5("clean", prices)
with open(clean, "rb") as f:
    clean_bytes = f.read()
reference_result, reference = run_with(clean)
if not check(reference_result.returncode == 0,
             f"the clean replay runs {reference_result.stderr[-200:]}"):
    finish()

counts = {"refused": 0, "identical": 0, "accepted": 0}
hdf5_leaks = []
cases = []  # (path, what, needles, expect, check_leaks)


def leaks_inside_hdf5(stderr):
    """Whether every reported leak was allocated inside libhdf5 (HDF5 1.10 leaks a cache entry
    when it gives up on a damaged object header), none by marginfall."""
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


def judge(path, what, needles, expect, check_leaks, result, out):
    """expect "refused": exit > 0 (never a signal), the message names the file and every needle,
    no output file; "either": refused, or the clean file's results; "accepted": exit 0."""
    message = result.stderr.strip()
    if result.returncode > 0 and expect != "accepted":
        ok = (os.path.basename(path) in message and all(n in message for n in needles)
              and not os.path.exists(out))
        outcome = "refused"
    elif result.returncode == 0 and expect == "either":
        diff = differing(out, reference)
        ok, outcome = not diff, "identical"
        message = f"differs in {diff[:4]}" if diff else "same results"
    elif result.returncode == 0 and expect == "accepted":
        ok, outcome = True, "accepted"
    else:
        ok, outcome = False, "signal" if result.returncode < 0 else "unexpected"
    ok = ok and sanitizer_clean(result, what)
    if ok:
        counts[outcome] += 1
    check(ok, f"{what}: {outcome} (exit {result.returncode}: {message[-240:]!r})")
    if os.path.exists(out):
        os.remove(out)


def judge_cases():
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda case: run_with(case[0], case[4]), cases))
    for case, result in zip(cases, results):
        judge(*case, *result)
    cases.clear()


def refused(path, what, *needles, check_leaks=False):
    cases.append((path, what, needles, "refused", check_leaks))


def raw(name, data):
    path = os.path.join(work, name + ".h5")
    with open(path, "wb") as f:
        f.write(data)
    return path


def with_price(name, row, value, dtype=np.float64):
    values = prices.copy()
    values[row] = value
    return write_hdf5(name, values, dtype)


# --- truncations and bit flips ------------------------------------------------------------------
size = len(clean_bytes)
for cut in (0, 100, 1000, size // 2, size - 100, size - 1):
    refused(raw(f"cut_{cut}", clean_bytes[:cut]), f"cut at {cut} of {size} bytes",
            check_leaks=cut == size // 2)
for seed in range(1, 41):
    r = random.Random(seed)
    offset, bit = r.randrange(size), r.randrange(8)
    damaged = bytearray(clean_bytes)
    damaged[offset] ^= 1 << bit
    cases.append((raw(f"flip_{seed}", bytes(damaged)),
                  f"seed {seed}: bit {bit} of byte {offset} flipped", (), "either", seed <= 3))

# h5py's fletcher32=True: a flipped data byte fails the checksum, named with the dataset.
with h5py.File(clean, "r") as f:
    chunk_offset = f["close"].id.get_chunk_info(1).byte_offset
damaged = bytearray(clean_bytes)
damaged[chunk_offset + 10] ^= 0x04
refused(raw("data_flip", bytes(damaged)), "a flipped data byte under fletcher32=True",
        "'/close'", "Fletcher32", check_leaks=True)

# --- stored types and shapes --------------------------------------------------------------------
cases.append((write_hdf5("as_float32", prices, np.float32), "float32 prices", (), "accepted",
              True))
refused(write_hdf5("as_int16", np.minimum(prices, 30000), np.int16), "int16 prices",
        "'/close'", "2-byte signed integer", check_leaks=True)
refused(write_hdf5("as_float16", prices / 1e4, np.float16), "float16 prices", "'/close'",
        "2-byte float")
refused(write_hdf5("as_string", [str(p).encode() for p in prices], "S24"), "string prices",
        "'/close'", "a string")
refused(write_hdf5("as_matrix", prices.reshape(-1, 1)), "an (n, 1) matrix", "'/close'", "1-D",
        check_leaks=True)
refused(write_hdf5("as_scalar", prices[0], fletcher32=False), "a scalar", "'/close'", "1-D")
refused(write_hdf5("too_short", prices[:100]), "100 prices for 240 steps",
        "has 100 prices, the run needs steps+1 = 241")
refused(write_hdf5("empty", np.zeros(0), fletcher32=False), "no prices", "has 0 prices")


def declared_huge(name):
    path = os.path.join(work, name + ".h5")
    with h5py.File(path, "w") as f:
        f.create_dataset("close", shape=(1 << 40,), dtype=np.float64, chunks=(1 << 16,),
                         fletcher32=True)
    return path


refused(declared_huge("huge"), "2^40 declared prices", "declares 1099511627776 prices",
        check_leaks=True)
no_dataset = write_hdf5("no_dataset", prices)
with h5py.File(no_dataset, "r+") as f:
    f.move("close", "open")
refused(no_dataset, "no dataset /close", "no dataset '/close'")

# --- values -------------------------------------------------------------------------------------
for label, value in (("nan", np.nan), ("inf", np.inf), ("minus_inf", -np.inf),
                     ("negative", -5.0), ("zero", 0.0), ("subnormal", 1e-310)):
    refused(with_price(f"price_{label}", 7, value), f"a price of {value} at element 7",
            "'/close' element 7", check_leaks=label == "nan")
refused(write_hdf5("ratio_overflow", [1e-300, 1e300] + [1e300] * 250),
        "1e-300 then 1e300 (the ratio overflows)", "'/close' element 1", "ratio",
        check_leaks=True)
refused(write_hdf5("ratio_underflow", [1e300, 1e-300] + [1e-300] * 250),
        "1e300 then 1e-300 (the ratio underflows)", "'/close' element 1", "ratio")
refused(write_hdf5("index_overflow", [1e-300] * 10 + [1e5] * 250),
        "a ratio of 1e305 times BTC's 100000 (the replayed price overflows)",
        "'/close' element 10", "replayed price")
cases.append((write_hdf5("tiny_scale", prices * 1e-250), "prices near 1e-245 (ratios fine)",
              (), "accepted", False))
cases.append((write_hdf5("latest", prices, libver="latest"),
              "the same prices with libver='latest' (checksummed metadata)", (), "either", False))

# --- CSV: the same value checks, naming the line ------------------------------------------------
cases.append((write_csv("clean_csv", [repr(float(p)) for p in prices]),
              "the clean prices as CSV", (), "either", True))
for label, text, line in (("nan", "nan", 9), ("inf", "inf", 9), ("subnormal", "1e-310", 9),
                          ("overflow", "1e300", 3)):
    texts = [repr(float(p)) for p in prices]
    if label == "overflow":
        texts[0] = "1e-300"
    texts[line - 2] = text
    refused(write_csv(f"csv_{label}", texts), f"CSV price {text} on line {line}",
            f"csv_{label}.csv:{line}:", check_leaks=label == "overflow")

judge_cases()
print(f"battery: {counts['refused']} refused, {counts['identical']} identical results, "
      f"{counts['accepted']} valid variants accepted{' (ASan build)' if SANITIZED else ''}")
if hdf5_leaks:
    print(f"HDF5's own leaks while refusing a damaged file (not marginfall's): {hdf5_leaks}")

cleanup(work)
finish()
