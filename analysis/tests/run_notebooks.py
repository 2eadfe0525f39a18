#!/usr/bin/python3
"""Execute every analysis notebook headless on a small run of its config (ctest: analysis.notebooks).

For each notebook: run its config (make_notebooks.CONFIGS) with few paths and 2000 accounts into
a temporary directory, execute the notebook with nbconvert (a failing cell fails the run), and keep
its figures (MARGINFALL_FIGURES) beside the executed notebook. With MF_SANITIZED=1 (the ASan
preset, where engine runs are slow) the sizes shrink further. ``--keep DIR`` keeps the outputs.
Exit code 0 when every notebook ran; 77 (skipped) without the engine or nbconvert.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
NB_DIR = os.path.join(REPO, "analysis", "notebooks")
sys.path.insert(0, NB_DIR)
import make_notebooks  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", help="directory for executed notebooks, results and figures")
    ap.add_argument("notebooks", nargs="*", help="only these notebooks (file names)")
    args = ap.parse_args()
    exe = os.environ.get("MF_BINARY") or os.path.join(REPO, "build", "release", "marginfall")
    jupyter = shutil.which("jupyter", path="/usr/bin")
    if not os.path.isfile(exe) or not jupyter:
        print(f"SKIP: engine {exe} or /usr/bin/jupyter missing")
        return 77
    sanitized = os.environ.get("MF_SANITIZED") == "1"
    work = args.keep or tempfile.mkdtemp(prefix="mf-notebooks-")
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1", MPLBACKEND="Agg",
               OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"), MF_BINARY=exe)
    failures = []
    for name, (config, sets, paths, *more) in make_notebooks.CONFIGS.items():
        if args.notebooks and name not in args.notebooks:
            continue
        stem = name.removesuffix(".ipynb")
        result = os.path.join(work, f"{stem}.h5")
        cmd = [exe, "run", os.path.join(REPO, config), "-o", result, "--force",
               "-n", str(max(4, paths // 4) if sanitized else paths),
               "--set", "population.accounts=" + ("500" if sanitized else "2000")]
        for s in sets:
            cmd += ["--set", s]
        cmd += more[0] if more else []  # e.g. --points for a notebook on one point of a sweep
        t0 = time.time()
        subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=REPO)
        t1 = time.time()
        nb_env = dict(env, MARGINFALL_RESULT=result,
                      MARGINFALL_FIGURES=os.path.join(work, f"{stem}-figures"))
        r = subprocess.run([jupyter, "nbconvert", "--to", "notebook", "--execute",
                            "--ExecutePreprocessor.timeout=600",
                            os.path.join(NB_DIR, name), "--output-dir", work,
                            "--output", f"{stem}.executed.ipynb"],
                           capture_output=True, text=True, env=nb_env, cwd=NB_DIR)
        figs = sorted(os.listdir(nb_env["MARGINFALL_FIGURES"])) if os.path.isdir(
            nb_env["MARGINFALL_FIGURES"]) else []
        print(f"{name}: engine {t1 - t0:.1f} s, notebook {time.time() - t1:.1f} s, "
              f"exit {r.returncode}, figures {figs}")
        if r.returncode != 0 or not figs:
            print(r.stderr[-4000:])
            failures.append(name)
    if failures:
        print(f"FAILED: {', '.join(failures)} (outputs kept in {work})")
        return 1
    print(f"outputs in {work}" if args.keep else "all notebooks ran")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
