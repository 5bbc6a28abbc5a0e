"""``spiking-attn report``: figures and a Markdown summary of a sweep folder's runs.parquet.

For every swept option x (every grid option with more than one value, except ``seed``) one figure,
``report-<x>.png``, with a panel per metric: the metric's mean over seeds against x, with the seeds'
standard deviation as error bars, one line per combination of the other swept options. Where the
relation is a law (x and the metric positive, at least three values of x spanning a factor of 4 or
more) the axes are log-log and the fitted slope d log(metric) / d log(x), a least-squares fit to the
means, is given in the legend and in ``report.md``.
"""
import os

import numpy as np
import pandas as pd

from .errors import InputError
from .output import is_sweep_folder

HEADER = "<!-- written by spiking-attn report; it replaces only this file -->"
LAW_MIN_VALUES = 3
LAW_MIN_RANGE = 4.0


def is_law(x, y):
    """Whether y against x is plotted log-log with a fitted slope (see the module docstring); points where x
    is undefined (a grid that leaves the option out) take no part."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    x, y = x[np.isfinite(x)], y[np.isfinite(x)]
    return (len(np.unique(x)) >= LAW_MIN_VALUES and np.all(x > 0) and np.all(y > 0)
            and x.max() / x.min() >= LAW_MIN_RANGE)


def fitted_slope(x, y):
    """Least-squares slope of log y against log x."""
    return float(np.polyfit(np.log(np.asarray(x, dtype=float)), np.log(np.asarray(y, dtype=float)), 1)[0])


def _numeric(column):
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def load_runs(folder):
    """runs.parquet and sweep.json of a sweep folder, or InputError."""
    import json

    if not is_sweep_folder(folder):
        raise InputError(f"{folder} is not a sweep folder (no sweep.json); run `spiking-attn sweep` first")
    path = os.path.join(folder, "runs.parquet")
    if not os.path.isfile(path):
        raise InputError(f"{folder} holds no runs.parquet yet; run (or resume) `spiking-attn sweep` first")
    with open(os.path.join(folder, "sweep.json")) as stream:
        marker = json.load(stream)
    if not all(isinstance(marker.get(name), list) for name in ("metrics", "grid_options")):
        raise InputError(f"{folder}/sweep.json lacks the sweep's metrics and grid options; run `spiking-attn sweep` "
                         "on the folder again to write it anew")
    try:
        runs = pd.read_parquet(path)
    except Exception as error:  # pyarrow raises its own types for a truncated or altered file
        raise InputError(f"{path} cannot be read ({error.__class__.__name__}); run `spiking-attn sweep` on the "
                         "folder again to write it anew") from None
    missing = sorted({"point", "status"} - set(runs.columns))
    if missing:
        raise InputError(f"{path} is not a sweep's table (no column {missing[0]}); run `spiking-attn sweep` on the "
                         "folder again to write it anew")
    return runs, marker


def summarise(done, x, hue, metric):
    """Mean, s.d. and count of ``metric`` over seeds, per value of ``x`` and each ``hue`` combination."""
    # named columns: an option may itself be called "count" (the memory's), which a plain agg would clash with
    return done.groupby(hue + [x], dropna=False)[metric].agg(
        **{f"{metric}_mean": "mean", f"{metric}_sd": "std", "seeds": "count"}).reset_index()


def _label(hue, values):
    values = values if isinstance(values, tuple) else (values,)
    return ", ".join(f"{name}={value}" for name, value in zip(hue, values)) or "all"


def option_figure(done, x, hue, tables):
    """The figure of every metric against ``x`` from its :func:`summarise` tables (metric -> table);
    returns it and the fitted slopes."""
    from .figures import plt

    figure, axes = plt.subplots(1, len(tables), figsize=(4.6 * len(tables), 3.8), layout="constrained",
                                squeeze=False)
    slopes = []
    numeric = _numeric(done[x])
    categories = sorted({str(value) for value in done[x]})  # str() of each: NaN too (pandas' astype(str) keeps it)
    for ax, (metric, stats) in zip(axes[0], tables.items()):
        law = numeric and is_law(stats[x], stats[f"{metric}_mean"])
        groups = stats.groupby(hue, dropna=False) if hue else [((), stats)]
        for values, group in groups:
            group = group.sort_values(x)
            position = group[x] if numeric else [categories.index(str(value)) for value in group[x]]
            label = _label(hue, values)
            if law and is_law(group[x], group[f"{metric}_mean"]):
                slope = fitted_slope(group[x], group[f"{metric}_mean"])
                slopes.append({"x": x, "metric": metric, "line": label, "slope": slope, "points": len(group)})
                label += f" (slope {slope:.2f})"
            ax.errorbar(position, group[f"{metric}_mean"], yerr=group[f"{metric}_sd"].fillna(0), marker="o",
                        capsize=3, label=label)
        if law:
            ax.set_xscale("log")
            ax.set_yscale("log")
            values = sorted(stats[x].unique())
            ax.set_xticks(values, [f"{value:g}" for value in values])
            ax.xaxis.set_minor_locator(plt.NullLocator())
        if not numeric:
            ax.set_xticks(range(len(categories)), categories)
        ax.set_xlabel(x)
        ax.set_ylabel(metric)
        if stats[f"{metric}_mean"].notna().any():
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "not measured in any run", transform=ax.transAxes, ha="center", va="center")
    return figure, slopes


def markdown_table(table, digits=4):
    """A DataFrame as a Markdown table (numbers to ``digits`` significant digits)."""
    def cell(value):
        if isinstance(value, (float, np.floating)):
            return "" if np.isnan(value) else f"{value:.{digits}g}"
        return str(value)

    lines = ["| " + " | ".join(map(str, table.columns)) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def _check_report_path(path):
    if os.path.lexists(path):
        with open(path, errors="replace") as stream:
            if stream.readline().strip() != HEADER:
                raise InputError(f"{path} exists and was not written by `spiking-attn report`; it is left as it is")


def _done_runs(runs, metrics, folder):
    """The done runs, their ``metrics`` as floats (a metric no run measured, such as a memory sweep's spiking
    accuracy with ``spiking = false``, is all NaN); InputError for a metric that is not a column or not numbers."""
    unknown = [name for name in metrics if name not in runs.columns]
    if unknown:
        hint = "no point is done yet" if not (runs.status == "done").any() else "name others in [report] metrics"
        raise InputError(f"no column {', '.join(map(repr, unknown))} in {folder}/runs.parquet ({hint})")
    done = runs[runs.status == "done"].copy()
    not_numeric = [name for name in metrics if done[name].notna().any() and not _numeric(done[name].dropna())]
    if not_numeric:
        raise InputError(f"metric(s) {', '.join(not_numeric)} are not numbers")
    for name in metrics:
        done[name] = done[name].astype(float)
    return done


def write_report(folder, metrics=None):
    """Write ``report.md`` and ``report-<option>.png`` into the sweep ``folder``.

    Parameters
    ----------
    folder : str
        A sweep folder (``spiking-attn sweep --out``).
    metrics : list of str, optional
        Columns of runs.parquet to plot (default: the config's [report] metrics, else the sweep's default for
        its command: mean row TV, output error and run seconds for `run`, the three retrieval accuracies for
        `memory`).

    Returns
    -------
    (str, list of dict)
        The path of report.md and the fitted slopes (x, metric, line, slope, points).
    """
    from .figures import check_figure_path, plt, save_figure

    runs, marker = load_runs(folder)
    metrics = list(metrics or marker["metrics"])
    done = _done_runs(runs, metrics, folder)
    swept = [name for name in marker["grid_options"] if name != "seed" and runs[name].nunique(dropna=False) > 1]
    report_path = os.path.join(folder, "report.md")
    _check_report_path(report_path)
    for x in swept:
        check_figure_path(os.path.join(folder, f"report-{x}.png"))
    sections, slopes = [], []
    for x in swept:
        hue = [name for name in swept if name != x]
        tables = {metric: summarise(done, x, hue, metric) for metric in metrics}
        if len(done):
            figure, found = option_figure(done, x, hue, tables)
            save_figure(figure, os.path.join(folder, f"report-{x}.png"))
            plt.close(figure)
            slopes += found
        merged, *others = tables.values()
        for table in others:
            merged = merged.merge(table.drop(columns="seeds"), on=hue + [x])
        if "seed" not in marker["grid_options"]:  # one run per row: no spread to show
            merged = merged.drop(columns=["seeds", *(f"{metric}_sd" for metric in metrics)]).rename(
                columns={f"{metric}_mean": metric for metric in metrics})
        sections.append(f"## Against `{x}`\n\n![{x}](report-{x}.png)\n\n{markdown_table(merged)}\n")
    write_markdown(report_path, folder, runs, marker, metrics, sections, slopes)
    return report_path, slopes


def write_markdown(path, folder, runs, marker, metrics, sections, slopes):
    """report.md: counts, the fitted slopes, one section per swept option, the failures."""
    done = runs[runs.status == "done"]
    counts = runs.status.value_counts()
    lines = [HEADER, f"# Sweep report: {os.path.basename(os.path.abspath(folder))}", "",
             f"{len(runs)} points: {counts.get('done', 0)} done, {counts.get('failed', 0)} failed, "
             f"{counts.get('pending', 0)} not run. Grid: "
             + ", ".join(f"`{name}` ({runs[name].nunique()} values)" for name in marker["grid_options"])
             + f". Metrics: {', '.join(f'`{name}`' for name in metrics)}"
             + ("; means over seeds, error bars one s.d." if "seed" in marker["grid_options"] else "."), ""]
    if slopes:
        lines += ["## Fitted log-log slopes", "", markdown_table(pd.DataFrame(slopes), digits=3), ""]
    if not sections and len(done):
        lines += ["## Metrics over all points", "", markdown_table(done[metrics].agg(["mean", "std"]).T
                                                                   .reset_index(names="metric")), ""]
    lines += sections
    failed = runs[runs.status == "failed"]
    if len(failed):
        lines += ["## Failed points", "", markdown_table(failed[["point", *marker["grid_options"], "error"]]), ""]
    try:  # whole or not at all
        with open(path + ".partial", "w") as stream:
            stream.write("\n".join(lines) + "\n")
        os.replace(path + ".partial", path)
    finally:
        if os.path.lexists(path + ".partial"):
            os.remove(path + ".partial")
