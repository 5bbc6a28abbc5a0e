"""The associative memory's capacity from a capacity sweep (analysis/memory_capacity.toml): P_max(N), the load
at which each model's retrieval accuracy falls below 90 %, and its growth with N.

    spiking-attn sweep analysis/memory_capacity.toml --out results/memory_capacity
    python analysis/memory_capacity.py results/memory_capacity [--out results/memory_capacity_fit]

Writes capacity.csv (model, N, P_max, whether it is a bound), loads.csv (accuracy against P per model and N),
capacity.png and prints both tables, the fitted exponents of P_max ~ N^b and the lowest agreement between the
spiking memory and its rate model at the loads where the rate model retrieves >= 90 %.
"""
import argparse
import os

import numpy as np
import pandas as pd

from spiking_attn.associative_memory import capacity, growth_exponent
from spiking_attn.errors import InputError, exit_on_input_error
from spiking_attn.figures import plt, save_figure
from spiking_attn.output import result_folder
from spiking_attn.report import load_runs

MODELS = {"spiking": "retrieval_accuracy", "rate model": "rate_model_accuracy", "Hopfield": "hopfield_accuracy"}
LEVEL = 0.9


def loads(sweep):
    """Accuracy against P per model and N (the finished points of the sweep folder)."""
    runs, _ = load_runs(sweep)
    runs = runs[runs.status == "done"]
    if runs.empty or "rate_model_accuracy" not in runs:
        raise InputError(f"{sweep} holds no finished memory points")
    table = runs.melt(id_vars=["size", "count", "rate_model_agreement"], value_vars=list(MODELS.values()),
                      var_name="metric", value_name="accuracy").dropna(subset=["accuracy"])
    table["model"] = table.metric.map({metric: model for model, metric in MODELS.items()})
    return table.drop(columns="metric").sort_values(["model", "size", "count"]).reset_index(drop=True)


def capacities(table):
    """P_max at 90 % per model and N."""
    rows = []
    for (model, size), group in table.groupby(["model", "size"]):
        value, bound = capacity(group["count"], group.accuracy, LEVEL)
        rows.append({"model": model, "N": int(size), "P_max": value, "bound": bound, "P_max_per_N": value / size})
    return pd.DataFrame(rows)


def figure(table, fits):
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    colours = dict(zip(sorted(table["size"].unique()), plt.cm.viridis(np.linspace(0, 0.85, table["size"].nunique()))))
    styles = {"spiking": "-", "rate model": "--", "Hopfield": ":"}
    for (model, size), group in table.groupby(["model", "size"]):
        left.plot(group["count"], group.accuracy, styles[model], marker="o", ms=3, color=colours[size],
                  label=f"{model}, N={size}")
    left.axhline(LEVEL, color="0.5", lw=0.8)
    left.set(xscale="log", xlabel="stored patterns P", ylabel="retrieval accuracy",
             title="retrieval from 10 % flipped cues (overlap >= 0.95)")
    left.legend(fontsize=7, ncol=2)
    for model, group in fits.groupby("model"):
        measured = group[group.bound == "measured"]
        right.plot(group.N, group.P_max, styles[model], marker="o", color="k" if model == "spiking" else "0.4",
                   label=f"{model}: P_max ~ N^{group.exponent.iloc[0]:.2f}")
        right.scatter(measured.N, measured.P_max, color="k", s=12)
    sizes = np.array(sorted(table["size"].unique()))
    right.plot(sizes, 0.138 * sizes, color="tab:red", lw=0.8, label="0.138 N")
    right.set(xscale="log", yscale="log", xlabel="N", ylabel=f"P_max (accuracy {LEVEL:.0%})",
              title="capacity against size")
    right.legend(fontsize=8)
    figure.tight_layout()
    return figure


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", help="the capacity sweep's folder")
    parser.add_argument("--out", default="results/memory_capacity_fit")
    args = parser.parse_args()
    table = loads(args.sweep)
    fits = capacities(table)
    fits["exponent"] = fits.model.map({model: growth_exponent(group.N, group.P_max)[0]
                                       for model, group in fits.groupby("model")})
    reliable = table[(table.model == "rate model") & (table.accuracy >= LEVEL)].dropna(subset=["rate_model_agreement"])
    with result_folder(args.out, "analysis/memory_capacity.py", overwrite=True) as folder:
        table.to_csv(os.path.join(folder, "loads.csv"), index=False)
        fits.to_csv(os.path.join(folder, "capacity.csv"), index=False)
        save_figure(figure(table, fits), os.path.join(folder, "capacity.png"))
    print(table.pivot_table(index=["size", "count"], columns="model", values="accuracy").to_string())
    print(fits.to_string(index=False, float_format=lambda value: f"{value:.3g}"))
    if not reliable.empty:
        print(f"spiking vs rate model, at the {len(reliable)} loads where the rate model retrieves >= 90 %: "
              f"agreement >= {reliable.rate_model_agreement.min():.3f}")
    print(f"wrote {args.out}/ (loads.csv, capacity.csv, capacity.png)")


if __name__ == "__main__":
    exit_on_input_error(main)
