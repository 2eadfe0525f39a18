"""The venue mechanisms of docs/model.md sections 3.1, 3.2 and 5: partial liquidation, the
fill-price bound, the backstop vault, auto-deleveraging, socialised loss, inverse and dated
contracts, funding, dynamic margin and the circuit breaker. Each has a deterministic case on a
hand-made population and a replayed price path with infinite depth, whose outcome this test
computes from the documented rules;
then, with every mechanism on at once, the money ledger balances on every path, liquidations
by side add up, and results are the same bits on 1 and 2 ranks and 1 and 2 threads. Every new
key with an impossible value is refused, naming the key."""
import math
import os

import h5py
import numpy as np
import yaml

from mftest import SOURCE, check, cleanup, config, finish, run, tmpdir

work = tmpdir()


def write_population(path, accounts):
    """accounts: list of (mode, collateral, [(quantity, entry, margin), ...]) on asset 0."""
    mode, collateral, owner, asset, quantity, entry, margin = [], [], [], [], [], [], []
    for a, (m, c, positions) in enumerate(accounts):
        mode.append(m)
        collateral.append(c)
        for q, e, mg in positions:
            owner.append(a)
            asset.append(0)
            quantity.append(q)
            entry.append(e)
            margin.append(mg)
    with h5py.File(path, "w") as f:
        g = f.create_group("population")
        g.attrs["format"] = "marginfall-population"
        g.attrs["format_version"] = np.array([1, 1], dtype=np.int32)
        g.attrs["assets"] = np.array([b"BTC"], dtype=h5py.string_dtype())
        g["account_mode"] = np.array(mode, dtype=np.uint8)
        g["account_collateral"] = np.array(collateral, dtype=np.float64)
        g["position_account"] = np.array(owner, dtype=np.int64)
        g["position_asset"] = np.array(asset, dtype=np.uint8)
        g["position_quantity"] = np.array(quantity, dtype=np.float64)
        g["position_entry"] = np.array(entry, dtype=np.float64)
        g["position_margin"] = np.array(margin, dtype=np.float64)


