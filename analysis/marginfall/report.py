"""``marginfall-report FILE -o DIR``: the main plots as PNG and a Markdown summary.

For readers who do not open a notebook. The summary gives every figure with its uncertainty:
means ± 1.96 standard errors, quantiles with their 95% order-statistic intervals, expected
shortfall ± 1.96 SE, probabilities with 95% Wilson intervals, and the Hill tail index ± 1.96 SE
when the file has per-path values. Plots: the CCDF of cascade sizes, the liquidation profile,
and for a sweep heatmaps (2 parameters) or interval plots (1 parameter) and the margin-policy
frontier (when the file has the per-path ledger).
"""
from __future__ import annotations

import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import frontier as _frontier  # noqa: E402
from . import plots, stats  # noqa: E402
from .io import FormatError, open_results, path_samples  # noqa: E402
from .schema import axis_label  # noqa: E402

HEADLINE = [("liquidated_notional", "Liquidated notional"), ("largest_cascade", "Largest cascade"),
            ("bad_debt", "Bad debt")]


def _pm(v, se, unit):
    if not np.isfinite(se):
        return plots.fmt_value(v, unit)
    return f"{plots.fmt_value(v, unit)} ± {plots.fmt_value(1.96 * se, unit)}"


def _ci(v, lo, hi, unit):
    return (f"{plots.fmt_value(v, unit)} [{plots.fmt_value(lo, unit)}, "
            f"{plots.fmt_value(hi, unit)}]")


def _q(ds, name, level, isel):
    da = ds[name].isel(isel) if isel else ds[name]
    return float(da.sel(quantile=level, method="nearest")) if name in ds else np.nan


def point_rows(ds, level=0.99):
    """Summary lines (markdown table rows) for every cell of the file."""
    rows = []
    for isel, label in ds.marginfall.points():
        cells = [label]
        for m, _ in HEADLINE:
            if f"{m}_mean" not in ds:
                cells += ["n/a"] * 3
                continue
            unit = ds[f"{m}_mean"].attrs.get("units", "")
            pick = (lambda n: float(ds[n].isel(isel)) if isel else float(ds[n]))
            cells.append(_pm(pick(f"{m}_mean"), pick(f"{m}_mean_se"), unit))
            cells.append(_ci(_q(ds, f"{m}_quantile", level, isel),
                             _q(ds, f"{m}_quantile_ci_low", level, isel),
                             _q(ds, f"{m}_quantile_ci_high", level, isel), unit))
            cells.append(_pm(_q(ds, f"{m}_es", level, isel), _q(ds, f"{m}_es_se", level, isel),
                             unit))
        p = float(ds["prob_bad_debt"].isel(isel)) if isel else float(ds["prob_bad_debt"])
        lo = float(ds["prob_bad_debt_ci_low"].isel(isel)) if isel else float(ds["prob_bad_debt_ci_low"])
        hi = float(ds["prob_bad_debt_ci_high"].isel(isel)) if isel else float(ds["prob_bad_debt_ci_high"])
        cells.append(_ci(p, lo, hi, "fraction"))
        s = path_samples(ds, "largest_cascade")
        if s is not None:
            a, se, k = stats.hill(np.asarray((s.isel(isel) if isel else s).values, dtype=float))
            cells.append(f"{a:.2f} ± {1.96 * se:.2f} (k={k})" if np.isfinite(a) else "n/a")
        else:
            cells.append("n/a (no per-path values)")
        rows.append(cells)
    return rows


def _save(fig, out, name, written):
    path = os.path.join(out, name)
    fig.savefig(path)
    plt.close(fig)
    written.append(name)


def _param_label(ds, dim):
    return axis_label(ds[dim].attrs.get("key", dim), short=ds[dim].attrs.get("key", dim))


