"""What assuming finite math buys the compiled head: warm run time with and without -fno-finite-math-only.

spiking_attn compiles with Brian2's flags less -fno-finite-math-only (spiking_attn/devices.py says
why that is sound). This script builds the softmax head twice, once with each flag set, in a
throw-away build cache, and times warm runs of same-shaped problems (seeds 1..N) on one core.

    python analysis/benchmark_finite_math.py [--tokens 32] [--dim 32] [--runs 5]

Prints one line per flag set: the median, smallest and largest warm run time and the mean row TV.
"""
import argparse
import statistics
import tempfile

from spiking_attn import devices
from spiking_attn.errors import exit_on_input_error
from spiking_attn.experiment import run_experiment
from spiking_attn.problems import random_problem


def main():
    parser = argparse.ArgumentParser(description="compiled run time with and without finite-math assumptions")
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    chosen = list(devices.COMPILER_FLAGS)
    fast = chosen.index("-ffast-math") + 1  # the flag must follow -ffast-math to take effect
    variants = {"finite math assumed (spiking_attn)": chosen,
                "IEEE inf/NaN kept (Brian2's default)": chosen[:fast] + ["-fno-finite-math-only"] + chosen[fast:]}
    with tempfile.TemporaryDirectory() as cache:
        for label, flags in variants.items():
            devices.COMPILER_FLAGS = flags
            times = []
            for seed in range(args.runs + 1):  # seed 0 builds, the others reuse the binary
                result = run_experiment(random_problem(args.tokens, args.dim, seed=seed), seed=seed, cache_dir=cache,
                                        progress=lambda message: None)
                if seed:
                    times.append(result.summary["run_seconds"])
            print(f"{label}: {' '.join(flags)}\n    warm run, {result.summary['simulated_seconds']:g} s simulated: "
                  f"median {statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f}); "
                  f"mean row TV {result.metrics['row_tv_mean']:.4f}", flush=True)
    devices.COMPILER_FLAGS = chosen


if __name__ == "__main__":
    exit_on_input_error(main)
