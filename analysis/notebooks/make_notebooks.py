#!/usr/bin/python3
"""Write the analysis notebooks (plain nbformat-4 JSON, no outputs) from the cells below.

    /usr/bin/python3 analysis/notebooks/make_notebooks.py     # rewrites the four .ipynb

Edit the cells here, not in the .ipynb files, so the notebooks stay reviewable as code.
Every notebook reads its result file from ``MARGINFALL_RESULT``; without it, it runs the
engine on its config (``configs/...``) into ``results/`` once, at the config's full size.
Figures are also saved as PNG into ``MARGINFALL_FIGURES`` when that is set (the test suite
does so: analysis/tests/run_notebooks.py).
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

SETUP = r'''
import os, sys, subprocess
import numpy as np, pandas as pd, matplotlib.pyplot as plt
REPO = os.path.abspath(os.path.join(os.getcwd(), "..", "..")) if os.path.basename(os.getcwd()) == "notebooks" else os.getcwd()
sys.path.insert(0, os.path.join(REPO, "analysis"))
import marginfall as mf
from marginfall import stats, plots, frontier, schema
plots.apply_slide_style()
pd.set_option("display.width", 160)

CONFIG = "{config}"
RESULT = os.environ.get("MARGINFALL_RESULT") or os.path.join(REPO, "results", "{default}")
if not os.path.exists(RESULT):  # run the config once at its full size ({cost})
    exe = schema.find_binary()
    subprocess.run([exe, "run", os.path.join(REPO, CONFIG), "-o", RESULT{extra}], check=True)
FIGURES = os.environ.get("MARGINFALL_FIGURES")
def save(fig, name):
    """Keep a PNG of the figure when MARGINFALL_FIGURES names a directory."""
    if FIGURES:
        os.makedirs(FIGURES, exist_ok=True)
        fig.savefig(os.path.join(FIGURES, name))
ds = mf.open_results(RESULT)
print(f"{{RESULT}}: format {{ds.attrs['format_version']}}, {{ds.attrs['paths']}} paths per point, "
      f"{{ds.attrs['accounts']}} accounts, seed {{ds.attrs['seed']}}, digest {{ds.attrs['verification_digest']}}")
'''


def nb(cells):
    out = []
    for kind, src in cells:
        src = src.strip("\n")
        cell = {"cell_type": kind, "metadata": {}, "source": src.splitlines(keepends=True)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        out.append(cell)
    return {"cells": out, "metadata": {"kernelspec": {"display_name": "Python 3",
                                                      "language": "python", "name": "python3"},
                                       "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


CASCADE = [
    ("markdown", r'''
# The cascade-size distribution

How large do liquidation cascades get on an ordinary day, and how heavy is the tail? This notebook
reads a run of `configs/default.yaml` (a calm day for BTC, ETH and SOL on a Binance-like venue)
with the per-path table (`output.paths: true`) and shows:

1. the **complementary distribution** P(X ≥ x) of cascade sizes on log-log axes, with 95%
   Clopper-Pearson bands: a straight line there is a power-law (Pareto) tail;
2. the **tail index** α of the per-path largest cascade (Hill estimator, with its standard error
   and a Hill plot to judge the choice of k);
3. how the **tail quantiles converge** as paths are added, with their order-statistic intervals.

Set `MARGINFALL_RESULT` to a result file; otherwise the notebook runs the config once
(200 paths of 1,000,000 accounts, about 25 s on 2 cores). Statistics and sources: docs/analysis.md.
'''),
    ("code", SETUP.format(config="configs/default.yaml", default="cascade-size.h5",
                          cost="about 25 s on 2 cores",
                          extra=', "--set", "output.paths=true"')),
    ("markdown", r'''
## 1. P(cascade ≥ x) on log-log axes

Two views of "cascade size". **Per cascade** (every cascade of every path, from the file's
log-binned histogram, exact at the bin edges): how big a typical cascade is. **Per path, the
largest cascade** (from the per-path table): how big the worst cascade of a day is, the figure a
risk committee cares about. The shaded bands are 95% Clopper-Pearson intervals of each
probability; they widen at the right where few samples remain. The dashed line has the slope −α
of the Hill fit below: where the curve follows it, the tail is Pareto-like.
'''),
    ("code", r'''
m = "cascade_notional"
x_largest = ds.marginfall.samples("largest_cascade")
alpha, se, k = stats.hill(x_largest)
fig, ax = plt.subplots(figsize=(11, 6.5))
plots.ccdf(hist=(ds[f"{m}_bin_edges"].values, ds[f"{m}_counts"].values,
                 float(ds[f"{m}_underflow"]), float(ds[f"{m}_overflow"])),
           ax=ax, label=f"every cascade (N = {int(ds[m + '_count'])})", color=plots.OKABE_ITO[0])
plots.ccdf(samples=x_largest, ax=ax, label=f"largest cascade of a path (N = {x_largest.size})",
           color=plots.OKABE_ITO[1])
xs = np.sort(x_largest)
x0 = xs[-k - 1]
plots.pareto_guide(ax, x0, (k + 1) / xs.size, alpha, xs[-1],
                   label=f"Pareto tail, α = {alpha:.2f} ± {1.96 * se:.2f} (Hill, k = {k})")
ax.set_xlabel("cascade size: notional liquidated (USD)")
ax.set_ylabel("P(size ≥ x)")
ax.set_title("Cascade sizes, calm day (95% bands)")
ax.legend(loc="lower left")
save(fig, "cascade_ccdf.png")
'''),
    ("markdown", r'''
## 2. The tail index

The Hill estimator uses the k largest samples: α̂ = k / Σ log(x₍ₙ₋ᵢ₊₁₎ / x₍ₙ₋ₖ₎), with standard
error α̂/√k. Small k: little bias but much noise; large k: the fit reaches into the body of the
distribution, which is not Pareto. The **Hill plot** shows α̂ against k: read α where the curve
is flat. α < 2 means the variance of the largest cascade is dominated by rare days; α < 1 would
mean even the mean is unstable. An estimate that climbs as k shrinks says the very top of the distribution
is *lighter* than a power law: a cascade cannot liquidate more than the book's open interest, so
the tail is truncated. Then the default k (√N) is a judgement call: quote α with the k used and
the plot.
'''),
    ("code", r'''
fig, ax = plt.subplots(figsize=(10, 5.5))
plots.hill_plot(x_largest, ax=ax, k_chosen=k)
ax.set_title("Hill plot: tail index of the per-path largest cascade")
save(fig, "hill_plot.png")
print(f"alpha = {alpha:.3f} +- {se:.3f} (1 SE), k = {k} of {x_largest.size} paths")
'''),
    ("markdown", r'''
## 3. Do the tail quantiles converge?

The p99 and p99.9 of the largest cascade estimated from the first n paths, with 95%
order-statistic intervals (distribution-free). The interval shrinks roughly as 1/√n; p99.9 needs
ten times the paths of p99 for the same precision. Until n is large enough to have order
statistics beyond the quantile, its upper bound is undetermined: then only the lower bound is
drawn (dotted), and the truth may lie anywhere above it.
'''),
    ("code", r'''
fig, ax = plt.subplots(figsize=(13, 5.5))
for color, q in zip(plots.OKABE_ITO, (0.9, 0.99, 0.999)):
    n, est, lo, hi = stats.quantile_convergence(x_largest, q)
    plots.convergence(n, est, lo, hi, ax=ax, label=f"p{100 * q:g}", color=color)
ax.set_ylabel("largest cascade quantile (USD)")
ax.set_title("Convergence of tail quantiles with paths (95% intervals)")
ax.legend(fontsize=10, loc="upper left", bbox_to_anchor=(1.01, 1))
save(fig, "quantile_convergence.png")
'''),
    ("code", r'''
levels = ds["quantile"].values
table = pd.DataFrame({
    "quantile": ds["largest_cascade_quantile"].values,
    "95% low": ds["largest_cascade_quantile_ci_low"].values,
    "95% high": ds["largest_cascade_quantile_ci_high"].values,
    "ES": ds["largest_cascade_es"].values,
    "ES ± 1.96 SE": 1.96 * ds["largest_cascade_es_se"].values}, index=[f"p{100 * q:g}" for q in levels])
table.applymap(lambda v: plots.fmt_value(v, "USD"))
'''),
    ("markdown", r'''
**Reading it.** The per-cascade curve is the distribution of all cascades, most of them small;
the per-path largest cascade sits to its right. The `n/a` entries are bounds the paths do not
determine. For a decision, quote the p99 with its interval, not the point estimate alone.
'''),
    ("code", "ds.close()"),
]

LEVERAGE = [
    ("markdown", r'''
# Leverage × margin ladder

`configs/sweep-leverage-mmr.yaml` sweeps two levers under one moderate stress (−10% over 30
minutes): traders' **median leverage** (`population.leverage.median`, 2x to 40x) and the
venue's **whole margin ladder scaled** (`venue.margin_scale`, 0.5 = half Binance's published
maintenance and initial rates, 4 = four times as strict). Every point sees the same market
noise, so differences between cells are the policy's effect, not noise.

The heatmaps show each cell's value with ± 1.96 standard errors. The thick vermilion line is the
**critical line**: on its upper-left side the cascades are *systemic*, defined here as a mean
liquidated notional above 10% of the venue's open interest.

Set `MARGINFALL_RESULT`; otherwise the notebook runs the config once (about 10 minutes).
'''),
    ("code", SETUP.format(config="configs/sweep-leverage-mmr.yaml", default="leverage-margin.h5",
                          cost="about 10 minutes on 2 cores",
                          extra=', "--set", "output.paths=true"')),
    ("code", r'''
import re
ydim, xdim = ds.marginfall.sweep_dims          # leverage_median, margin_scale
ylabel = schema.axis_label(ds[ydim].attrs["key"]) + "  (traders)"
xlabel = schema.axis_label(ds[xdim].attrs["key"]) + "  (venue ladder ×)"
# open interest of the book: the sum of population.assets[].open_interest_usd in the resolved config
oi = sum(float(v) for v in re.findall(r"open_interest_usd:\s*([0-9.eE+]+)", ds.attrs["config"]))
systemic = ds["liquidated_notional_mean"] > 0.10 * oi
print(f"open interest {plots.fmt_value(oi, 'USD')}; systemic threshold {plots.fmt_value(0.1 * oi, 'USD')}")
'''),
    ("markdown", r'''
## Mean liquidated notional

Up and left (high leverage, loose ladder) the stress liquidates many billions; down and right a
small fraction of that. Both axes matter: in the configured run, going from the published
ladder (×1) to one four times as strict cuts the mean by a factor of about 3 to 4.5 at every
leverage level, because it caps effective leverage lower and leaves bigger buffers to the
liquidation price. (Small test runs of this notebook print other numbers.)
'''),
    ("code", r'''
fig, ax = plt.subplots(figsize=(11, 6.5))
plots.heatmap(ds["liquidated_notional_mean"], xdim, ydim, ax=ax, unit="USD",
              se=1.96 * ds["liquidated_notional_mean_se"], xlabel=xlabel, ylabel=ylabel,
              cbar_label="mean liquidated notional (USD)", critical=systemic,
              critical_label="critical line: mean liquidations > 10% of open interest")
ax.set_title("Mean liquidated notional under a −10% stress (± 1.96 SE)")
save(fig, "heatmap_mean_liquidated.png")
'''),
    ("markdown", r'''
## Tail: p99 of the largest cascade, and bad debt

The p99 of the per-path largest cascade is the bad-day cascade. The probability of bad debt
(some liquidated account ended with negative equity) is shown with its 95% Wilson interval,
which stays informative at 0% and 100% where ± SE would collapse to ± 0. It reacts to the ladder more sharply than the
cascade size: a strict ladder liquidates earlier, while equity is still positive.
'''),
    ("code", r'''
fig, axes = plt.subplots(1, 2, figsize=(20, 6.5))
plots.heatmap(ds["largest_cascade_quantile"].sel(quantile=0.99), xdim, ydim, ax=axes[0],
              unit="USD", xlabel=xlabel, ylabel=ylabel, cbar_label="p99 largest cascade (USD)",
              critical=systemic)
axes[0].set_title("p99 of the largest cascade")
plots.heatmap(ds["prob_bad_debt"], xdim, ydim, ax=axes[1], unit="fraction", log=False,
              ci=(ds["prob_bad_debt_ci_low"], ds["prob_bad_debt_ci_high"]), xlabel=xlabel,
              ylabel=ylabel, cbar_label="probability of bad debt", critical=systemic)
axes[1].set_title("Probability of bad debt [95% Wilson interval]")
save(fig, "heatmap_tail.png")
'''),
    ("markdown", r'''
## Paired differences: what does doubling the ladder buy?

Because every point sees the same paths, the effect of a policy change is estimated path by path:
the paired standard error sd(b − a)/√N is far smaller than the unpaired √(SE_a² + SE_b²) when the
two points move together. The table compares each ladder scale with the next one at every
leverage.
'''),
    ("code", r'''
rows = []
scales = ds[xdim].values
for lev in ds[ydim].values:
    for s0, s1 in zip(scales[:-1], scales[1:]):
        a = ds.marginfall.samples("liquidated_notional", **{ydim: lev, xdim: s0})
        b = ds.marginfall.samples("liquidated_notional", **{ydim: lev, xdim: s1})
        d, se_p, se_u = stats.paired_difference(a, b)
        rows.append({ydim: lev, "ladder": f"{s0:g} → {s1:g}", "change in mean": plots.fmt_value(d, "USD"),
                     "paired SE": plots.fmt_value(se_p, "USD"), "unpaired SE": plots.fmt_value(se_u, "USD"),
                     "SE ratio": f"{se_u / se_p:.1f}x" if se_p > 0 else "inf"})
pd.DataFrame(rows)
'''),
    ("markdown", r'''
## The margin-policy frontier

For each ladder (at a given trader leverage) the capital it asks of traders, their total
collateral at t = 0, against the p99 largest cascade (marker colour: probability of bad debt).
Policies are compared only at equal trader leverage, since leverage is the traders' choice.
A hollow marker is **dominated**: another ladder asks no more capital and is no riskier on either
measure. The label beside each marker is the ladder scale. Along each line, moving right buys a smaller tail with more collateral; the slope is
the price of safety.
'''),
    ("code", r'''
table = frontier.frontier_table(ds, within=[ydim])
fig, ax = plt.subplots(figsize=(11, 6.5))
plots.frontier(table, ax=ax, group=ydim, ylabel="p99 largest cascade (USD)", annotate=xdim)
ax.set_title("Margin-policy frontier (lines join ladders at equal leverage)")
save(fig, "frontier.png")
table[[ydim, xdim, "capital", "risk", "prob_bad_debt", "dominated"]]
'''),
    ("code", "ds.close()"),
]

REGIMES = [
    ("markdown", r"""