def make_figures(ds, out):
    """Write the report's PNGs into ``out``; return their file names."""
    written = []
    dims = ds.marginfall.sweep_dims
    cells = list(ds.marginfall.points())
    if len(cells) > 6:  # a readable CCDF overlay: the corners and middle of the sweep
        pick = sorted(set(np.linspace(0, len(cells) - 1, 5).round().astype(int)))
        cells_ccdf = [cells[i] for i in pick]
    else:
        cells_ccdf = cells
    with plots.slide_style():
        # 1. cascade sizes (per cascade, from the histograms)
        fig, ax = plt.subplots()
        for k, (isel, label) in enumerate(cells_ccdf):
            sub = ds.isel(isel) if isel else ds
            m = "cascade_notional"
            plots.ccdf(hist=(sub[f"{m}_bin_edges"].values, sub[f"{m}_counts"].values,
                             float(sub[f"{m}_underflow"]), float(sub[f"{m}_overflow"])),
                       ax=ax, label=label, color=plots.OKABE_ITO[k % 8])
        ax.set_xlabel("cascade size: notional liquidated in one cascade (USD)")
        ax.set_ylabel("P(cascade ≥ x), per cascade")
        ax.set_title("Cascade-size distribution (95% Clopper-Pearson bands)")
        ax.legend(fontsize=9)
        _save(fig, out, "cascade_ccdf.png", written)

        # 2. the mean liquidation profile
        fig, ax = plt.subplots()
        for k, (isel, label) in enumerate(cells_ccdf):
            sub = ds.isel(isel) if isel else ds
            plots.profile(ds["time"].values, sub["profile_liquidated_notional"].values, ax=ax,
                          label=label, color=plots.OKABE_ITO[k % 8])
        ax.set_ylabel("mean notional liquidated per step (USD)")
        ax.set_title("When liquidations happen (mean over paths)")
        ax.legend(fontsize=9)
        _save(fig, out, "liquidation_profile.png", written)

        # 3. sweeps
        if len(dims) == 2:
            ydim, xdim = dims
            for var, se, unit, title in (
                    ("liquidated_notional_mean", "liquidated_notional_mean_se", "USD",
                     "Mean liquidated notional (± 1.96 SE)"),
                    ("largest_cascade_quantile", None, "USD", "p99 of the largest cascade"),
                    ("prob_bad_debt", None, "fraction",
                     "Probability of bad debt [95% Wilson interval]")):
                da = ds[var].sel(quantile=0.99, method="nearest") if "quantile" in ds[var].dims else ds[var]
                fig, ax = plt.subplots(figsize=(11, 6.5))
                plots.heatmap(da, xdim, ydim, ax=ax, unit=unit,
                              se=(1.96 * ds[se]) if se else None,
                              ci=((ds["prob_bad_debt_ci_low"], ds["prob_bad_debt_ci_high"])
                                  if var == "prob_bad_debt" else None),
                              xlabel=_param_label(ds, xdim), ylabel=_param_label(ds, ydim),
                              cbar_label=title.split(" (")[0].split(" [")[0], log=None if unit == "USD" else False)
                ax.set_title(title)
                _save(fig, out, f"heatmap_{var}.png", written)
        elif len(dims) == 1:
            d = dims[0]
            labels = [f"{v:g}" if isinstance(v, (float, np.floating)) else str(v)
                      for v in ds[d].values]
            fig, ax = plt.subplots()
            q = ds["largest_cascade_quantile"].sel(quantile=0.99, method="nearest")
            lo = ds.get("largest_cascade_quantile_ci_low")
            hi = ds.get("largest_cascade_quantile_ci_high")
            plots.errorbars(labels, q.values,
                            lo.sel(quantile=0.99, method="nearest").values if lo is not None else q.values * np.nan,
                            hi.sel(quantile=0.99, method="nearest").values if hi is not None else q.values * np.nan,
                            ax=ax, ylabel="p99 largest cascade (USD)")
            ax.set_xlabel(_param_label(ds, d))
            ax.set_title("p99 of the largest cascade (95% order-statistic interval)")
            _save(fig, out, "sweep_p99_largest_cascade.png", written)
        if dims and "paths_initial_collateral" in ds:
            table = _frontier.frontier_table(ds, within=dims[:1] if len(dims) == 2 else None)
            fig, ax = plt.subplots(figsize=(11, 6.5))
            plots.frontier(table, ax=ax, group=dims[0] if len(dims) == 2 else None,
                           ylabel="p99 largest cascade (USD)",
                           annotate=dims[-1] if len(dims) == 2 else None,
                           annotate_fmt=f"{dims[-1]}={{:g}}" if len(dims) == 2 else "{}")
            ax.set_title("Margin-policy frontier")
            _save(fig, out, "frontier.png", written)
    return written


