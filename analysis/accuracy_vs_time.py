"""Accuracy against simulated time: mean row TV of the decoded attention vs the read window.

Simulates the default problem (T=16, D=16) for several seeds with a 4 s read window, decodes the
first 0.25, 0.5, 1, 2 and 4 s of it, and fits the log-log slope of the mean row TV against the
window (regular-spiking counting gives about -1, Poisson counting -0.5).

    python analysis/accuracy_vs_time.py [--seeds 0 1 2] [--target cpp_standalone] [--out results/accuracy_vs_time]

Writes accuracy_vs_time.csv and accuracy_vs_time.png into --out and prints the table and slopes.
"""
import argparse
import os

import numpy as np
import pandas as pd

from spiking_attn.decoding import decode
from spiking_attn.devices import TARGETS
from spiking_attn.errors import exit_on_input_error
from spiking_attn.experiment import run_experiment
from spiking_attn.figures import plt
from spiking_attn.metrics import attention_metrics
from spiking_attn.output import result_folder
from spiking_attn.problems import random_problem

WINDOWS = (0.25, 0.5, 1.0, 2.0, 4.0)


def main():
    parser = argparse.ArgumentParser(description="mean row TV against the read window")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--dim", type=int, default=16)
    parser.add_argument("--target", choices=TARGETS, default="cpp_standalone")
    parser.add_argument("--out", default="results/accuracy_vs_time")
    args = parser.parse_args()
    with result_folder(args.out, "analysis/accuracy_vs_time.py", overwrite=True) as folder:
        rows = []
        for seed in args.seeds:
            result = run_experiment(random_problem(args.tokens, args.dim, seed=seed), duration=max(WINDOWS),
                                    target=args.target, seed=seed)
            for window in WINDOWS:
                metrics = attention_metrics(result.exact, decode(result.recording, window))
                rows.append({"seed": seed, "window_s": window, **metrics})
        table = pd.DataFrame(rows)
        table.to_csv(os.path.join(folder, "accuracy_vs_time.csv"), index=False)
        columns = ["seed", "window_s", "row_tv_mean", "row_sum_error_max", "output_rel_error"]
        print(table[columns].to_string(index=False))

        figure, ax = plt.subplots(figsize=(5, 4), layout="constrained")
        for seed, group in table.groupby("seed"):
            slope = np.polyfit(np.log(group.window_s), np.log(group.row_tv_mean), 1)[0]
            print(f"seed {seed}: log-log slope of mean row TV vs window = {slope:.2f}")
            ax.loglog(group.window_s, group.row_tv_mean, "o-", label=f"seed {seed} (slope {slope:.2f})")
        mean = table.groupby("window_s").row_tv_mean.mean()
        slope = np.polyfit(np.log(mean.index), np.log(mean.values), 1)[0]
        print(f"mean over seeds: slope {slope:.2f}")
        reference = mean.iloc[0] * (mean.index / mean.index[0]) ** -1.0
        ax.loglog(mean.index, reference, "k--", lw=0.8, label="slope -1 (regular counting)")
        ax.set_xticks(WINDOWS, [f"{window:g}" for window in WINDOWS])
        ax.minorticks_off()
        ax.set_xlabel("read window (s)")
        ax.set_ylabel("mean row TV distance")
        ax.set_title(f"T={args.tokens}, D={args.dim}, {args.target}")
        ax.legend(fontsize=8)
        figure.savefig(os.path.join(folder, "accuracy_vs_time.png"), dpi=120)
    print(f"wrote {args.out}/accuracy_vs_time.csv and .png")


if __name__ == "__main__":
    exit_on_input_error(main)