# Margin regimes and venue rules compared

Which rules damp a liquidation cascade, which feed it, and who pays the loss the insurance
fund cannot? `configs/sweep-venue-rules.yaml` runs the default book under the same −10% stress
with a thin $10M fund, and switches **one rule on at each point**: portfolio (risk-based) margin
for half the cross accounts, dynamic (volatility-scaled) margin, funding, partial liquidation,
the backstop vault, the circuit breaker, and, for the shortfall, auto-deleveraging (ADL) or
socialised loss instead of leaving it uncovered (docs/model.md sections 3 and 5).

Every point sees the same market paths, so each rule's effect is a paired difference to the
baseline with a paired standard error. Set `MARGINFALL_RESULT`; otherwise the notebook runs the
config once (about 3 minutes).
"""),
    ("code", SETUP.format(config="configs/sweep-venue-rules.yaml", default="margin-regimes.h5",
                          cost="about 3 minutes on 2 cores", extra="")),
    ("code", r"""
dim = ds.marginfall.sweep_dims[0]   # "point": a zipped sweep
swept = [c for c in ds.coords if c not in (dim, "label") and ds[c].dims == (dim,)]
def regime(i):
    # The keys whose value differs from the baseline (point 0): what the point switches on.
    changed = [f"{c.replace('_enabled', '')}={ds[c].values[i]}" for c in swept
               if str(ds[c].values[i]) != str(ds[c].values[0])]
    names = {"dynamic_margin=true": "dynamic margin", "funding=true": "funding",
             "partial_liquidation=true": "partial liquidation", "vault=true": "backstop vault",
             "circuit_breaker=true": "circuit breaker", "deficit=adl": "ADL",
             "deficit=socialised": "socialised loss"}
    if not changed:
        return "baseline"
    if any(c.startswith("portfolio=") for c in changed):
        return "portfolio margin"
    return ", ".join(names.get(c, c) for c in changed)
