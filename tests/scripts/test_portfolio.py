"""Portfolio margin (docs/model.md, "Portfolio margin") end to end.

- tests/configs/small.yaml with population.margin_modes.portfolio = 0.3 gives the same
  datasets, bit for bit, on 1 and 2 MPI ranks (and with 2 threads and another batch size), and
  the money ledger balances on every path;
- the population snapshot holds about 30% portfolio accounts (mode byte 2), each with
  collateral equal to initial_multiplier x its portfolio requirement at the start prices,
  recomputed here from the positions and the venue's tiers, and no isolated margin; it is
  written as format 1.2, loads back to the same results, and a 1.1 file still loads;
- with the share 0 the run equals the run without the key;
- a bad value of every new key is refused (exit 2) with a message naming the key."""
import os

import h5py
import numpy as np

from mftest import check, cleanup, config, datasets, differing, finish, run, tmpdir

work = tmpdir()
SMALL = config("small.yaml")
PORTFOLIO = ["--set", "population.margin_modes.portfolio=0.3",
             "--set", "population.margin_modes.cross=0.2"]
LEDGER = ["initial_collateral", "initial_fund", "trading_pnl", "final_trader_equity",
          "final_fund", "ledger_uncovered_deficit"]


def run_ok(name, args, ranks=None, threads=1):
    path = os.path.join(work, name + ".h5")
    result = run(["run", SMALL, "-o", path, "--quiet"] + args, ranks=ranks, threads=threads)
    check(result.returncode == 0, f"{name}: runs (exit {result.returncode}) "
          f"{result.stderr.strip()[-300:]}")
    return path if result.returncode == 0 else None


# ---- determinism and the ledger --------------------------------------------------------------
one = run_ok("one_rank", PORTFOLIO)
two = run_ok("two_ranks", PORTFOLIO, ranks=2)
threads = run_ok("two_threads_batch3", PORTFOLIO + ["--set", "run.batch_paths=3"], threads=2)
for label, other in [("2 ranks", two), ("2 threads, batch 3", threads)]:
    if one and other:
        diff = differing(one, other)
        check(not diff, f"portfolio 0.3: {label} equals 1 rank bit for bit (differs: {diff[:5]})")

if one:
    with h5py.File(one, "r") as f:
        table = f["point_0/paths"]
        columns = {name: table[name][()] for name in LEDGER}
        liquidated = table["liquidated_accounts"][()]
    money_in = columns["initial_collateral"] + columns["initial_fund"] + columns["trading_pnl"]
    money_out = (columns["final_trader_equity"] + columns["final_fund"]
                 - columns["ledger_uncovered_deficit"])
    scale = np.maximum.reduce([np.abs(columns[n]) for n in LEDGER] + [np.ones_like(money_in)])
    error = np.abs(money_in - money_out) / scale
    print(f"     {len(error)} paths, worst relative ledger imbalance {error.max():.3e}, "
          f"mean liquidated accounts {liquidated.mean():.1f}")
    check(len(error) == 24 and bool(np.all(error <= 1e-9)),
          f"portfolio 0.3: the ledger balances on every one of {len(error)} paths to 1e-9")

# ---- share 0 is the run without the key ------------------------------------------------------
plain = run_ok("plain", [])
zero = run_ok("share_zero", ["--set", "population.margin_modes.portfolio=0"])
if plain and zero:
    diff = differing(plain, zero)
    check(not diff, f"portfolio share 0 equals the run without the key (differs: {diff[:5]})")

# ---- the population ---------------------------------------------------------------------------
snapshot = os.path.join(work, "population.h5")
result = run(["population", SMALL, "-o", snapshot] + PORTFOLIO)
check(result.returncode == 0, f"population snapshot with portfolio accounts {result.stderr[-300:]}")

# small.yaml's venue (tests/configs/small.yaml) and the portfolio defaults.
PRICES = [100000.0, 3500.0]
TIERS = [[(0, 0.004), (50000, 0.005), (250000, 0.01), (3000000, 0.025)],
         [(0, 0.005), (250000, 0.01)]]
