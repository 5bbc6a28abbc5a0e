"""The softmax head's accuracy-cost frontier: mean row TV against synaptic events per attention entry.

Reads the sweep folders of analysis/frontier.toml (T = 16) and analysis/frontier_t64.toml (T = 64), averages
each setting over its seeds, and finds per problem size the cheapest setting whose mean row TV is at most
--target (0.005), against the default setting. Writes frontier.png and frontier.csv into --out.

    spiking-attn sweep analysis/frontier.toml --out results/frontier --workers 2
    spiking-attn sweep analysis/frontier_t64.toml --out results/frontier_t64 --workers 2
    python analysis/frontier.py results/frontier results/frontier_t64 --out results/frontier_report

Orientation only: SpikedAttention (NeurIPS 2024) reports 0.42 of the ANN's energy for a whole MA-BERT with data
movement; at 0.9 pJ per event against 4.6 pJ per MAC and D + Dv MACs per entry, that would be
0.42 * (D + Dv) * 4.6 / 0.9 events per entry. The conventions differ (theirs counts memory access, ours does not).
"""
import argparse
import os

import matplotlib
import pandas as pd

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SETTINGS = ["read_seconds", "settle_seconds", "parameters.n_score", "parameters.input_rate",
            "parameters.attention_rate_min", "parameters.attention_rate_per_key", "parameters.dt"]
DEFAULT = {"read_seconds": 1.5, "settle_seconds": 0.5, "parameters.n_score": 4, "parameters.input_rate": 1000.0,
           "parameters.attention_rate_min": 1000.0, "parameters.attention_rate_per_key": 60.0, "parameters.dt": 1e-4}
SPIKED_ATTENTION_RATIO = 79.9 / 189.7  # their converted MA-BERT's energy over the ANN's (SST-2)


def settings_table(folder):
    """One row per setting of a sweep folder: mean and largest row TV over its seeds, events per entry, run
    seconds."""
    runs = pd.read_parquet(os.path.join(folder, "runs.parquet"))
    runs = runs[runs.status == "done"].copy()
    entries = runs.heads * runs.tokens * runs.key_tokens
    runs["events_per_entry"] = runs["energy.synaptic_events.total"] / entries
    table = runs.groupby(SETTINGS).agg(tv_mean=("row_tv_mean", "mean"), tv_max=("row_tv_mean", "max"),
                                       events_per_entry=("events_per_entry", "mean"),
                                       run_seconds=("run_seconds", "mean"), seeds=("seed", "size"),
                                       tokens=("tokens", "first"), dim=("dim", "first"),
                                       value_dim=("value_dim", "first")).reset_index()
    return table


def pareto(table):
    """The settings no other setting beats in both events and mean TV, by events."""
    ordered = table.sort_values(["events_per_entry", "tv_mean"])
    return ordered[ordered.tv_mean.cummin() == ordered.tv_mean]


def best_under(table, target):
    """The default setting and the cheapest one whose mean TV is at most ``target``."""
    default = table.loc[(table[list(DEFAULT)] == pd.Series(DEFAULT)).all(axis=1)]
    reaching = table[table.tv_mean <= target].sort_values("events_per_entry")
    return (default.iloc[0] if len(default) else None), (reaching.iloc[0] if len(reaching) else None)


def plot(tables, target, path):
    figure, axes = plt.subplots(1, len(tables), figsize=(6.5 * len(tables), 5), squeeze=False)
    for ax, (name, table) in zip(axes[0], tables.items()):
        ax.scatter(table.events_per_entry, table.tv_mean, s=10, c="0.6", label="settings (mean over seeds)")
        front = pareto(table)
        ax.plot(front.events_per_entry, front.tv_mean, "o-", color="tab:blue", ms=4, label="frontier")
        default, best = best_under(table, target)
        if default is not None:
            ax.plot(default.events_per_entry, default.tv_mean, "s", color="tab:red", ms=9, label="today's default")
        if best is not None:
            ax.plot(best.events_per_entry, best.tv_mean, "*", color="tab:green", ms=14,
                    label=f"fewest events with TV ≤ {target:g}")
        ax.axhline(target, color="0.3", lw=0.8, ls="--")
        orientation = SPIKED_ATTENTION_RATIO * (table.dim.iloc[0] + table.value_dim.iloc[0]) * 4.6 / 0.9
        ax.axvline(orientation, color="tab:purple", lw=0.8, ls=":",
                   label="SpikedAttention's energy ratio (orientation;\nwhole model, memory access counted)")
        ax.set(xscale="log", yscale="log", xlabel="synaptic events per attention entry (settling + read)",
               ylabel="mean row TV", title=f"{name}: T = {table.tokens.iloc[0]}")
        ax.legend(fontsize=7)
    figure.savefig(path, dpi=120, bbox_inches="tight")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", help="sweep folders of the frontier configs")
    parser.add_argument("--out", default="results/frontier_report")
    parser.add_argument("--target", type=float, default=0.005, help="mean row TV to reach (default 0.005)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    tables = {os.path.basename(os.path.normpath(folder)): settings_table(folder) for folder in args.folders}
    pd.concat([table.assign(sweep=name) for name, table in tables.items()]).to_csv(
        os.path.join(args.out, "frontier.csv"), index=False)
    plot(tables, args.target, os.path.join(args.out, "frontier.png"))
    for name, table in tables.items():
        default, best = best_under(table, args.target)
        print(f"{name} (T={table.tokens.iloc[0]}): {len(table)} settings")
        for label, row in (("default", default), (f"fewest events with TV <= {args.target:g}", best)):
            if row is None:
                print(f"  {label}: none in the sweep")
                continue
            setting = ", ".join(f"{column.split('.')[-1]}={row[column]:g}" for column in SETTINGS)
            print(f"  {label}: {setting}: mean TV {row.tv_mean:.4f} (largest seed {row.tv_max:.4f}), "
                  f"{row.events_per_entry:,.0f} events per entry, run {row.run_seconds:.2f} s")
        if default is not None and best is not None:
            print(f"  events fall by {default.events_per_entry / best.events_per_entry:.2f}x")
    print(f"wrote {args.out}/frontier.png and frontier.csv")


if __name__ == "__main__":
    main()