labels = [regime(i) for i in range(ds.sizes[dim])]
def est(name, i):
    return plots.fmt_value(float(ds[f"{name}_mean"][i]), "USD") + " ± " + \
        plots.fmt_value(1.96 * float(ds[f"{name}_mean_se"][i]), "USD")
summary = pd.DataFrame({
    "rule": labels,
    "mean liquidated": [est("liquidated_notional", i) for i in range(len(labels))],
    "long share": [f"{100 * l / (l + s):.1f}%" for l, s in zip(ds["liquidated_long_mean"].values,
                                                               ds["liquidated_short_mean"].values)],
    "mean bad debt": [est("bad_debt", i) for i in range(len(labels))],
    "mean uncovered": [est("uncovered_deficit", i) for i in range(len(labels))],
    "P(fund short)": [f"{100 * p:.1f}% [{100 * l:.1f}, {100 * h:.1f}]" for p, l, h in
                      zip(ds["prob_fund_shortfall"].values, ds["prob_fund_shortfall_ci_low"].values,
                          ds["prob_fund_shortfall_ci_high"].values)]})
summary
"""),
    ("markdown", r"""
## Liquidations and the loss nobody covers

Left: mean liquidated notional per rule (± 1.96 SE) and the p99 of the largest cascade with
its 95% order-statistic interval. Right: what happens to the loss the fund cannot pay: the mean
uncovered deficit, and what ADL closed or socialised loss charged instead (± 1.96 SE).
"""),
    ("code", r"""
