"""How the random-feature construction scales with the number of features m.

1. Rate model: mean relative error of the astrocyte response a_t against exact Z_t for performer
   features, m = 1e2, 1e3, 1e4 (five seeds; T=16, D=16, q and k entries of s.d. 0.5), and the fitted
   log-log slope (the paper's construction predicts -1/2).
2. Spiking network (optional, --spiking M ...): wall time, peak memory and accuracy at each m.

    python analysis/features_scaling.py [--spiking 1000 10000] [--target cpp_standalone] [--out results/features_scaling]

Writes rate_model.csv (and spiking.csv) and features_scaling.png into --out.
"""
import argparse
import os
import resource
import time

import numpy as np
import pandas as pd

from spiking_attn.devices import TARGETS
from spiking_attn.errors import exit_on_input_error
from spiking_attn.experiment import run_experiment
from spiking_attn.features import random_feature_attention, random_feature_map
from spiking_attn.figures import plt
from spiking_attn.output import result_folder
from spiking_attn.problems import random_problem
from spiking_attn.reference import softmax_attention


def peak_memory_mb():
    """Peak resident memory of this process and of its largest child (compiler or binary), in MB."""
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return self_kb / 1024, children_kb / 1024


def main():
    parser = argparse.ArgumentParser(description="random-feature error and cost against m")
    parser.add_argument("--ms", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--spiking", type=int, nargs="*", default=[], metavar="M")
    parser.add_argument("--target", choices=TARGETS, default="cpp_standalone")
    parser.add_argument("--out", default="results/features_scaling")
    args = parser.parse_args()
    with result_folder(args.out, "analysis/features_scaling.py", overwrite=True) as folder:
        rows = []
        for m in args.ms:
            for seed in range(args.seeds):
                problem = random_problem(16, 16, seed=seed, score_sd=0.25)
                exact = softmax_attention(problem.q, problem.k, problem.v)
                model = random_feature_attention(problem.q, problem.k, problem.v,
                                                 random_feature_map("performer", m, 16, seed=100 + seed))
                rows.append({"m": m, "seed": seed,
                             "z_rel_error": np.mean(np.abs(model.astrocyte / exact.normaliser - 1)),
                             "attention_tv": 0.5 * np.abs(model.attention - exact.attention).sum(axis=1).mean()})
        table = pd.DataFrame(rows)
        table.to_csv(os.path.join(folder, "rate_model.csv"), index=False)
        mean = table.groupby("m")[["z_rel_error", "attention_tv"]].mean()
        slope = np.polyfit(np.log(mean.index), np.log(mean.z_rel_error), 1)[0]
        print(mean.to_string(float_format=lambda value: f"{value:.4f}"))
        print(f"rate model: log-log slope of the Z error against m = {slope:.2f} (predicted -0.5)")

        figure, ax = plt.subplots(figsize=(5, 4), layout="constrained")
        ax.loglog(mean.index, mean.z_rel_error, "o-", label=f"rate model (slope {slope:.2f})")
        ax.loglog(mean.index, mean.z_rel_error.iloc[0] * (mean.index / mean.index[0]) ** -0.5, "k--", lw=0.8,
                  label="m^-1/2")

        spiking = []
        for m in args.spiking:
            problem = random_problem(16, 16, seed=0, score_sd=0.25)
            start = time.perf_counter()
            result = run_experiment(problem, network="random-features", features=m, target=args.target)
            wall = time.perf_counter() - start
            self_mb, child_mb = peak_memory_mb()
            s = result.summary
            spiking.append({"m": m, "wall_seconds": wall, "build_seconds": s["build_seconds"],
                            "run_seconds": s["run_seconds"], "simulated_seconds": s["simulated_seconds"],
                            "peak_python_mb": self_mb, "peak_child_mb": child_mb,
                            "z_rel_error": s["z_rel_error"],
                            "astrocyte_rate_model_corr": s["astrocyte_rate_model_corr"],
                            "rate_model_output_rel_error": s["rate_model_output_rel_error"]})
            pd.DataFrame(spiking).to_csv(os.path.join(folder, "spiking.csv"), index=False)
        if spiking:
            spiking = pd.DataFrame(spiking)
            print(spiking.to_string(index=False, float_format=lambda value: f"{value:.4g}"))
            ax.loglog(spiking.m, spiking.z_rel_error, "x", ms=9, mew=2, label="spiking network (seed 0)")
        ax.set_xlabel("features m")
        ax.set_ylabel("mean |a_t / Z_t - 1|")
        ax.set_title("performer, T=16, D=16, q, k s.d. 0.5")
        ax.legend(fontsize=8)
        figure.savefig(os.path.join(folder, "features_scaling.png"), dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    exit_on_input_error(main)
