"""Does the astrocyte do the normalisation, whatever the score range? Accuracy and row sums with
and without it across score scales.

Simulates the default problem with the queries scaled by 0.5, 1, 2, 4 and 8 (scores of s.d. up to
8, largest 36; Z changes by 15 orders of magnitude), with the astrocyte's feedback on and blocked
(--astrocyte off). Every scale runs on the same compiled binary.

    python analysis/normalisation.py [--scales 0.5 1 2 4 8] [--target cpp_standalone] [--out results/normalisation]

Writes normalisation.csv and normalisation.png into --out and prints the table.
"""
import argparse
import os

import numpy as np
import pandas as pd

from spiking_attn.devices import TARGETS
from spiking_attn.errors import exit_on_input_error
from spiking_attn.experiment import run_experiment
from spiking_attn.figures import plt
from spiking_attn.output import result_folder
from spiking_attn.problems import random_problem


def main():
    parser = argparse.ArgumentParser(description="row sums with and without the astrocyte")
    parser.add_argument("--scales", type=float, nargs="+", default=[0.5, 1.0, 2.0, 4.0, 8.0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", choices=TARGETS, default="cpp_standalone")
    parser.add_argument("--out", default="results/normalisation")
    args = parser.parse_args()
    with result_folder(args.out, "analysis/normalisation.py", overwrite=True) as folder:
        base = random_problem(16, 16, seed=args.seed)
        rows, sums = [], {}
        for scale in args.scales:
            for astrocyte in (True, False):
                result = run_experiment(base.scaled(scale), target=args.target, astrocyte=astrocyte, seed=args.seed)
                z = result.exact.normaliser
                rows.append({"scale": scale, "astrocyte": "on" if astrocyte else "off",
                             "max_score": result.exact.scores.max(), "z_min": z.min(), "z_max": z.max(),
                             "row_sum_error_max": result.metrics["row_sum_error_max"],
                             "row_tv_mean": result.metrics["row_tv_mean"],
                             "output_rel_error": result.metrics["output_rel_error"],
                             "saturated": result.summary["saturated"],
                             "reused_build": result.summary["reused_build"]})
                sums[(scale, astrocyte)] = result.decoded.attention.sum(axis=1)
        table = pd.DataFrame(rows)
        table.to_csv(os.path.join(folder, "normalisation.csv"), index=False)
        print(table.to_string(index=False, float_format=lambda value: f"{value:.4g}"))

        figure, axes = plt.subplots(1, len(args.scales), figsize=(4 * len(args.scales), 3.5), layout="constrained",
                                    squeeze=False)
        for ax, scale in zip(axes[0], args.scales):
            tokens = np.arange(base.tokens)
            ax.semilogy(tokens, sums[(scale, True)], "o-", label="astrocyte on")
            ax.semilogy(tokens, sums[(scale, False)], "s--", label="feedback blocked")
            ax.axhline(1, color="k", lw=0.8)
            ax.set_title(f"queries x{scale:g}")
            ax.set_xlabel("query t")
            ax.set_ylabel("decoded row sum")
            ax.legend(fontsize=8)
        figure.savefig(os.path.join(folder, "normalisation.png"), dpi=120)
    print(f"wrote {args.out}/normalisation.csv and .png")


if __name__ == "__main__":
    exit_on_input_error(main)