fig, axes = plt.subplots(1, 2, figsize=(20, 7))
x = list(range(len(labels)))
m = ds["liquidated_notional_mean"].values; se = ds["liquidated_notional_mean_se"].values
plots.errorbars(labels, m, m - 1.96 * se, m + 1.96 * se, ax=axes[0], label="mean liquidated notional",
                color=plots.OKABE_ITO[0], offset=-0.1)
q = ds["largest_cascade_quantile"].sel(quantile=0.99)
plots.errorbars(labels, q.values, ds["largest_cascade_quantile_ci_low"].sel(quantile=0.99).values,
                ds["largest_cascade_quantile_ci_high"].sel(quantile=0.99).values, ax=axes[0],
                label="p99 largest cascade", color=plots.OKABE_ITO[1], offset=0.1)
axes[0].set_ylabel("USD"); axes[0].legend(); axes[0].tick_params(axis="x", rotation=30)
axes[0].set_title("Liquidations by venue rule (95%)")
for j, (name, label) in enumerate([("uncovered_deficit", "uncovered deficit (nobody pays)"),
                                   ("socialised_loss", "socialised loss (profitable accounts pay)")]):
    v = ds[f"{name}_mean"].values; e = ds[f"{name}_mean_se"].values
    plots.errorbars(labels, v, v - 1.96 * e, v + 1.96 * e, ax=axes[1], label=label,
                    color=plots.OKABE_ITO[2 + j], offset=-0.1 + 0.2 * j)