RANGE, SPREAD, POINTS, FLOOR, MULTIPLIER = 0.16, 0.01, 9, 0.002, 1.5


def tier_rate(k, notional):
    rate = TIERS[k][0][1]
    for floor, mmr in TIERS[k]:
        if notional >= floor:
            rate = mmr
    return rate


def requirement(net):
    """Worst loss over the grid, written out scenario by scenario."""
    losses = [0.0]
    ranges = [max(RANGE, tier_rate(k, abs(q) * PRICES[k])) if q else 0 for k, q in enumerate(net)]
    for j in range(POINTS):
        u = (2 * j - (POINTS - 1)) / (POINTS - 1)
        losses.append(-sum(q * p * u * r for q, p, r in zip(net, PRICES, ranges)))
    for k, q in enumerate(net):
        for sign in (-1, 1):
            losses.append(-q * PRICES[k] * sign * SPREAD)
    gross = sum(abs(q) * p for q, p in zip(net, PRICES))
    return max(max(losses), FLOOR * gross)


if result.returncode == 0:
    with h5py.File(snapshot, "r") as f:
        group = f["population"]
        version = list(group.attrs["format_version"])
        mode = group["account_mode"][()]
        collateral = group["account_collateral"][()]
        owner = group["position_account"][()]
        asset = group["position_asset"][()]
        quantity = group["position_quantity"][()]
        entry = group["position_entry"][()]
        margin = group["position_margin"][()]
    check(version == [1, 2], f"the snapshot is format 1.2 ({version})")
    share = float(np.mean(mode == 2))
    print(f"     {len(mode)} accounts: isolated {np.mean(mode == 0):.3f}, cross "
          f"{np.mean(mode == 1):.3f}, portfolio {share:.3f}")
    check(0.26 < share < 0.34, f"about 30% of the accounts are portfolio ({share:.3f})")
    portfolio_positions = mode[owner] == 2
    check(bool(np.all(margin[portfolio_positions] == 0)),
          "portfolio accounts' positions carry no isolated margin")
    worst = 0.0
    healthy = True
    for account in np.flatnonzero(mode == 2):
        rows = np.flatnonzero(owner == account)
        net = [0.0, 0.0]
        for r in rows:
            net[asset[r]] += quantity[r]
        need = requirement(net)
        worst = max(worst, abs(collateral[account] - MULTIPLIER * need) / (MULTIPLIER * need))
        pnl = sum(quantity[r] * (PRICES[asset[r]] - entry[r]) for r in rows)
        healthy = healthy and collateral[account] + pnl > need
    print(f"     portfolio collateral vs 1.5 x the requirement recomputed here: worst relative "
          f"difference {worst:.2e}")
    check(worst < 1e-12, "each portfolio account's collateral is 1.5 x its grid requirement")
    check(healthy, "every portfolio account meets its requirement at t = 0")

    loaded = run_ok("loaded", PORTFOLIO + ["--set", f"population.file={snapshot}"])
    if one and loaded:
        diff = [n for n in differing(one, loaded) if "population" not in n]
        check(not diff, f"the snapshot loads back to the same results (differs: {diff[:5]})")

    # A portfolio account's position with isolated margin is refused, naming the row.
    if np.any(portfolio_positions):
        bad = os.path.join(work, "portfolio_margin.h5")
        row = int(np.flatnonzero(portfolio_positions)[0])
        with h5py.File(snapshot, "r") as src, h5py.File(bad, "w") as dst:
            src.copy("population", dst)
            values = dst["population/position_margin"][()]
            values[row] = 100.0
            del dst["population/position_margin"]
            dst["population"].create_dataset("position_margin", data=values)
        result = run(["run", SMALL, "-o", os.path.join(work, "never.h5"), "--quiet"] + PORTFOLIO
                     + ["--set", f"population.file={bad}"])
        check(result.returncode == 3 and f"position_margin[{row}]" in result.stderr
              and "portfolio" in result.stderr,
              f"isolated margin on a portfolio account's position is refused: "
              f"{result.stderr.strip()[-200:]}")