def scenario(name, prices, accounts, venue="", market_extra="", depth=".inf", rounds=50,
             throughput=".inf"):
    """A one-asset scenario replaying `prices` (one per step boundary), one path."""
    csv = os.path.join(work, f"{name}.csv")
    with open(csv, "w") as f:
        f.write("close\n" + "".join(f"{p!r}\n" for p in prices))
    population = os.path.join(work, f"{name}-population.h5")
    write_population(population, accounts)
    text = f"""run: {{paths: 1, steps: {len(prices) - 1}, dt_seconds: 60, block_paths: 1,
      batch_paths: 1, seed: 3}}
market:
  assets:
    - {{name: BTC, price: {prices[0]!r}, volatility: 0.5, drift: 0, jump_beta: 1.0,
       replay: {{format: csv, file: {csv}, column: close}}}}
  correlation: [[1.0]]
  garch: {{enabled: false}}
  jumps: {{intensity_per_year: 0}}
  impact: {{law: linear, permanent_fraction: 1.0, half_life_seconds: 60}}
  depth_feedback: {{beta: 0}}
{market_extra}
venue:
  name: hand-made
  insurance_fund_usd: 0
  liquidation_fee: 0.01
  max_rounds: {rounds}
{venue}
  markets:
    - asset: BTC
      depth_usd: {depth}
      liquidation_throughput_usd: {throughput}
      tiers:
        - {{floor_usd: 0, mmr: 0.01, max_leverage: 50}}
population:
  file: {population}
  assets:
    - {{asset: BTC, open_interest_usd: 1.0e6, long_share: 0.5}}
output:
  paths: true
  traces: [0]
"""
    path = os.path.join(work, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def run_case(name, yaml_path, *extra):
    out = os.path.join(work, f"{name}.h5")
    result = run(["run", yaml_path, "-o", out, "--quiet", *extra])
    if not check(result.returncode == 0, f"{name}: runs {result.stderr.strip()[-400:]!r}"):
        return None
    with h5py.File(out, "r") as f:
        table = {k: v[()] for k, v in f["point_0/paths"].items()}
        trace = {k: v[()] for k, v in f["point_0/traces/path_0"].items()}
    return table, trace


def balanced(table, label):
    money_in = (table["initial_collateral"] + table["initial_fund"] + table["initial_vault"]
                + table["trading_pnl"] + table["vault_trading_pnl"] + table["funding_net"])
    money_out = (table["final_trader_equity"] + table["final_fund"] + table["final_vault"]
                 - table["ledger_uncovered_deficit"])
    scale = np.maximum(np.abs(money_in), 1.0)
    worst = float(np.max(np.abs(money_in - money_out) / scale))
    check(worst <= 1e-9, f"{label}: the money ledger balances on every path (worst {worst:.1e})")


def near(a, b, what, tolerance=1e-9):
    ok = abs(a - b) <= tolerance * max(1.0, abs(b))
    return check(ok, f"{what}: {a!r} (expected {b!r})")


MMR = 0.01

# ---- partial liquidation: the fewest whole chunks that restore maintenance --------------------
# An isolated long of 1 BTC entered at 100,000 with 5,000 margin. At 95,800 its equity is 800
# and its maintenance 958 (flagged); with a 5 bp chunk fee the rule needs
# f >= (958 - 800) / (958 - 0.0005 x 95,800) = 0.1736: one chunk of 20%. After the 30 s
# cooldown (one step) the price is 95,500: the 0.8 BTC left are flagged again and need two
# chunks (40% of what is left). The chunks fill at the mark (infinite depth).
def partial_fraction(equity, target, notional, fee, chunk):
    needed = (target - equity) / (target - fee * notional)
    return min(1.0, max(1, math.ceil(needed / chunk)) * chunk)


prices = [100000.0, 100000.0, 95800.0, 95500.0, 95500.0]
yaml_path = scenario("partial", prices, [(0, 0.0, [(1.0, 100000.0, 5000.0)])], venue="""
  partial_liquidation: {enabled: true, min_notional_usd: 50000, chunk_fraction: 0.2,
                        target: maintenance, cooldown_seconds: 30, fee: 0.0005}""")
case = run_case("partial", yaml_path)
if case:
    table, trace = case
    fee = 0.0005
    q, cash = 1.0, 0.0
    expected_steps = []
    for step, price in enumerate(prices[1:]):
        equity = 5000.0 + cash + q * (price - 100000.0)
        maintenance = MMR * q * price
        if equity <= maintenance and (not expected_steps or expected_steps[-1][0] < step - 0):
            f = partial_fraction(equity, maintenance, q * price, fee, 0.2)
            closed = q * f
            expected_steps.append((step, closed * price))
            cash += closed * (price - 100000.0) - fee * closed * price
            q -= closed
    check(len(expected_steps) == 2, f"partial: the rule gives two chunks {expected_steps}")
    check(int(table["partial_liquidations"][0]) == 2, "partial: two partial liquidations reported")
    check(int(table["full_liquidations"][0]) == 0, "partial: no full liquidation")
    longs = trace["liquidated_long"]
    for step, notional in expected_steps:
        near(longs[step], notional, f"partial: step {step} closes the rule's chunks")
    near(float(longs.sum()), sum(n for _, n in expected_steps), "partial: nothing else closes")
    near(float(table["final_fund"][0]), fee * sum(n for _, n in expected_steps),
         "partial: the chunk fees went to the fund")
    near(float(table["final_trader_equity"][0]), 5000.0 + cash + q * (prices[-1] - 100000.0),
         "partial: the trader keeps the rest, position still open")
    balanced(table, "partial")

# ---- auto-deleveraging: highest rank first, at the bankruptcy price ----------------------------
# A long of 1.5 BTC (margin 3,000) is bankrupt at 97,000: loss 1,500, fund 0. Its bankruptcy
# price is 97,000 + 1,500 / 1.5 = 98,000; each opposite coin closed there covers 1,000, so
# 1.5 coins are taken from the shorts in BitMEX rank order (PnL% x effective leverage).
shorts = [(-0.5, 110000.0, 5500.0), (-1.0, 101000.0, 2020.0), (-2.0, 100500.0, 4020.0)]
book = [(0, 0.0, [(1.5, 100000.0, 3000.0)])] + [(0, 0.0, [s]) for s in shorts]
adl_prices = [100000.0, 100000.0, 97000.0, 97000.0]
mark = 97000.0


def rank(quantity, entry, margin):
    pnl_share = (mark - entry) / entry * (1 if quantity > 0 else -1)
    equity = margin + quantity * (mark - entry)
    leverage = abs(quantity) * mark / equity
    return pnl_share * leverage if pnl_share > 0 else pnl_share / leverage


order = sorted(range(len(shorts)), key=lambda i: (-rank(*shorts[i]), i))
need, adl_notional, hit = 1.5, 0.0, 0
for i in order:
    if need <= 0:
        break
    take = min(need, abs(shorts[i][0]))
    adl_notional += take * 98000.0
    hit += 1
    need -= take
check(order[0] == 1 and order[1] == 2, f"adl: the test's ranking puts short 1 then 2 first {order}")
yaml_path = scenario("adl", adl_prices, book, venue="  deficit: adl")
case = run_case("adl", yaml_path)
if case:
    table, _ = case
    near(float(table["adl_notional"][0]), adl_notional, "adl: notional closed at 98,000")
    check(int(table["liquidated_long_accounts"][0]) == 1
          and int(table["liquidated_short_accounts"][0]) == 0,
          "adl: one account liquidated, on the long side (ADL is not a liquidation)")
    check(int(table["adl_accounts"][0]) == hit, f"adl: {hit} accounts hit")
    near(float(table["bad_debt"][0]), 1500.0, "adl: bad debt 1,500")
    check(abs(float(table["uncovered_deficit"][0])) <= 1e-9,
          f"adl: the deficit is covered to the cent ({table['uncovered_deficit'][0]!r})")
    # The counterparts keep their positions' value at 98,000: equity falls by exactly the loss.
    equity_at_mark = sum(m + q * (adl_prices[-1] - e) for q, e, m in shorts)
    near(float(table["final_trader_equity"][0]), equity_at_mark - 1500.0,
         "adl: the counterparts paid exactly the shortfall")
    balanced(table, "adl")

# ---- socialised loss: pro rata over profitable accounts ----------------------------------------
yaml_path = scenario("socialised", adl_prices, book, venue="  deficit: socialised")
case = run_case("socialised", yaml_path)
if case:
    table, _ = case
    near(float(table["socialised_loss"][0]), 1500.0, "socialised: the whole shortfall charged")
    check(abs(float(table["uncovered_deficit"][0])) <= 1e-9, "socialised: nothing uncovered")
    equity_at_mark = sum(m + q * (adl_prices[-1] - e) for q, e, m in shorts)
    near(float(table["final_trader_equity"][0]), equity_at_mark - 1500.0,
         "socialised: the profitable accounts' equity fell by 1,500")
    check(int(table["adl_accounts"][0]) == 0, "socialised: no ADL")
    balanced(table, "socialised")

# The same book without a policy: the loss stays uncovered.
yaml_path = scenario("uncovered", adl_prices, book)
case = run_case("uncovered", yaml_path)
if case:
    near(float(case[0]["uncovered_deficit"][0]), 1500.0, "uncovered: the deficit stays")

# ---- backstop vault: takes over below 2/3 of maintenance, at the mark ---------------------------
# At 97,000 the long's equity is -1,500 < 2/3 x 1,455: the vault takes 1.5 BTC at 97,000 and
# the trader's -1,500 with it; the price then recovers to 97,500.
vault_prices = [100000.0, 100000.0, 97000.0, 97500.0]
yaml_path = scenario("vault", vault_prices, book, venue="""
  vault: {enabled: true, capital_usd: 1.0e6, takeover_fraction: 0.6666666666666666}""")
case = run_case("vault", yaml_path)
if case:
    table, trace = case
    check(int(table["vault_takeovers"][0]) == 1, "vault: one takeover")
    near(float(table["vault_notional"][0]), 1.5 * 97000.0, "vault: 1.5 BTC at the mark")
    near(float(table["final_vault"][0]), 1.0e6 - 1500.0 + 1.5 * 500.0,
         "vault: capital, the trader's equity and the inventory's PnL")
    near(float(table["vault_min_equity"][0]), 1.0e6 - 1500.0, "vault: lowest equity at 97,000")
    check(float(table["bad_debt"][0]) == 0, "vault: no bad debt for the fund")
    near(float(table["liquidated_long"][0]), 1.5 * 97000.0, "vault: counted as a long liquidation")
    balanced(table, "vault")

# ---- fill-price bound: a round executes only what keeps its mean fill inside -----------------
# Linear impact with depth D, bound b = 1.5 x 1%: a round may sell at most
# D x (-100 ln(1 - 2b)) USD at the pre-impact mark; one round a step, so each step's move is
# exactly the bound while the backlog lasts.
bound = 1.5 * MMR
depth = 2.0e5
big = [(0, 0.0, [(20.0, 100000.0, 60000.0)])]
bound_prices = [100000.0, 100000.0, 96000.0] + [96000.0] * 6
yaml_path = scenario("bound", bound_prices, big, venue="  fill_bound_mmr: 1.5", depth=repr(depth),
                     rounds=1)
case = run_case("bound", yaml_path)
if case:
    table, trace = case
    # The impact alone: the mark over the index (the index moves on its own).
    marks = trace["mark_BTC"] / trace["index_BTC"]
    cap = depth * (-100.0 * math.log(1 - 2 * bound))
    sells = trace["liquidated_long"]
    selling = [t for t in range(len(sells)) if sells[t] > 0]
    check(len(selling) >= 2, f"bound: the liquidation takes several steps {selling}")
    ratios = [marks[t + 1] / marks[t] for t in selling]
    check(all(r >= 1 - 2 * bound - 1e-12 for r in ratios),
          f"bound: no step moves the mark by more than 2b ({min(ratios):.6f})")
    near(ratios[0], 1 - 2 * bound, "bound: a full round moves the mark by exactly 2b", 1e-9)
    check(all(s <= cap * (1 + 1e-12) for s in sells), "bound: no round sells more than the cap")
    balanced(table, "bound")

# ---- inverse (coin-margined) contracts: the double hit ------------------------------------------
# An isolated long of face value N = 100,000 USD (1 BTC at entry 100,000) posts 5,000 USD of
# margin at the start price, that is 0.05 BTC. Coin-margined, it is liquidated when
# 0.05 + N (1/e - 1/P) <= mmr N / P, at P = N (1 + mmr) / (0.05 + N / e) = 96,190.48; the same
# position USD-margined lasts until 95,959.60. The price falls 50 a step from 100,000.
falling = [100000.0] + [100000.0 - 50.0 * i for i in range(1, 101)]
liquidation_price = {"inverse": 100000.0 * (1 + MMR) / (0.05 + 1.0),
                     "linear": (100000.0 - 5000.0) / (1 - MMR)}
for contract in ["inverse", "linear"]:
    yaml_path = scenario(f"contract-{contract}", falling, [(0, 0.0, [(1.0, 100000.0, 5000.0)])],
                         market_extra="")
    case = run_case(f"contract-{contract}", yaml_path,
                    "--set", f"venue.markets.0.contract={contract}")
    if not case:
        continue
    table, trace = case
    expected_step = next(t for t in range(len(falling) - 1)
                         if falling[t + 1] <= liquidation_price[contract])
    steps = [t for t, v in enumerate(trace["liquidated_long"]) if v > 0]
    check(steps == [expected_step],
          f"{contract}: liquidated at the step the price crosses "
          f"{liquidation_price[contract]:.2f} (step {expected_step}): {steps}")
    price = falling[expected_step + 1]
    coins = 0.05 if contract == "inverse" else None
    equity = (coins * price if coins else 5000.0) + (price - 100000.0)
    fee = min(max(equity, 0.0), 0.01 * price)
    near(float(table["final_fund"][0]), fee, f"{contract}: the fee from equity {equity:.2f}")
    balanced(table, f"contract {contract}")

# ---- dated futures settle at the index at expiry ------------------------------------------------
# Expiry at 180 s: the end of step 2, at the price 97,000. The market then halves: nothing is
# left to liquidate, and every account keeps its value at 97,000.
dated_prices = [100000.0, 99000.0, 98000.0, 97000.0, 80000.0, 50000.0]
dated_book = [(0, 0.0, [(1.0, 100000.0, 20000.0)]), (1, 10000.0, [(-0.5, 101000.0, 0.0)]),
              (0, 0.0, [(2.0, 99500.0, 30000.0)])]
yaml_path = scenario("dated", dated_prices, dated_book)
case = run_case("dated", yaml_path, "--set", "venue.markets.0.expiry_seconds=180")
if case:
    table, trace = case
    settle = dated_prices[3]
    pnl = sum(q * (settle - e) for _, _, positions in dated_book for q, e, _ in positions)
    collateral = sum(c + sum(m for _, _, m in positions) for _, c, positions in dated_book)
    check(float(table["liquidated_notional"][0]) == 0, "dated: nothing liquidated after expiry")
    near(float(table["trading_pnl"][0]), pnl, "dated: every position settled at the index")
    near(float(table["final_trader_equity"][0]), collateral + pnl,
         "dated: the accounts keep their value at expiry")
    balanced(table, "dated")
    # The same book as a perpetual is wiped out by the halving.
    case = run_case("perpetual", yaml_path)
    if case:
        check(float(case[0]["liquidated_notional"][0]) > 0, "perpetual: the halving liquidates")

# ---- funding moves the liquidation price by the formula ------------------------------------------
# Infinite depth: the mark is the index, the premium 0, so every payment's rate is the interest
# term i (inside the clamp) and the index grows by i x the mark each step. The isolated long is
# flagged when 5,000 + (P - 100,000) - F <= 0.01 P.
i_rate = 0.0004
slow = [100000.0 - 25.0 * t for t in range(201)]
yaml_path = scenario("funding", slow, [(0, 0.0, [(1.0, 100000.0, 5000.0)])], venue=f"""
  funding: {{enabled: true, interval_seconds: 60, rate_period_seconds: 60,
             interest_rate: {i_rate}, clamp: 0.0005, cap: 0.01, price: mark}}""")
case = run_case("funding", yaml_path)
if case:
    table, trace = case
    index, flagged = 0.0, None
    for t in range(len(slow) - 1):
        price = slow[t + 1]          # the mark during step t
        if t >= 1:
            index += i_rate * price  # the payment, before the step's margin check
        if 5000.0 + (price - 100000.0) - index <= MMR * price:
            flagged = t
            break
    unfunded = next(t for t in range(len(slow) - 1)
                    if 5000.0 + slow[t + 1] - 100000.0 <= MMR * slow[t + 1])
    steps = [t for t, v in enumerate(trace["liquidated_long"]) if v > 0]
    check(flagged is not None and steps == [flagged] and flagged < unfunded,
          f"funding: liquidated at step {flagged} (the formula), not {unfunded} without funding: {steps}")
    near(float(table["funding_paid"][0]), index, "funding: the long paid the index at its close")
    check(float(table["funding_received"][0]) == 0, "funding: nobody received (no shorts)")
    near(float(table["funding_net"][0]), -index, "funding: net funding in the ledger")
    balanced(table, "funding")

# ---- dynamic margin: the EWMA scale and exactly the accounts it flags ---------------------------
# Six isolated longs of 1 BTC at 100,000 with margins 1,100 .. 3,500. The price zigzags by 1%
# around 100,000: the EWMA of squared returns rises, the scale with it, and an account is
# flagged in the first step its equity m + (P - e) falls to 0.01 P x scale.
margins = [1100.0, 1300.0, 1600.0, 2000.0, 2600.0, 3500.0]
zigzag = [100000.0] * 4 + [100000.0 * (1.01 if j % 2 == 0 else 1.0) for j in range(12)] + [100000.0] * 4
half_life, reference, cap = 600.0, 0.5, 3.0
yaml_path = scenario("dynamic", zigzag, [(0, 0.0, [(1.0, 100000.0, m)]) for m in margins],
                     venue=f"""
  dynamic_margin: {{enabled: true, half_life_seconds: {half_life}, reference_volatility: {reference},
                   cap: {cap}}}""")
case = run_case("dynamic", yaml_path)
if case:
    table, trace = case
    decay = 2.0 ** (-60.0 / half_life)
    v_ref = reference ** 2 * 60.0 / (365.0 * 86400.0)
    v, previous = v_ref, zigzag[0]
    expected = [0] * (len(zigzag) - 1)
    alive = list(margins)
    scales = []
    for t in range(len(zigzag) - 1):
        price = zigzag[t + 1]
        r = math.log(price / previous)
        previous = price
        v = decay * v + (1 - decay) * r * r
        scale = min(cap, max(1.0, math.sqrt(v / v_ref)))
        scales.append(scale)
        for m in list(alive):
            if m + (price - 100000.0) <= MMR * price * scale:
                expected[t] += 1
                alive.remove(m)
    got = [int(x) for x in trace["liquidated_accounts"]]
    check(max(scales) == cap and got == expected,
          f"dynamic: each step flags exactly the accounts the EWMA scale gives {expected} ({got})")
    check(len(alive) == 1 and int(table["liquidated_accounts"][0]) == len(margins) - 1,
          "dynamic: only the 3,500 margin survives the capped scale")
    balanced(table, "dynamic")
    case = run_case("static", scenario("static", zigzag,
                                       [(0, 0.0, [(1.0, 100000.0, m)]) for m in margins]))
    if case:
        check(int(case[0]["liquidated_accounts"][0]) == 0, "dynamic off: the zigzag liquidates nobody")

# ---- circuit breaker: a halt, then the backlog released at the throughput cap -------------------
# A 6% drop at step 3 flags a 10 BTC long (940,000 at 94,000). The engine sells 300,000 a step;
# the breaker (5% over 5 steps) trips at the end of step 3 and halts steps 4-6; the rest goes
# out at 300,000 a step from step 7.
drop = [100000.0] * 4 + [94000.0] * 10
yaml_path = scenario("breaker", drop, [(0, 0.0, [(10.0, 100000.0, 50000.0)])], throughput="3.0e5",
                     venue="""
  circuit_breaker: {enabled: true, threshold: 0.05, window_seconds: 300, halt_seconds: 180}""")
case = run_case("breaker", yaml_path)
if case:
    table, trace = case
    sold = [round(float(x), 6) for x in trace["liquidated_long"]]
    expected = [0.0] * 3 + [300000.0, 0.0, 0.0, 0.0, 300000.0, 300000.0, 40000.0] + [0.0] * 3
    check(sold == expected, f"breaker: halted in steps 4-6, then 300,000 a step {sold}")
    backlog = trace["backlog"]
    check(all(backlog[t] > 0 for t in (4, 5, 6)), "breaker: the backlog waits during the halt")
    check(int(table["breaker_trips"][0]) == 1 and int(table["halted_steps"][0]) == 3,
          f"breaker: one trip, three halted steps ({table['breaker_trips'][0]}, {table['halted_steps'][0]})")
    balanced(table, "breaker")

# ---- every mechanism at once on the small scenario ---------------------------------------------
everything = ["--set", "output.paths=true",
              "--set", "venue.insurance_fund_usd=1e5",
              "--set", "venue.deficit=adl",
              "--set", "venue.partial_liquidation.enabled=true",
              "--set", "venue.partial_liquidation.min_notional_usd=20000",
              "--set", "venue.vault.enabled=true",
              "--set", "venue.vault.capital_usd=2e5",
              "--set", "venue.fill_bound_mmr=3",
              "--set", "venue.markets.1.contract=inverse",
              "--set", "venue.markets.0.expiry_seconds=9000",
              "--set", "venue.funding.enabled=true",
              "--set", "venue.funding.interval_seconds=1800",
              "--set", "venue.dynamic_margin.enabled=true",
              "--set", "venue.circuit_breaker.enabled=true",
              "--set", "population.margin_modes.isolated=0.4",
              "--set", "population.margin_modes.cross=0.3",
              "--set", "population.margin_modes.portfolio=0.3"]
outputs = {}
for label, ranks, threads, extra in [("1 rank", None, 1, []), ("2 ranks", 2, 1, []),
                                     ("2 threads", None, 2, []),
                                     ("batch 1", None, 1, ["--set", "run.batch_paths=1"])]:
    out = os.path.join(work, f"all-{label.replace(' ', '-')}.h5")
    result = run(["run", config("small.yaml"), "-o", out, "--quiet", *everything, *extra],
                 ranks=ranks, threads=threads)
    if check(result.returncode == 0, f"every mechanism, {label}: runs {result.stderr[-300:]!r}"):
        outputs[label] = out
if "1 rank" in outputs:
    with h5py.File(outputs["1 rank"], "r") as f:
        table = {k: v[()] for k, v in f["point_0/paths"].items()}
        digest = f.attrs["verification_digest"]
    balanced(table, "every mechanism")
    check(np.allclose(table["liquidated_long"] + table["liquidated_short"],
                      table["liquidated_notional"], rtol=1e-12, atol=1e-6),
          "every mechanism: long + short = liquidated notional on every path")
    sides = table["liquidated_long_accounts"] + table["liquidated_short_accounts"]
    check(bool(np.all(table["liquidated_long_accounts"] <= table["liquidated_accounts"])
               and np.all(table["liquidated_short_accounts"] <= table["liquidated_accounts"])
               and np.all(sides >= table["liquidated_accounts"])),
          "every mechanism: accounts by side each at most the accounts, together at least them")
    by_asset = table["liquidated_asset_0"] + table["liquidated_asset_1"]
    check(np.allclose(by_asset, table["liquidated_notional"], rtol=1e-12, atol=1e-6)
          and table["liquidated_asset_0"].sum() > 0 and table["liquidated_asset_1"].sum() > 0,
          "every mechanism: the per-asset columns add up to the liquidated notional")
    with h5py.File(outputs["1 rank"], "r") as f:
        paths = f["point_0/paths"]
        names = [paths[f"liquidated_asset_{k}"].attrs["asset"] for k in range(2)]
        check(names == ["BTC", "ETH"] and "liquidated_asset_2" not in paths,
              f"every mechanism: one column per asset of the run, named by its asset {names}")
    for name in ["partial_liquidations", "adl_accounts", "vault_takeovers", "full_liquidations",
                 "funding_paid", "breaker_trips"]:
        check(int(table[name].sum()) > 0, f"every mechanism: {name} happens ({table[name].sum()})")
    for label, out in outputs.items():
        if label == "1 rank":
            continue
        with h5py.File(out, "r") as f:
            check(f.attrs["verification_digest"] == digest,
                  f"every mechanism: {label} gives the same digest as 1 rank")

# ---- the named venue presets load with their published rules and balance ----------------------
presets = {
    "venue-binance.yaml": {"venue.deficit": "adl", "venue.funding.interval_seconds": 28800,
                           "venue.funding.cap": 0.003, "venue.funding.price": "mark",
                           "venue.markets.0.tiers.0.mmr": 0.004},
    "venue-hyperliquid.yaml": {"venue.max_leverage": 40, "venue.funding.interval_seconds": 3600,
                               "venue.funding.rate_period_seconds": 28800,
                               "venue.funding.cap": 0.04, "venue.funding.price": "index",
                               "venue.partial_liquidation.enabled": True,
                               "venue.partial_liquidation.min_notional_usd": 100000,
                               "venue.partial_liquidation.chunk_fraction": 0.2,
                               "venue.vault.enabled": True, "venue.vault.capital_usd": 4.51e8,
                               "venue.markets.0.tiers.0.mmr": 0.0125,
                               "venue.markets.0.tiers.0.max_leverage": 40,
                               "venue.markets.1.tiers.0.mmr": 0.02},
    "venue-dydx.yaml": {"venue.liquidation_fee": 0.015, "venue.fill_bound_mmr": 1.5,
                        "venue.deficit": "adl", "venue.markets.0.tiers.0.mmr": 0.03,
                        "venue.markets.2.tiers.0.max_leverage": 20},
}


def lookup(tree, dotted):
    for part in dotted.split("."):
        tree = tree[int(part)] if isinstance(tree, list) else tree[part]
    return tree


for name, expected in presets.items():
    out = os.path.join(work, name.replace(".yaml", ".h5"))
    result = run(["run", os.path.join(SOURCE, "configs", name), "-o", out, "--quiet",
                  "--paths", "4", "--set", "population.accounts=1500", "--set", "run.steps=240",
                  "--set", "output.paths=true",
                  "--set", "market.stress=[{asset: all, start_step: 60, steps: 5, log_return: -0.08}]"])
    if not check(result.returncode == 0, f"{name}: runs {result.stderr.strip()[-300:]!r}"):
        continue
    with h5py.File(out, "r") as f:
        resolved = yaml.safe_load(f.attrs["config"])
        table = {k: v[()] for k, v in f["point_0/paths"].items()}
    wrong = {k: (lookup(resolved, k), v) for k, v in expected.items() if lookup(resolved, k) != v}
    check(not wrong, f"{name}: the published rules are the ones run ({wrong or 'all equal'})")
    balanced(table, name)

# ---- bad values are refused before any work, naming the key ------------------------------------
for key, value in [("venue.deficit", "everyone"),
                   ("venue.partial_liquidation.enabled", "maybe"),
                   ("venue.partial_liquidation.min_notional_usd", "-1"),
                   ("venue.partial_liquidation.chunk_fraction", "0"),
                   ("venue.partial_liquidation.chunk_fraction", "1.5"),
                   ("venue.partial_liquidation.target", "equity"),
                   ("venue.partial_liquidation.cooldown_seconds", "-30"),
                   ("venue.partial_liquidation.fee", "1"),
                   ("venue.fill_bound_mmr", "-1"),
                   ("venue.vault.enabled", "2"),
                   ("venue.vault.capital_usd", "-5"),
                   ("venue.vault.takeover_fraction", "0"),
                   ("venue.vault.takeover_fraction", "1.2"),
                   ("venue.markets.0.contract", "quanto"),
                   ("venue.markets.0.expiry_seconds", "0"),
                   ("venue.markets.0.expiry_seconds", "-60"),
                   ("venue.funding.enabled", "yes please"),
                   ("venue.funding.interval_seconds", "0"),
                   ("venue.funding.rate_period_seconds", "-1"),
                   ("venue.funding.interest_rate", "0.5"),
                   ("venue.funding.clamp", "-0.1"),
                   ("venue.funding.cap", "0"),
                   ("venue.funding.price", "last"),
                   ("venue.dynamic_margin.half_life_seconds", "0"),
                   ("venue.dynamic_margin.reference_volatility", "-0.2"),
                   ("venue.dynamic_margin.cap", "0.5"),
                   ("venue.circuit_breaker.threshold", "0"),
                   ("venue.circuit_breaker.threshold", "1"),
                   ("venue.circuit_breaker.window_seconds", "0"),
                   ("venue.circuit_breaker.halt_seconds", "-5")]:
    out = os.path.join(work, "refused.h5")
    result = run(["run", config("small.yaml"), "-o", out, "--quiet", "--set", f"{key}={value}"])
    check(result.returncode != 0 and key in result.stderr and not os.path.exists(out),
          f"{key}={value} is refused naming the key: {result.stderr.strip()[-160:]!r}")

cleanup(work)
finish()
