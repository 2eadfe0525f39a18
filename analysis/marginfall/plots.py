"""Slide-ready matplotlib figures of marginfall results.

Every function draws on a given ``Axes`` (or makes one) and returns it. Colours: the Okabe-Ito
palette for categories (distinguishable with the common colour-vision deficiencies) and
``cividis`` for continuous maps (perceptually uniform, colour-blind safe). ``slide_style()``
sets font sizes readable on a projected slide.
"""
from __future__ import annotations

import contextlib

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.ticker import FuncFormatter, LogLocator

from . import stats

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
             "#000000"]
CMAP = "cividis"

SLIDE_RC = {
    "figure.figsize": (10, 6), "figure.dpi": 110, "savefig.dpi": 150,
    "savefig.bbox": "tight", "font.size": 14, "axes.titlesize": 16, "axes.labelsize": 15,
    "xtick.labelsize": 13, "ytick.labelsize": 13, "legend.fontsize": 12,
    "lines.linewidth": 2.2, "lines.markersize": 7, "axes.grid": True, "grid.alpha": 0.3,
    "axes.spines.top": False, "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=OKABE_ITO),
}


@contextlib.contextmanager
def slide_style():
    """``with slide_style(): ...`` draws with large fonts, thick lines and Okabe-Ito colours."""
    with mpl.rc_context(SLIDE_RC):
        yield


def apply_slide_style():
    """Set the slide style globally (for notebooks)."""
    mpl.rcParams.update(SLIDE_RC)


def fmt_value(v, unit=""):
    """Readable number: $1.23B, 45.6%, 1.2K."""
    if v is None or not np.isfinite(v):
        return "n/a"
    if unit == "fraction":
        return f"{100 * v:.3g}%"
    a = abs(v)
    for div, suf in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if a >= div:
            s = f"{a / div:.3g}{suf}"
            break
    else:
        s = f"{a:.3g}"
    sign = "−" if v < 0 else ""
    return f"{sign}${s}" if unit == "USD" else f"{sign}{s}"


def unit_formatter(unit):
    return FuncFormatter(lambda v, _: fmt_value(v, unit))


def _ax(ax):
    return ax if ax is not None else plt.subplots()[1]