# Same accounts' share as cross or as portfolio margin, same shock: the figures.
as_cross = run_ok("half_cross", [])
as_portfolio = run_ok("half_portfolio", ["--set", "population.margin_modes.cross=0",
                                         "--set", "population.margin_modes.portfolio=0.5"])
if as_cross and as_portfolio:
    with h5py.File(as_cross, "r") as f:
        cross_liquidated = f["point_0/paths/liquidated_accounts"][()].mean()
        cross_notional = f["point_0/paths/liquidated_notional"][()].mean()
    with h5py.File(as_portfolio, "r") as f:
        portfolio_liquidated = f["point_0/paths/liquidated_accounts"][()].mean()
        portfolio_notional = f["point_0/paths/liquidated_notional"][()].mean()
    print(f"     small.yaml, 50% isolated + 50% cross: {cross_liquidated:.1f} accounts, "
          f"${cross_notional / 1e6:.1f}M liquidated per path; 50% isolated + 50% portfolio: "
          f"{portfolio_liquidated:.1f} accounts, ${portfolio_notional / 1e6:.1f}M")
    # A figure, not a property: thin hedges (collateral 1.5 x a 1% spread) meet a volatile
    # BTC-ETH spread here. The check only asserts that the mode is in effect.
    check(portfolio_liquidated != cross_liquidated, "the portfolio share changes the results")

# A 1.1 snapshot (written before the portfolio mode existed) still loads.
old = os.path.join(work, "old.h5")
result = run(["population", SMALL, "-o", old])
if check(result.returncode == 0, "population snapshot without portfolio accounts"):
    with h5py.File(old, "r+") as f:
        f["population"].attrs["format_version"] = np.array([1, 1], dtype=np.int32)
    old_run = run_ok("old_snapshot", ["--set", f"population.file={old}"])
    if old_run and plain:
        diff = [n for n in differing(plain, old_run) if "population" not in n]
        check(not diff, f"a 1.1 snapshot loads and gives the generated results ({diff[:5]})")

# ---- bad values --------------------------------------------------------------------------------
BAD = [
    ("venue.portfolio_margin.points=4", "venue.portfolio_margin.points"),
    ("venue.portfolio_margin.points=1", "venue.portfolio_margin.points"),
    ("venue.portfolio_margin.points=103", "venue.portfolio_margin.points"),
    ("venue.portfolio_margin.floor_rate=-0.1", "venue.portfolio_margin.floor_rate"),
    ("venue.portfolio_margin.floor_rate=1", "venue.portfolio_margin.floor_rate"),
    ("venue.portfolio_margin.initial_multiplier=1", "venue.portfolio_margin.initial_multiplier"),
    ("venue.portfolio_margin.initial_multiplier=nan", "venue.portfolio_margin.initial_multiplier"),
    ("venue.markets.0.portfolio_range=-0.1", "portfolio_range"),
    ("venue.markets.1.portfolio_range=1.5", "portfolio_range"),
    ("venue.markets.0.portfolio_spread_range=-0.01", "portfolio_spread_range"),
    ("venue.markets.1.portfolio_spread_range=1", "portfolio_spread_range"),
    ("population.margin_modes.portfolio=-0.2", "population.margin_modes.portfolio"),
    ("population.margin_modes.portfolio=1.5", "population.margin_modes.portfolio"),
    ("population.margin_modes.portfolio=0.3", "population.margin_modes"),  # sum 1.3
]
for setting, key in BAD:
    outdir = os.path.join(work, "bad_" + setting.replace("=", "_"))
    os.mkdir(outdir)
    result = run(["run", SMALL, "-o", os.path.join(outdir, "r.h5"), "--quiet", "--set", setting])
    message = result.stderr.strip()
    check(result.returncode == 2 and key in message,
          f"--set {setting}: exit {result.returncode}, names {key}: {message[:200]}")
    check(os.listdir(outdir) == [], f"--set {setting}: no output file")

cleanup(work)
finish()
