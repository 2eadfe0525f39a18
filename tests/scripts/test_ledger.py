"""The per-path money ledger (point_<i>/paths: initial_collateral, initial_fund, trading_pnl,
final_trader_equity, final_fund, ledger_uncovered_deficit and the vault and funding terms;
docs/output.md, "Auditing every dollar"): for every path

    initial_collateral + initial_fund + initial_vault + trading_pnl + vault_trading_pnl
        + funding_net = final_trader_equity + final_fund + final_vault - ledger_uncovered_deficit

to a relative 1e-9, on a scenario with bad debt beyond the fund; the ledger is the same bits
on 1 and 2 ranks and after SIGTERM and --resume (restored blocks keep their ledgers)."""
import os

import h5py
import numpy as np

from mftest import (check, cleanup, config, finish, interrupt_with_checkpoint, long_small_config,
                    run, tmpdir)

LEDGER = ["initial_collateral", "initial_fund", "trading_pnl", "final_trader_equity",
          "final_fund", "ledger_uncovered_deficit", "initial_vault", "vault_trading_pnl",
          "final_vault", "funding_net"]


def ledger(path):
    with h5py.File(path, "r") as f:
        table = f["point_0/paths"]
        out = {name: table[name][()] for name in LEDGER}
        out["uncovered_deficit"] = table["uncovered_deficit"][()]
        out["units"] = {name: table[name].attrs.get("unit") for name in LEDGER}
    return out


def audit(path, label):
    columns = ledger(path)
    money_in = (columns["initial_collateral"] + columns["initial_fund"] + columns["initial_vault"]
                + columns["trading_pnl"] + columns["vault_trading_pnl"] + columns["funding_net"])
    money_out = (columns["final_trader_equity"] + columns["final_fund"] + columns["final_vault"]
                 - columns["ledger_uncovered_deficit"])
    scale = np.maximum.reduce([np.abs(columns[name]) for name in LEDGER] + [np.ones_like(money_in)])
    error = np.abs(money_in - money_out) / scale
    n = len(money_in)
    check(n > 0 and bool(np.all(error <= 1e-9)),
          f"{label}: every one of {n} paths balances to 1e-9 (worst {error.max():.2e})")
    check(bool(np.all(columns["initial_collateral"] > 0)) and bool(np.all(columns["initial_fund"] > 0)),
          f"{label}: every path has its opening balances (none zeroed)")
    check(np.array_equal(columns["ledger_uncovered_deficit"], columns["uncovered_deficit"]),
          f"{label}: the ledger's deficit is the table's uncovered_deficit")
    check(all(str(unit) in ("USD", "b'USD'") for unit in columns["units"].values()),
          f"{label}: ledger columns are in USD ({columns['units']})")
    return columns, error.max()


def same_ledger(a, b):
    return all(np.array_equal(a[name].view(np.uint64), b[name].view(np.uint64)) for name in LEDGER)


work = tmpdir()
one = os.path.join(work, "one.h5")
result = run(["run", config("small.yaml"), "-o", one, "--quiet"])
check(result.returncode == 0, f"small.yaml runs on 1 rank {result.stderr.strip()[-300:]}")
if result.returncode == 0:
    columns, worst = audit(one, "1 rank")
    print(f"     ledger: {len(columns['trading_pnl'])} paths, worst relative imbalance {worst:.3e}, "
          f"{int(np.sum(columns['ledger_uncovered_deficit'] > 0))} paths with an uncovered deficit "
          f"(largest ${columns['ledger_uncovered_deficit'].max():,.0f})")
    check(bool(np.any(columns["ledger_uncovered_deficit"] > 0)),
          "the scenario has bad debt beyond the fund on some path")

two = os.path.join(work, "two.h5")
result = run(["run", config("small.yaml"), "-o", two, "--quiet"], ranks=2)
check(result.returncode == 0, f"small.yaml runs on 2 ranks {result.stderr.strip()[-300:]}")
if result.returncode == 0 and os.path.exists(one):
    audit(two, "2 ranks")
    check(same_ledger(ledger(one), ledger(two)), "2 ranks: the ledger equals 1 rank's bit for bit")

# SIGTERM, then --resume: blocks restored from the checkpoint carry their ledgers.
long_config = long_small_config(work)
reference = os.path.join(work, "uninterrupted.h5")
check(run(["run", long_config, "-o", reference, "--quiet"], threads=2).returncode == 0,
      "uninterrupted 96-path run")
target = os.path.join(work, "interrupted.h5")
stopped = interrupt_with_checkpoint(long_config, target)
check(stopped == 8, f"SIGTERM stops the run with a checkpoint (exit {stopped})")
resumed = run(["run", long_config, "-o", target, "--resume"], threads=2)
check(resumed.returncode == 0 and "restored" in resumed.stderr,
      f"--resume completes from the checkpoint ({resumed.stderr.strip()[-200:]!r})")
if resumed.returncode == 0 and os.path.exists(reference):
    audit(target, "resumed")
    check(same_ledger(ledger(reference), ledger(target)),
          "resumed: the ledger equals the uninterrupted run's bit for bit")

cleanup(work)
finish()
