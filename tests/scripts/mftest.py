"""Shared helpers for the script tests: run the real marginfall binary (optionally under
mpiexec), read result files with h5py, and count checks. Each test file ends with
`finish()`, which prints 'N passed, N failed' and exits non-zero on any failure."""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

BINARY = os.environ.get("MF_BINARY", "build/release/marginfall")
SOURCE = os.environ.get("MF_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
SHARED = os.environ.get("MF_SHARED_DIR", os.path.join(SOURCE, "..", "shared"))
MPIEXEC = os.environ.get("MF_MPIEXEC", "mpiexec")
SANITIZED = "asan" in BINARY

_passed = 0
_failed = 0


def check(condition, what):
    global _passed, _failed
    if condition:
        _passed += 1
        print(f"ok   {what}")
    else:
        _failed += 1
        print(f"FAIL {what}")
    return condition


def finish():
    print(f"{_passed} passed, {_failed} failed")
    sys.exit(1 if _failed else 0)


def tmpdir():
    path = tempfile.mkdtemp(prefix="mf_script_")
    return path


def config(name):
    return os.path.join(SOURCE, "tests", "configs", name)


def run(args, ranks=None, threads=1, cwd=None, timeout=600, extra_env=None):
    """Run marginfall; returns CompletedProcess with text stdout/stderr."""
    env = dict(os.environ)
    env.update(extra_env or {})
    env["OMP_NUM_THREADS"] = str(threads)
    env["OMP_PROC_BIND"] = "false"
    cmd = [BINARY] + list(args)
    if ranks is not None:
        cmd = [MPIEXEC, "-n", str(ranks), "--oversubscribe", "--bind-to", "none"] + cmd
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    for attempt in range(3):
        result = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env,
                                timeout=timeout)
        # LeakSanitizer's stop-the-world tracer sometimes dies of SIGSEGV on a loaded VM
        # ("Tracer caught signal 11"): that is the sanitizer failing, not the program, and
        # the program's own work already finished. Run it again rather than report noise.
        if not (SANITIZED and "LeakSanitizer has encountered a fatal error" in result.stderr):
            break
    return result


def interrupt_with_checkpoint(config_path, output, threads=1, timeout=300, sig=None,
                              stderr_out=None):
    """Start a run that checkpoints every 0.1 s, send it `sig` (SIGTERM by default) once its
    first checkpoint file exists, and return the exit code (8 when it stopped with a
    checkpoint). stderr_out: a list that receives the run's stderr."""
    import signal
    import time
    process = subprocess.Popen([BINARY, "run", config_path, "-o", output, "--quiet",
                                "--checkpoint-interval", "0.1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, OMP_NUM_THREADS=str(threads)))
    directory = output + ".checkpoint"
    deadline = time.time() + timeout
    while time.time() < deadline and process.poll() is None:
        if os.path.isdir(directory) and any(n.endswith(".ckpt") for n in os.listdir(directory)):
            break
        time.sleep(0.02)
    process.send_signal(sig if sig is not None else signal.SIGTERM)
    _, stderr = process.communicate(timeout=timeout)
    if stderr_out is not None:
        stderr_out.append(stderr)
    return process.returncode


def long_small_config(work, paths=96):
    """tests/configs/small.yaml with more paths and the full-sweep margin kernel (long enough to
    interrupt after its first checkpoint; event-driven checks finish it too soon), written into
    `work`; returns its path."""
    target = os.path.join(work, "long.yaml")
    with open(config("small.yaml")) as f:
        text = f.read()
    with open(target, "w") as f:
        f.write(text.replace("  paths: 24\n",
                             f"  paths: {paths}\n  margin_kernel: reference\n"))
    return target


def own_leaks(stderr):
    """LeakSanitizer reports of allocations made by marginfall's own code: the first frame
    after the allocator is not in a system library. (libgomp's per-thread buffers show up
    as leaks when LSan does not scan thread-local storage, use_tls=0.)"""
    leaks = []
    for block in stderr.split("leak of ")[1:]:
        frames = [line.strip() for line in block.splitlines() if line.strip().startswith("#")]
        caller = frames[1] if len(frames) > 1 else ""
        if "libgomp" not in caller:
            leaks.append(caller)
    return leaks


def leak_check_env():
    """Environment for a run whose leaks are checked under the ASan build. LSan's tracer
    crashes on this platform while scanning the dynamic TLS of exited OpenMP threads
    ("Tracer caught signal 11"), so thread-local storage is not scanned here."""
    options = os.environ.get("LSAN_OPTIONS", "")
    return {"LSAN_OPTIONS": (options + ":" if options else "") + "use_tls=0"}


def datasets(path):
    """Every dataset of a file, by name, as raw bytes plus dtype (bit-for-bit comparison)."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                value = np.asarray(obj[()])
                if value.dtype.kind == "O":  # variable-length strings: compare the texts
                    out[name] = ("O", value.shape, repr(value.tolist()).encode())
                else:
                    out[name] = (value.dtype.str, value.shape, value.tobytes())
        f.visititems(visit)
    return out


def differing(a, b):
    da, db = datasets(a), datasets(b)
    names = sorted(set(da) | set(db))
    return [n for n in names if da.get(n) != db.get(n)]


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def cleanup(path):
    shutil.rmtree(path, ignore_errors=True)