axes[1].set_ylabel("mean per path (USD)"); axes[1].legend(loc="upper left")
axes[1].tick_params(axis="x", rotation=30)
# ADL closes positions rather than charging cash: its notional on its own axis.
adl = axes[1].twinx()
v = ds["adl_notional_mean"].values; e = ds["adl_notional_mean_se"].values
plots.errorbars(labels, v, v - 1.96 * e, v + 1.96 * e, ax=adl, label="notional closed by ADL (right axis)",
                color=plots.OKABE_ITO[5], offset=0.2)
adl.set_ylabel("ADL notional per path (USD)"); adl.legend(loc="upper right")
axes[1].set_title("Who pays the shortfall (95%)")
save(fig, "regimes_errorbars.png")
"""),
    ("markdown", r"""
## Paired differences to the baseline

Each rule minus the baseline, path by path, with the paired 95% interval (and the interval an
unpaired comparison would give). Where the interval excludes zero the rule changes the outcome
beyond Monte Carlo noise: below zero it damps the cascade, above zero it feeds it.
"""),
    ("code", r"""
base_liq = ds.marginfall.samples("liquidated_notional", **{dim: 0})
base_unc = ds.marginfall.samples("uncovered_deficit", **{dim: 0})
rows = []
for i in range(1, ds.sizes[dim]):
    d1, s1, u1 = stats.paired_difference(base_liq, ds.marginfall.samples("liquidated_notional", **{dim: i}))
    d2, s2, u2 = stats.paired_difference(base_unc, ds.marginfall.samples("uncovered_deficit", **{dim: i}))
    rows.append({"rule": labels[i], "Δ liquidated": d1, "Δ liq ±1.96 SE": 1.96 * s1,
                 "unpaired would be ±": 1.96 * u1, "Δ uncovered": d2, "Δ uncovered ±1.96 SE": 1.96 * s2})
