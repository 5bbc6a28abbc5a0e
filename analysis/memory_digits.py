"""The associative memory on the handwritten digits, from the digits sweep (analysis/memory_digits.toml): a table
and a figure of the retrieval accuracy of the spiking memory, its rate model and the Hopfield network against
the number of stored digits and the fraction of flipped pixels.

    spiking-attn sweep analysis/memory_digits.toml --out results/memory_digits
    python analysis/memory_digits.py results/memory_digits [--out results/memory_digits_table]

Writes digits.csv, digits.md (the table) and digits.png into --out and prints the table. The column
near_duplicates counts the pairs of stored images whose overlap is >= 0.95: a cue of one of them may end in the
other, which retrieves its own pattern by the overlap criterion but not the same pattern as the other model.
"""
import argparse
import os

import numpy as np

from spiking_attn.associative_memory import RETRIEVED, overlaps
from spiking_attn.errors import InputError, exit_on_input_error
from spiking_attn.figures import plt, save_figure
from spiking_attn.output import result_folder
from spiking_attn.report import load_runs, markdown_table

MODELS = {"spiking": "retrieval_accuracy", "rate model": "rate_model_accuracy", "Hopfield": "hopfield_accuracy"}


def near_duplicates(folder):
    """Pairs of stored patterns of a point whose overlap is >= 0.95."""
    patterns = np.load(os.path.join(folder, "memory.npz"))["patterns"]
    m = overlaps(patterns, patterns)
    return int((np.triu(m, 1) >= RETRIEVED).sum())


def table(sweep):
    runs, _ = load_runs(sweep)
    runs = runs[runs.status == "done"]
    if runs.empty or "retrieval_accuracy" not in runs:
        raise InputError(f"{sweep} holds no finished memory points")
    rows = runs[["count", "cue_noise", *MODELS.values(), "rate_model_agreement"]].copy()
    rows["near_duplicates"] = [near_duplicates(os.path.join(sweep, folder)) for folder in runs.folder]
    return rows.rename(columns={"count": "P", **{metric: model for model, metric in MODELS.items()}}).sort_values(
        ["P", "cue_noise"]).reset_index(drop=True)


def figure(rows):
    figure, ax = plt.subplots(figsize=(9, 4))
    labels = [f"P={p}\n{noise:.0%}" for p, noise in zip(rows.P, rows.cue_noise)]
    x = np.arange(len(rows))
    for offset, (model, colour) in zip((-0.27, 0, 0.27), zip(MODELS, ("k", "0.55", "tab:red"))):
        ax.bar(x + offset, rows[model], width=0.26, color=colour, label=model)
    ax.set_xticks(x, labels, fontsize=8)
    ax.set(ylim=(0, 1.05), ylabel="retrieval accuracy (overlap >= 0.95)",
           title="8 x 8 digits: P stored, a fraction of pixels flipped in each cue")
    ax.legend(fontsize=8, loc="lower left")
    figure.tight_layout()
    return figure


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", help="the digits sweep's folder")
    parser.add_argument("--out", default="results/memory_digits_table")
    args = parser.parse_args()
    rows = table(args.sweep)
    markdown = markdown_table(rows, digits=3)
    with result_folder(args.out, "analysis/memory_digits.py", overwrite=True) as folder:
        rows.to_csv(os.path.join(folder, "digits.csv"), index=False)
        with open(os.path.join(folder, "digits.md"), "w") as stream:
            stream.write(markdown + "\n")
        save_figure(figure(rows), os.path.join(folder, "digits.png"))
    print(markdown)
    print(f"wrote {args.out}/ (digits.csv, digits.md, digits.png)")


if __name__ == "__main__":
    exit_on_input_error(main)