def ccdf(samples=None, hist=None, ax=None, label=None, color=None, unit="USD", conf=0.95,
         band=True):
    """Empirical P(X > x) on log-log axes with a Clopper-Pearson band.

    Give per-path ``samples`` (exact step function) or ``hist`` = (edges, counts, underflow,
    overflow) from the file (exact at the histogram edges; used for per-cascade metrics)."""
    ax = _ax(ax)
    if samples is not None:
        x = np.sort(np.asarray(samples, dtype=float))
        x = x[np.isfinite(x) & (x > 0)]
        p, lo, hi = stats.tail_probability(np.asarray(samples, dtype=float), x, conf)
        # P(X >= x(i)) plotted at x(i): the usual empirical CCDF steps, never 0 on a log axis
        n = np.asarray(samples).size
        p = (n - np.arange(x.size)) / n if x.size else p
        lo, hi = stats.clopper_pearson(n - np.arange(x.size), np.full(x.size, n), conf)
    else:
        edges, counts, under, over = hist
        x, p, lo, hi = stats.ccdf_from_histogram(edges, counts, under, over, conf)
        keep = p > 0
        x, p, lo, hi = x[keep], p[keep], lo[keep], hi[keep]
    line, = ax.step(x, p, where="post", label=label, color=color)
    if band and x.size:
        ax.fill_between(x, np.maximum(lo, 1e-12), hi, step="post", alpha=0.25,
                        color=line.get_color(), linewidth=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(unit_formatter(unit))
    ax.set_ylabel("P(X ≥ x)  (probability per draw)")
    return ax


def pareto_guide(ax, x0, p0, alpha, x1, label=None, color="0.3"):
    """A straight line of slope -alpha through (x0, p0) on log-log axes (a fitted Pareto tail)."""
    xs = np.geomspace(x0, x1, 20)
    ax.plot(xs, p0 * (xs / x0) ** (-alpha), "--", color=color, linewidth=1.6, label=label)
    return ax


def hill_plot(samples, ax=None, k_chosen=None, color=None):
    """Hill estimates of the tail index against k, with +-1.96 SE bands."""
    ax = _ax(ax)
    ks, a, se = stats.hill_curve(samples)
    ax.plot(ks, a, color=color or OKABE_ITO[0], label="Hill estimate")
    ax.fill_between(ks, a - 1.96 * se, a + 1.96 * se, alpha=0.25, color=color or OKABE_ITO[0],
                    linewidth=0, label="95% band (±1.96 α/√k)")
    if k_chosen:
        ax.axvline(k_chosen, color=OKABE_ITO[3], linestyle=":", label=f"k = {k_chosen} used")
    ax.set_xscale("log")
    ax.set_xlabel("k, number of largest samples used")
    ax.set_ylabel("tail index α (dimensionless)")
    ax.legend()
    return ax


def convergence(sizes, est, lo, hi, ax=None, label=None, unit="USD", color=None, log=True):
    """A tail quantile from the first n paths against n, with its order-statistic interval.

    Where the paths do not determine the upper bound (NaN), only the lower bound is drawn, as a
    dotted line: the truth may lie anywhere above it."""
    ax = _ax(ax)
    sizes, lo, hi = np.asarray(sizes), np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    line, = ax.plot(sizes, est, "o-", label=label, color=color)
    ok = np.isfinite(lo) & np.isfinite(hi)
    ax.fill_between(sizes, np.where(ok, lo, np.nan), np.where(ok, hi, np.nan), alpha=0.25,
                    color=line.get_color(), linewidth=0)
    only_lo = np.isfinite(lo) & ~np.isfinite(hi)
    if only_lo.any():
        ax.plot(sizes[only_lo], lo[only_lo], ":", color=line.get_color(), linewidth=1.8,
                label=f"{label}: lower bound only (upper undetermined)" if label else None)
    ax.set_xscale("log")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("paths used, n")
    ax.set_xticks(sizes, [f"{n:d}" for n in sizes], minor=False)
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    ax.tick_params(axis="x", labelrotation=45)
    ax.yaxis.set_major_formatter(unit_formatter(unit))
    ax.yaxis.set_minor_formatter(unit_formatter(unit))
    return ax


def heatmap(da, xdim, ydim, ax=None, unit="USD", log=None, annotate=True, se=None,
            xlabel=None, ylabel=None, cbar_label=None, critical=None, critical_label=None,
            cmap=CMAP, ci=None):
    """A 2-D sweep as a grid of cells, one per point (parameters on categorical axes).

    ``da`` is a DataArray over (ydim, xdim) (any order). ``se``: a DataArray of the same shape
    printed as ``± se`` in each cell; ``ci``: a pair (low, high) of DataArrays printed as
    ``[low, high]`` (use it for probabilities near 0 or 1, where ± SE collapses to ± 0). ``critical``: a boolean DataArray (e.g. "systemic"); the
    boundary between True and False cells is drawn as a thick line."""
    ax = _ax(ax)
    z = np.asarray(da.transpose(ydim, xdim).values, dtype=float)
    pos = z[np.isfinite(z) & (z > 0)]
    if log is None:
        log = pos.size > 1 and pos.max() / pos.min() > 30
    norm = LogNorm(pos.min(), pos.max()) if log and pos.size else None
    mesh = ax.imshow(z, origin="lower", aspect="auto", cmap=cmap, norm=norm)
    xs, ys = da[xdim].values, da[ydim].values
    ax.set_xticks(range(len(xs)), [f"{v:g}" if isinstance(v, (float, np.floating)) else str(v)
                                   for v in xs])
    ax.set_yticks(range(len(ys)), [f"{v:g}" if isinstance(v, (float, np.floating)) else str(v)
                                   for v in ys])
    ax.set_xlabel(xlabel or xdim)
    ax.set_ylabel(ylabel or ydim)
    ax.grid(False)
    cb = ax.figure.colorbar(mesh, ax=ax, format=unit_formatter(unit))
    cb.set_label(cbar_label or da.name or "")
    if annotate:
        s = None if se is None else np.asarray(se.transpose(ydim, xdim).values, dtype=float)
        c = None if ci is None else [np.asarray(b.transpose(ydim, xdim).values, dtype=float)
                                     for b in ci]
        lo, hi = (np.log(norm.vmin), np.log(norm.vmax)) if norm else (np.nanmin(z), np.nanmax(z))
        for (i, j), v in np.ndenumerate(z):
            t = fmt_value(v, unit)
            if s is not None and np.isfinite(s[i, j]):
                t += f"\n±{fmt_value(s[i, j], unit)}"
            if c is not None:
                t += f"\n[{fmt_value(c[0][i, j], unit)}, {fmt_value(c[1][i, j], unit)}]"
            frac = ((np.log(v) if norm and v > 0 else v) - lo) / (hi - lo) if hi > lo else 0.5
            ax.text(j, i, t, ha="center", va="center", fontsize=11,
                    color="black" if frac > 0.55 else "white")
    if critical is not None:
        c = np.asarray(critical.transpose(ydim, xdim).values, dtype=bool)
        segs = []
        ny, nx = c.shape
        for i in range(ny):
            for j in range(nx):
                if j + 1 < nx and c[i, j] != c[i, j + 1]:
                    segs.append(([j + 0.5, j + 0.5], [i - 0.5, i + 0.5]))
                if i + 1 < ny and c[i, j] != c[i + 1, j]:
                    segs.append(([j - 0.5, j + 0.5], [i + 0.5, i + 0.5]))
        for k, (sx, sy) in enumerate(segs):
            ax.plot(sx, sy, color=OKABE_ITO[3], linewidth=4, solid_capstyle="round",
                    label=critical_label if k == 0 else None)
        if segs and critical_label:
            ax.legend(loc="upper left", bbox_to_anchor=(0, -0.15), frameon=False)
    return ax


def frontier(table, ax=None, xunit="USD", yunit="USD", group=None, xlabel=None, ylabel=None,
             annotate=None, annotate_fmt="×{:g}"):
    """Capital asked of traders (x) against a risk quantile (y), one marker per policy.

    Marker colour: probability of bad debt (cividis). Dominated policies are hollow. With
    ``group`` (a column), the non-dominated points of each group are joined by a line;
    ``annotate`` (a column) writes its value beside each marker (e.g. the ladder scale)."""
    ax = _ax(ax)
    t = table
    yerr = np.vstack([t["risk"] - t["risk_low"], t["risk_high"] - t["risk"]])
    yerr = np.where(np.isfinite(yerr), yerr, 0)
    ax.errorbar(t["capital"], t["risk"], yerr=yerr, fmt="none", ecolor="0.5", elinewidth=1.2,
                capsize=3, zorder=1)
    norm = mpl.colors.Normalize(0, max(1e-9, float(np.nanmax(t["prob_bad_debt"]))))
    sc = ax.scatter(t["capital"], t["risk"], c=t["prob_bad_debt"], cmap=CMAP, norm=norm, s=110,
                    edgecolors="black", zorder=3)
    dom = t["dominated"].to_numpy()
    ax.scatter(t["capital"][dom], t["risk"][dom], s=110, facecolors="white",
               edgecolors="black", zorder=4, label="dominated (another policy is cheaper and "
               "no riskier)")
    if group:
        for k, (g, sub) in enumerate(t.groupby(group)):
            sub = sub[~sub["dominated"]].sort_values("capital")
            ax.plot(sub["capital"], sub["risk"], color=OKABE_ITO[k % len(OKABE_ITO)],
                    linewidth=1.6, zorder=2, label=f"{group} = {g:g}" if isinstance(
                        g, (float, int, np.floating, np.integer)) else f"{group} = {g}")
    cb = ax.figure.colorbar(sc, ax=ax, format=unit_formatter("fraction"))
    cb.set_label("probability of bad debt")
    ax.set_xscale("log")
    ax.set_yscale("log")
    if annotate:
        for _, r in t.iterrows():
            ax.annotate(annotate_fmt.format(r[annotate]), (r["capital"], r["risk"]),
                        xytext=(7, 5), textcoords="offset points", fontsize=10, color="0.25")
    for axis, u in ((ax.xaxis, xunit), (ax.yaxis, yunit)):
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 3.0, 5.0)))
        axis.set_major_formatter(unit_formatter(u))
        axis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    ax.set_xlabel(xlabel or "capital asked of traders: collateral at t = 0 (USD)")
    ax.set_ylabel(ylabel or "p99 risk (USD)")
    ax.legend(loc="best", fontsize=10)
    return ax