diff = pd.DataFrame(rows)
fig, ax = plt.subplots(figsize=(12, 6))
plots.errorbars(diff["rule"], diff["Δ liquidated"], diff["Δ liquidated"] - diff["Δ liq ±1.96 SE"],
                diff["Δ liquidated"] + diff["Δ liq ±1.96 SE"], ax=ax,
                ylabel="change in mean liquidated notional (USD)")
ax.axhline(0, color="0.3", linewidth=1); ax.tick_params(axis="x", rotation=30)
ax.set_title("Rule minus baseline (paired 95% intervals)")
save(fig, "regimes_paired.png")
diff.set_index("rule").apply(lambda c: c.map(lambda v: plots.fmt_value(v, "USD")))
"""),
    ("markdown", r"""
## Cascade sizes by rule

The per-cascade size distribution under each rule (95% bands).
"""),
    ("code", r"""
fig, ax = plt.subplots(figsize=(11, 6.5))
mm = "cascade_notional"
for i, lab in enumerate(labels):
    sub = ds.isel({dim: i})
    plots.ccdf(hist=(sub[f"{mm}_bin_edges"].values, sub[f"{mm}_counts"].values,
                     float(sub[f"{mm}_underflow"]), float(sub[f"{mm}_overflow"])),
               ax=ax, label=lab, color=plots.OKABE_ITO[i % 8])
ax.set_xlabel("cascade size: notional liquidated in one cascade (USD)")
ax.set_ylabel("P(cascade ≥ x), per cascade"); ax.legend()
ax.set_title("Cascade sizes by venue rule")
save(fig, "regimes_ccdf.png")
"""),
    ("markdown", r"""
## What the run shows (on the configured run; rerun to update)

