"""Long contexts: accuracy, size, memory and speed of the softmax head from T = 2 to T = 256.

Each context length runs in a fresh process (cpp_standalone, one thread) on the seeded random
problem (scores of s.d. 1) at D = Dv = 64, 2 s simulated (0.5 s settling + 1.5 s read), so its
peak memory can be measured: the Python process that builds the network and the compiled binary.

    python analysis/long_context.py [--lengths 2 4 8 16 32 64 128 256] [--dim 64] [--out results/long_context]
                                    [any other option of `spiking-attn run`]

Writes long_context.csv and long_context.png into --out and prints the table.
"""
import multiprocessing
import os
import resource
from concurrent.futures import ProcessPoolExecutor

import pandas as pd

from spiking_attn.api import script_options, script_parser
from spiking_attn.errors import exit_on_input_error
from spiking_attn.figures import plt
from spiking_attn.output import result_folder


def measure(args, tokens):
    """Run one context length; returns its row of the table (in a fresh process)."""
    from spiking_attn.api import run_experiment, script_problem

    args.tokens = tokens
    options = script_options(args)
    result = run_experiment(script_problem(args, options), options, progress=lambda line: None)
    s = result.summary
    return {
        "tokens": tokens,
        "row_tv_mean": s["row_tv_mean"],
        "row_tv_max": s["row_tv_max"],
        "row_sum_error_max": s["row_sum_error_max"],
        "output_rel_error": s["output_rel_error"],
        "neurons": sum(s["neurons"].values()) + tokens,  # recorded populations and the T astrocytes
        "synapses": sum(s["synapses"].values()),
        "python_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "binary_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "build_seconds": s["build_seconds"],
        "run_seconds_per_simulated_second": s["run_seconds"] / s["simulated_seconds"],
        "synaptic_events_per_second_per_core": s["synaptic_events_per_second_per_core"],
        "saturated": s["saturated"],
    }


def main():
    parser = script_parser("accuracy, memory and time against the context length", dim=64)
    parser.add_argument("--lengths", type=int, nargs="+", default=[2, 4, 8, 16, 32, 64, 128, 256],
                        help="context lengths T (default 2 to 256)")
    parser.add_argument("--out", default="results/long_context")
    args = parser.parse_args()
    script_options(args)  # every option checked before the first length runs
    rows = []
    with result_folder(args.out, "analysis/long_context.py", overwrite=True) as folder:
        for tokens in args.lengths:
            with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
                rows.append(pool.submit(measure, args, tokens).result())
            print(f"T={tokens}: mean row TV {rows[-1]['row_tv_mean']:.4f}, "
                  f"{rows[-1]['run_seconds_per_simulated_second']:.1f} s per simulated s", flush=True)
        table = pd.DataFrame(rows)
        table.to_csv(os.path.join(folder, "long_context.csv"), index=False)
        figure, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
        axes[0].semilogx(table.tokens, table.row_tv_mean, "o-", base=2, label="mean")
        axes[0].semilogx(table.tokens, table.row_tv_max, "s--", base=2, label="largest row")
        axes[0].axhline(0.005, color="k", lw=0.8, ls=":")
        axes[0].set_xlabel("context length T")
        axes[0].set_ylabel("row TV (spikes vs exact)")
        axes[0].legend()
        axes[1].loglog(table.tokens, table.run_seconds_per_simulated_second, "o-", base=2)
        axes[1].set_xlabel("context length T")
        axes[1].set_ylabel("run seconds per simulated second")
        figure.suptitle(f"softmax head, D = {args.dim}, 2 s simulated, {args.target or 'cpp_standalone'}")
        figure.savefig(os.path.join(folder, "long_context.png"), dpi=120)
    print(table.to_string(index=False, float_format=lambda value: f"{value:.4g}"))
    print(f"wrote {args.out}/long_context.csv and .png")


if __name__ == "__main__":
    exit_on_input_error(main)