def errorbars(labels, values, low, high, ax=None, unit="USD", ylabel=None, color=None,
              label=None, offset=0.0):
    """Point estimates with (possibly asymmetric) intervals over categories."""
    ax = _ax(ax)
    x = np.arange(len(labels)) + offset
    v, lo, hi = (np.asarray(a, dtype=float) for a in (values, low, high))
    err = np.vstack([np.where(np.isfinite(lo), v - lo, 0), np.where(np.isfinite(hi), hi - v, 0)])
    ax.errorbar(x, v, yerr=err, fmt="o", capsize=5, color=color, label=label, markersize=8)
    ax.set_xticks(np.arange(len(labels)), labels)
    ax.yaxis.set_major_formatter(unit_formatter(unit))
    if ylabel:
        ax.set_ylabel(ylabel)
    return ax


def profile(time_s, series, ax=None, label=None, unit="USD", color=None):
    """A per-step mean profile against time in hours."""
    ax = _ax(ax)
    ax.plot(np.asarray(time_s) / 3600.0, series, label=label, color=color, linewidth=1.6)
    ax.set_xlabel("time since start (hours)")
    ax.yaxis.set_major_formatter(unit_formatter(unit))
    return ax


def cascade_anatomy(trace, asset=None, figsize=(12, 11), title=None):
    """Four panels over one traced path (``marginfall.open_trace``), sharing a time axis in hours.

    (a) index and mark price of ``asset`` (default: the first), the gap between them shaded:
        the mark leaves the index when forced selling meets finite depth;
    (b) liquidated notional per step over all markets (the trace's flows are venue-wide),
        longs (sold) below and shorts (bought back) stacked, in
        Okabe-Ito colours;
    (c) the backlog: notional queued for liquidation that the throughput cap has not executed;
    (d) the insurance fund, with its starting level dashed (the gap is what bad debt and
        fees net of it took).

    Returns the Figure (4 axes, units in every y label)."""
    asset = asset if asset is not None else str(trace["asset"].values[0])
    hours = trace["time"].values / 3600.0
    hours_end = trace["step_end"].values / 3600.0
    with slide_style():
        fig, axes = plt.subplots(4, 1, sharex=True, figsize=figsize,
                                 gridspec_kw={"height_ratios": [1.4, 1.2, 1, 1]})
        a, b, c, d = axes
        idx = trace["index"].sel(asset=asset).values
        mark = trace["mark"].sel(asset=asset).values
        a.plot(hours, idx, color=OKABE_ITO[7], label=f"{asset} index")
        a.plot(hours, mark, color=OKABE_ITO[3], label=f"{asset} mark")
        a.fill_between(hours, idx, mark, color=OKABE_ITO[3], alpha=0.25, linewidth=0,
                       label="mark − index gap")
        a.set_ylabel(f"{asset} price (USD)")
        a.yaxis.set_major_formatter(unit_formatter("USD"))
        a.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=3, frameon=False)
        longs = trace["liquidated_long"].values
        shorts = trace["liquidated_short"].values
        # stacked step areas, each value covering its own step (bars turn to slivers over
        # a day of minute steps); longs at the bottom, shorts on top
        edges = np.concatenate([[trace["time"].values[0] / 3600.0], hours_end])
        b.stairs(longs, edges, fill=True, color=OKABE_ITO[0], label="longs liquidated (sold)")
        b.stairs(longs + shorts, edges, baseline=longs, fill=True, color=OKABE_ITO[1],
                 label="shorts liquidated (bought back)")
        b.set_ylabel("liquidated, all\nmarkets (USD/step)")
        b.yaxis.set_major_formatter(unit_formatter("USD"))
        b.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, frameon=False)
        c.fill_between(hours_end, trace["backlog"].values, step="pre", color=OKABE_ITO[4],
                       alpha=0.6, linewidth=0)
        c.plot(hours_end, trace["backlog"].values, drawstyle="steps-pre", color=OKABE_ITO[4])
        c.set_ylabel("backlog (USD)")
        c.yaxis.set_major_formatter(unit_formatter("USD"))
        fund = trace["fund"].values
        d.plot(hours_end, fund, drawstyle="steps-pre", color=OKABE_ITO[2], label="insurance fund")
        start = trace.attrs.get("initial_fund")
        if start is not None and np.isfinite(start):
            d.axhline(start, color=OKABE_ITO[7], linestyle="--", linewidth=1.2,
                      label="fund at the start")
        d.set_ylabel("insurance fund\n(USD)")
        d.yaxis.set_major_formatter(unit_formatter("USD"))
        # show zero only when the fund came near it: a small draw-down must stay visible
        if fund.size and start is not None and np.nanmin(fund) < 0.2 * start:
            d.set_ylim(bottom=min(0.0, float(np.nanmin(fund))))
        d.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, frameon=False)
        d.set_xlabel("time (hours)")
        d.set_xlim(hours[0], hours[-1])
        for ax, tag in zip(axes, "abcd"):
            ax.text(0.0, 1.02, f"({tag})", transform=ax.transAxes, va="bottom", ha="left",
                    fontweight="bold")
        if title is None:
            rank = trace.attrs.get("worst_rank", 0)
            who = f"worst path #{rank}" if rank else "traced path"
            title = (f"Anatomy of a cascade: {who} (path {trace.attrs.get('path_index')}, "
                     f"point {trace.attrs.get('point', 0)})")
        fig.suptitle(title)
        fig.align_ylabels(axes)
        fig.tight_layout()
    return fig
