"""Event-driven margin checks (docs/model.md 12.4) against the sweeps, whole runs: every
dataset of the result (per-path table with ledgers, cascades, histograms, profiles, traces)
must be byte-identical under run.margin_kernel events, filtered and reference, on calm and
crashing markets, with dynamic margin, portfolio margin, partial liquidation and the vault
(event-driven from the live book), and every mechanism on (after ADL or socialised loss the
batch sweeps with the event models' exact checks), on one and two threads."""
import os

import h5py

from mftest import check, cleanup, config, differing, finish, run, tmpdir

work = tmpdir()
small = config("small.yaml")
everything = ["--set", "venue.deficit=adl",
              "--set", "venue.partial_liquidation.enabled=true",
              "--set", "venue.vault.enabled=true",
              "--set", "venue.funding.enabled=true",
              "--set", "venue.funding.interval_seconds=1800",
              "--set", "venue.dynamic_margin.enabled=true",
              "--set", "venue.circuit_breaker.enabled=true"]
modes = ["--set", "population.margin_modes.isolated=0.4",
         "--set", "population.margin_modes.cross=0.3",
         "--set", "population.margin_modes.portfolio=0.3"]
cases = {
    "calm": ["--set", "market.stress=[]", "--set", "market.jumps.intensity_per_year=0"],
    "crashing": [],  # small.yaml: a -30% stress over five steps, frequent jumps
    "crash with recovery": ["--set", "market.jumps.mean=0.02"],
    "dynamic margin, cap 3": ["--set", "venue.dynamic_margin.enabled=true",
                              "--set", "venue.dynamic_margin.cap=3"],
    "portfolio and cross": modes,
    # funding alone keeps the positions the store's: event-driven, with shifted marks
    "funding": ["--set", "venue.funding.enabled=true", "--set", "venue.funding.interval_seconds=1800",
                *modes],
    "funding and dynamic margin": ["--set", "venue.funding.enabled=true",
                                   "--set", "venue.funding.interval_seconds=3600",
                                   "--set", "venue.dynamic_margin.enabled=true"],
    "every mechanism": everything + modes,
    # partial chunks and the vault change only flagged accounts: event-driven, armed from the
    # live book and touched when a cooldown ends
    "partial and vault, crashing": ["--set", "venue.partial_liquidation.enabled=true",
                                    "--set", "venue.vault.enabled=true", *modes],
    "partial with cooldown, calm": ["--set", "venue.partial_liquidation.enabled=true",
                                    "--set", "venue.partial_liquidation.cooldown_seconds=300",
                                    "--set", "market.stress=[]"],
    "partial and funding, recovery": ["--set", "venue.partial_liquidation.enabled=true",
                                      "--set", "venue.funding.enabled=true",
                                      "--set", "venue.funding.interval_seconds=1800",
                                      "--set", "market.jumps.mean=0.02"],
    # socialised loss changes accounts anywhere: the batch sweeps from there on
    "socialised loss": ["--set", "venue.deficit=socialised",
                        "--set", "venue.partial_liquidation.enabled=true", *modes],
}
common = ["--set", "output.paths=true", "--set", "output.traces=[0]", "--quiet"]
for label, extra in cases.items():
    outputs = {}
    for kernel in ("reference", "filtered", "events"):
        for threads in ((1, 2) if kernel == "events" else (1,)):
            out = os.path.join(work, f"{label.replace(' ', '_')}-{kernel}-{threads}.h5")
            result = run(["run", small, "-o", out, "--set", f"run.margin_kernel={kernel}",
                          *common, *extra], threads=threads)
            if check(result.returncode == 0,
                     f"{label}, {kernel}, {threads} thread(s): runs {result.stderr[-400:]!r}"):
                outputs[(kernel, threads)] = out
    reference = outputs.get(("reference", 1))
    if not reference:
        continue
    with h5py.File(reference, "r") as f:
        liquidated = float(f["point_0/paths/liquidated_accounts"][()].sum())
    check(liquidated > 0 or label == "calm",
          f"{label}: the reference liquidates accounts ({liquidated:.0f})")
    for key, out in outputs.items():
        if key == ("reference", 1):
            continue
        differ = differing(reference, out)
        check(not differ, f"{label}: {key[0]} on {key[1]} thread(s) gives every dataset of the "
                          f"reference byte for byte {differ[:4]}")

# The event models are chosen (and named in the run's provenance) under the default setting.
out = os.path.join(work, "default-kernel.h5")
result = run(["run", small, "-o", out, "--quiet", *modes])
if check(result.returncode == 0, "default margin kernel: runs"):
    with h5py.File(out, "r") as f:
        text = f.attrs["config"]
        text = text.decode() if isinstance(text, bytes) else str(text)
    check("margin_kernel: events" in text,
          "the default run.margin_kernel is events (resolved config in the file)")

cleanup(work)
finish()
