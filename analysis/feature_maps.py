"""Every feature map of the random-feature network against exact softmax: rate model and spikes.

For each map (performer, cosine, linear, truncated-performer, rectified-cosine, clipped-sine) on the
default random-feature problem (T=16, D=16, q and k entries of s.d. 0.5), m features:
- the paper's rate model with the signed map phi,
- the rate model with on/off pair features (what a local Hebbian circuit realises),
- the spiking network (writing simulated),
each as mean row TV of the attention and relative output error against exact softmax.

    python analysis/feature_maps.py [--features 1000] [--write plastic] [--target cpp_standalone] [--out results/feature_maps]

Writes feature_maps.csv into --out and prints the table.
"""
import argparse
import os

import numpy as np
import pandas as pd

from spiking_attn.circuits.random_features import WRITE_MODES
from spiking_attn.devices import TARGETS
from spiking_attn.errors import exit_on_input_error
from spiking_attn.experiment import run_experiment
from spiking_attn.features import FEATURE_MAPS, random_feature_attention, random_feature_map
from spiking_attn.output import result_folder
from spiking_attn.problems import random_problem


def row_tv(a, b):
    return 0.5 * np.abs(a - b).sum(axis=1).mean()


def relative(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def main():
    parser = argparse.ArgumentParser(description="each feature map against exact softmax")
    parser.add_argument("--features", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--maps", nargs="+", choices=FEATURE_MAPS, default=list(FEATURE_MAPS))
    parser.add_argument("--write", choices=WRITE_MODES, default="plastic")
    parser.add_argument("--target", choices=TARGETS, default="cpp_standalone")
    parser.add_argument("--out", default="results/feature_maps")
    args = parser.parse_args()
    with result_folder(args.out, "analysis/feature_maps.py", overwrite=True) as folder:
        problem = random_problem(16, 16, seed=args.seed, score_sd=0.25)
        rows = []
        for name in args.maps:
            phi = random_feature_map(name, args.features, problem.dim, seed=args.seed)
            signed = random_feature_attention(problem.q, problem.k, problem.v, phi)
            result = run_experiment(problem, network="random-features", features=args.features, feature_map=name,
                                    write=args.write, target=args.target, seed=args.seed)
            exact, m = result.exact, result.metrics
            rows.append({
                "feature_map": name,
                "rate_model_tv": row_tv(signed.attention, exact.attention),
                "rate_model_output_error": relative(signed.output, exact.output),
                "pair_rate_model_tv": m["rate_model_tv"],
                "spiking_tv": m["row_tv_mean"],
                "spiking_output_error": m["output_rel_error"],
                "spiking_vs_pair_model_output_error": m["rate_model_output_rel_error"],
                "astrocyte_pair_model_corr": m["astrocyte_rate_model_corr"],
                "saturated": result.summary["saturated"],
                "run_seconds": result.summary["run_seconds"],
            })
            pd.DataFrame(rows).to_csv(os.path.join(folder, "feature_maps.csv"), index=False)
        table = pd.DataFrame(rows)
        print(table.to_string(index=False, float_format=lambda value: f"{value:.4g}"))
    print(f"wrote {args.out}/feature_maps.csv")


if __name__ == "__main__":
    exit_on_input_error(main)