Read the paired table, not the raw means: every rule sees the same paths. On small runs of
this config (16 paths; 2,000 or 10,000 accounts): socialised loss leaves no uncovered deficit,
and ADL covers it too unless the opposite side runs out of positions in a one-sided crash;
partial liquidation lowers the liquidated notional; dynamic margin raises it (it liquidates more
as volatility rises: pro-cyclical); and portfolio margin as configured (a ±16% common range)
liquidates one-sided accounts far earlier than cross margin, so it roughly doubles the
liquidated notional while lowering the fund's shortfall. Those are small-run readings with wide
intervals; the full run's tables above are the ones to quote.
"""),
    ("code", "ds.close()"),
]

ANATOMY = [
    ("markdown", r'''
# Anatomy of a cascade

The other notebooks count cascades; this one follows **one** of them step by step. It reads the
per-path traces (`output.traces_worst: 3`, format 2.0) of one stressed point of
`configs/sweep-leverage-mmr.yaml`: point 16, traders at a median **40x** leverage on a margin
ladder at **half** Binance's published rates, hit at 10:00 by a market-wide −10% move over 30
minutes. The engine re-simulates the point's three worst paths (by liquidated notional) and
records, every minute, each asset's index and mark price, the notional liquidated on each side,
the liquidation backlog and the insurance fund. A trace is bit for bit the path the statistics
counted (docs/output.md, "`/point_<i>/traces`").

Set `MARGINFALL_RESULT` to a file with traces; otherwise the notebook runs that one point once
(200 paths, about half a minute on 2 cores).
'''),
    ("code", SETUP.format(config="configs/sweep-leverage-mmr.yaml", default="cascade-anatomy.h5",
                          cost="one point, about 30 s on 2 cores",
                          extra=', "--points", "16", "--set", "output.traces_worst=3", '
                                '"--set", "output.paths=true"')),
    ("markdown", r'''
## The worst paths of the point

`list_traces` lists the traced paths; the per-path table (`output.paths: true`) adds what each
path cost. Rank 1 is the path with the largest liquidated notional. `final backlog` is what was
still queued when the day ended: liquidations the venue never managed to execute.
'''),
    ("code", r'''
traces = mf.list_traces(RESULT)
POINT = int(traces.point.iloc[0])
cell = ds.isel(dict(zip(ds.marginfall.sweep_dims, np.argwhere(ds["point"].values == POINT)[0])))
label = str(cell["label"].item()) if "label" in cell.coords else f"point {POINT}"
rows = []
for _, t in traces[traces.point == POINT].iterrows():
    r = {"rank": t.worst_rank, "path": t.path_index,
         "liquidated": plots.fmt_value(t.liquidated_notional, "USD"),
         "final backlog": plots.fmt_value(t.final_backlog, "USD")}
    for col, name in (("bad_debt", "bad debt"), ("fund_min", "fund minimum"),
                      ("max_rounds", "max rounds"), ("mark_drawdown", "mark drawdown")):
        if f"paths_{col}" in cell:
            v = float(cell[f"paths_{col}"].sel(path=t.path_index))
            r[name] = plots.fmt_value(v, "fraction" if "drawdown" in col else
                                      ("" if col == "max_rounds" else "USD"))
    rows.append(r)
print(label)
pd.DataFrame(rows).set_index("rank")
'''),
    ("markdown", r'''
## One cascade, four panels

The figure follows the worst path over the simulated day, for the asset whose mark strayed
furthest from its index. Read it top to bottom, all panels on one time axis:

- **(a) Index vs mark.** The index is the outside market; the mark is this venue's price, moved
  by the liquidation flow. Forced selling meets a book of finite depth, so each liquidated
  long pushes the mark down and each short bought back pushes it up (the impact decays with a
  half-life, and part of it is permanent). While the flow lasts, the mark decouples from the index (the shaded gap), which
  liquidates more accounts at the mark, whose selling pushes it further: that loop is the
  cascade. Before the stress, a lopsided book can push the mark the *other* way, liquidating
  shorts.
- **(b) Liquidated notional per step**, over all markets (the trace's flows are venue-wide). Where the cascade starts: the first steps of sustained
  liquidation, here at the stress (10:00) or earlier if the leverage alone is unsustainable.
  A **flat top** is the venue's liquidation throughput cap (`liquidation_throughput_usd` per
  market per step): the engine cannot execute more per minute, however many accounts are due.
- **(c) Backlog.** What the cap leaves queued. It builds while the cap binds and drains only
  when the flow of new liquidations falls below the cap; a backlog that is still there at the
  end of the day is risk the venue carries overnight.
- **(d) Insurance fund.** Liquidation fees fill it, bad debt (accounts closed below zero
  equity) empties it. Its drops mark the minutes where fills came too late or too far from the
  index to cover the losing positions; if it reaches zero, losses go to auto-deleveraging.
'''),
    ("code", r'''
trace = mf.open_trace(RESULT, point=POINT, worst_rank=1)
gap = np.abs(trace["mark"] - trace["index"]) / trace["index"]
ASSET = str(gap.max("time").idxmax("asset").item())   # the asset whose mark strayed furthest
fig = plots.cascade_anatomy(trace, asset=ASSET,
                            title=f"Anatomy of the worst cascade: {ASSET}, {label}")
save(fig, "cascade_anatomy.png")
'''),
    ("markdown", r'''
## The same story in numbers

Computed from the trace, so they change with the run (small test runs print other numbers):
when liquidations began and peaked, how far the mark left the index, how often the throughput
cap bound (steps at ≥ 99% of the largest per-step volume), how large the backlog grew, and what
the fund lost.
'''),
    ("code", r'''
flow = (trace.liquidated_long + trace.liquidated_short).values
hours = trace.step_end.values / 3600
peak = flow.max()
start = hours[np.argmax(flow > 0.01 * peak)] if peak > 0 else float("nan")
g = gap.sel(asset=ASSET)
fund = trace.fund.values
fund0 = trace.attrs.get("initial_fund", fund[0])
summary = pd.Series({
    "liquidations begin (h)": f"{start:.2f}",
    "largest step (h)": f"{hours[np.argmax(flow)]:.2f}, {plots.fmt_value(peak, 'USD')}",
    f"largest {ASSET} mark-index gap": f"{100 * float(g.max()):.1f}% at {float(g.time[g.argmax()]) / 3600:.2f} h",
    "steps at the throughput cap": f"{int((flow >= 0.99 * peak).sum()) if peak > 0 else 0} of {flow.size}",
    "largest backlog": f"{plots.fmt_value(float(trace.backlog.max()), 'USD')} at {hours[int(trace.backlog.argmax())]:.2f} h",
    "fund: start, minimum, end": ", ".join(plots.fmt_value(v, "USD") for v in (fund0, fund.min(), fund[-1])),
    "most cascade rounds in a step": int(trace.rounds.max()),
})
summary.to_frame("worst path")
'''),
    ("markdown", r'''
**Reading it.** In the small test run (8 paths, 2,000 accounts; the configured run differs in
scale) the worst path liquidates about $15B in a day, and at this leverage the book is
unsustainable from the first minutes: the shorts' buy-backs lift the mark above the index and
liquidate more shorts, until the stress at 10:00 turns the flow to longs. The cap binds for
hours (the flat tops in b), the backlog reaches billions of dollars and takes most of the day
to drain, and after the stress the mark never returns to the index. The $1B fund loses only a
few percent on this path (the table shows worse paths): liquidation fees refill it between the
drops. Raise `venue.margin_scale` or lower the leverage (the other points of the sweep) and the
flat tops, the backlog and the gap shrink
together; lower `liquidation_throughput_usd` and the backlog, and with it the bad debt, grows.
'''),
    ("code", "ds.close()"),
]

NOTEBOOKS = {"cascade-size.ipynb": CASCADE, "leverage-margin.ipynb": LEVERAGE,
             "margin-regimes.ipynb": REGIMES, "cascade-anatomy.ipynb": ANATOMY}

# The configs the notebooks read, and the small overrides the test suite uses.
CONFIGS = {"cascade-size.ipynb": ("configs/default.yaml", ["output.paths=true"], 300),
           "leverage-margin.ipynb": ("configs/sweep-leverage-mmr.yaml", ["output.paths=true"], 8),
           "margin-regimes.ipynb": ("configs/sweep-venue-rules.yaml", [], 16),
           # one stressed point (40x median leverage, half the ladder) and its 3 worst paths;
           # the optional fourth item: more engine arguments
           "cascade-anatomy.ipynb": ("configs/sweep-leverage-mmr.yaml",
                                     ["output.traces_worst=3", "output.paths=true"], 8,
                                     ["--points", "16"])}

if __name__ == "__main__":
    for name, cells in NOTEBOOKS.items():
        with open(os.path.join(HERE, name), "w") as fh:
            json.dump(nb(cells), fh, indent=1, ensure_ascii=False)
            fh.write("\n")
        print("wrote", name)
