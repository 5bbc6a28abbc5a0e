"""What assuming finite math buys the compiled head: warm run time with and without -fno-finite-math-only.

spiking_attn compiles with Brian2's flags less -fno-finite-math-only (spiking_attn/devices.py says
why that is sound). This script builds the softmax head twice, once with each flag set, in a
throw-away build cache, and times warm runs of same-shaped problems (seeds 1..N) on one core.

    python analysis/benchmark_finite_math.py [--tokens 32] [--dim 32] [--runs 5] [other options of `spiking-attn run`]

Prints one line per flag set: the median, smallest and largest warm run time and the mean row TV.
"""
import statistics
import tempfile

from spiking_attn import devices
from spiking_attn.api import run_experiment, script_options, script_parser, script_problem
from spiking_attn.errors import exit_on_input_error
from spiking_attn.option import positive_int


def warm_runs(args, cache, runs):
    """Seeds 0..runs of the problem in ``cache``: seed 0 builds, the others reuse the binary; returns
    the warm runs' times and the last result."""
    times = []
    for seed in range(runs + 1):
        options = script_options(args, seed=seed, cache_dir=cache)
        result = run_experiment(script_problem(args, options), options, progress=lambda message: None)
        if seed:
            times.append(result.summary["run_seconds"])
    return times, result


def main():
    parser = script_parser("compiled run time with and without finite-math assumptions", tokens=32, dim=32)
    parser.add_argument("--runs", type=positive_int, default=5, help="warm runs per flag set (default 5)")
    args = parser.parse_args()
    chosen = list(devices.COMPILER_FLAGS)
    fast = chosen.index("-ffast-math") + 1  # the flag must follow -ffast-math to take effect
    variants = {"finite math assumed (spiking_attn)": chosen,
                "IEEE inf/NaN kept (Brian2's default)": chosen[:fast] + ["-fno-finite-math-only"] + chosen[fast:]}
    with tempfile.TemporaryDirectory() as cache:
        for label, flags in variants.items():
            devices.COMPILER_FLAGS = flags
            times, result = warm_runs(args, cache, args.runs)
            print(f"{label}: {' '.join(flags)}\n    warm run, {result.summary['simulated_seconds']:g} s simulated: "
                  f"median {statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f}); "
                  f"mean row TV {result.metrics['row_tv_mean']:.4f}", flush=True)
    devices.COMPILER_FLAGS = chosen


if __name__ == "__main__":
    exit_on_input_error(main)