def write_summary(ds, out, figures, source):
    """Write ``summary.md``."""
    a = ds.attrs
    lines = [f"# marginfall report: {os.path.basename(source)}", "",
             f"- engine {a.get('engine_version')} (commit {a.get('git_commit')}), format "
             f"{a.get('format_version')}, created {a.get('created')}",
             f"- config file `{a.get('config_file')}`, seed {a.get('seed')}, "
             f"{a.get('paths')} paths per point, {a.get('accounts')} accounts",
             f"- verification digest `{a.get('verification_digest')}`",
             f"- sweep: {a.get('sweep_mode')}"
             + (f" over {', '.join(a.get('sweep_keys', []))}" if a.get("sweep_keys") else ""),
             "",
             "Uncertainty: `±` is 1.96 standard errors (95%); `[low, high]` is a 95% interval "
             "(order statistics for quantiles, Wilson for probabilities; `n/a` when the paths do "
             "not determine the bound). ES is the expected shortfall. The tail index is Hill's "
             "estimator on the per-path largest cascade (docs/analysis.md).", ""]
    head = ["point"]
    for _, title in HEADLINE:
        head += [f"{title}: mean", f"{title}: p99", f"{title}: ES99"]
    head += ["P(bad debt)", "tail index α (largest cascade)"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for row in point_rows(ds):
        lines.append("| " + " | ".join(row) + " |")
    if ds.marginfall.sweep_dims and "paths_initial_collateral" in ds:
        dims = ds.marginfall.sweep_dims
        t = _frontier.frontier_table(ds, within=dims[:1] if len(dims) == 2 else None)
        lines += ["", "## Margin-policy frontier", "",
                  "Capital asked of traders (collateral at t = 0) against the p99 largest "
                  "cascade and the probability of bad debt"
                  + (f", compared at equal {dims[0]}" if len(dims) == 2 else "") + ".", "",
                  "| point | capital | p99 largest cascade | P(bad debt) | dominated by |",
                  "|---|---|---|---|---|"]
        for _, r in t.iterrows():
            lines.append(f"| {r['label']} | {plots.fmt_value(r['capital'], 'USD')} | "
                         f"{_ci(r['risk'], r['risk_low'], r['risk_high'], 'USD')} | "
                         f"{_ci(r['prob_bad_debt'], r['prob_low'], r['prob_high'], 'fraction')} | "
                         f"{r['dominated_by'] or '-'} |")
    lines += ["", "## Figures", ""] + [f"![{f}]({f})" for f in figures]
    with open(os.path.join(out, "summary.md"), "w") as fh:
        fh.write("\n".join(lines) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="marginfall-report",
                                 description="Plots (PNG) and a Markdown summary of a marginfall "
                                             "result file.")
    ap.add_argument("file", help="result file (marginfall run -o FILE)")
    ap.add_argument("-o", "--output", required=True, help="directory for the PNGs and summary.md")
    ap.add_argument("--force", action="store_true", help="write into a non-empty directory")
    args = ap.parse_args(argv)
    out = args.output
    if os.path.isdir(out) and os.listdir(out) and not args.force:
        print(f"marginfall-report: {out} exists and is not empty (use --force to write into it)",
              file=sys.stderr)
        return 4
    if os.path.exists(out) and not os.path.isdir(out):
        print(f"marginfall-report: {out} exists and is not a directory", file=sys.stderr)
        return 4
    try:
        ds = open_results(args.file)
    except (FormatError, FileNotFoundError) as e:
        print(f"marginfall-report: {e}", file=sys.stderr)
        return 3
    os.makedirs(out, exist_ok=True)
    with ds:
        figures = make_figures(ds, out)
        write_summary(ds, out, figures, args.file)
    print(f"marginfall-report: wrote {len(figures)} figures and summary.md to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
