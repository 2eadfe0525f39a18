"""Commands that used to leak, run to completion: under the ASan build (SANITIZED) any leak of
marginfall's own memory fails them. `marginfall population` on a sweep config leaked the
sweep's value tables (the config was freed without mf_config_free)."""
import os

from mftest import SANITIZED, check, cleanup, config, finish, leak_check_env, own_leaks, run, tmpdir

work = tmpdir()
for name in ["sweep-small.yaml", "small.yaml"]:
    out = os.path.join(work, name.replace(".yaml", "-population.h5"))
    result = run(["population", config(name), "-o", out], extra_env=leak_check_env())
    leaks = own_leaks(result.stderr)
    check(not leaks, f"population {name}: no leak of marginfall's memory (leaks from {leaks[:3]})")
    if SANITIZED:
        check("LeakSanitizer has encountered a fatal error" not in result.stderr,
              f"population {name}: LeakSanitizer ran to the end")
    ok = result.returncode == 0 or (SANITIZED and not leaks and "leak of" in result.stderr)
    detail = "" if ok else result.stderr.strip()[-300:]
    check(ok and os.path.exists(out),
          f"population {name} saves the snapshot (exit {result.returncode}) {detail}")

# A sweep run and info on its file.
out = os.path.join(work, "sweep.h5")
result = run(["run", config("sweep-small.yaml"), "-o", out, "--quiet"], extra_env=leak_check_env())
leaks = own_leaks(result.stderr)
check(not leaks, f"run sweep-small.yaml: no leak of marginfall's memory (leaks from {leaks[:3]})")
if os.path.exists(out):
    result = run(["info", out], extra_env=leak_check_env())
    leaks = own_leaks(result.stderr)
    check(not leaks, f"info: no leak of marginfall's memory (leaks from {leaks[:3]})")

cleanup(work)
finish()
