"""Speed and size of the softmax head across T, and Brian2's targets side by side.

For each T (D as given): a cold cpp_standalone run (empty build cache), a warm one (same shape,
new inputs: the compiled binary is reused), and, up to --runtime-max-tokens, the numpy and cython
runtime targets on the same network and simulated time. Every run is a fresh `spiking-attn run`
process, timed from outside; peak memory is the largest resident set of its process tree (Python,
compiler and binary), from GNU time's %M.

    python analysis/benchmark_targets.py [--tokens 8 16 32 64 128] [--dim 32] [--runtime-max-tokens 32]
                                         [--out results/benchmark_targets]

Writes benchmark_targets.csv and benchmark_targets.png into --out and prints the table.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import pandas as pd

from spiking_attn.errors import exit_on_input_error
from spiking_attn.figures import plt
from spiking_attn.output import result_folder


def timed_run(args, out):
    """Run the CLI in a child process; return its summary, wall seconds and peak memory (MB)."""
    start = time.perf_counter()
    process = subprocess.run(["/usr/bin/time", "-f", "peak-kb %M", sys.executable, "-m", "spiking_attn.cli", "run",
                              *args, "--out", out], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(f"spiking-attn run {' '.join(args)} failed:\n{process.stderr}")
    with open(os.path.join(out, "summary.json")) as handle:
        summary = json.load(handle)
    peak_kb = [line for line in process.stderr.splitlines() if line.startswith("peak-kb")][-1].split()[1]
    return summary, wall, int(peak_kb) / 1024


def main():
    parser = argparse.ArgumentParser(description="softmax head: standalone vs runtime targets across T")
    parser.add_argument("--tokens", type=int, nargs="+", default=[8, 16, 32, 64, 128])
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--runtime-max-tokens", type=int, default=32)
    parser.add_argument("--out", default="results/benchmark_targets")
    args = parser.parse_args()
    with result_folder(args.out, "analysis/benchmark_targets.py", overwrite=True) as folder, \
            tempfile.TemporaryDirectory(prefix="benchmark_") as work:  # runs and their build cache
        cache = os.path.join(work, "cache")

        rows = []
        for tokens in args.tokens:
            shape = ["--tokens", str(tokens), "--dim", str(args.dim), "--cache-dir", cache]
            runs = [("cpp_standalone cold", ["--seed", "0"]), ("cpp_standalone warm", ["--seed", "1"])]
            if tokens <= args.runtime_max_tokens:
                runs += [("numpy", ["--seed", "1", "--target", "numpy"]),
                         ("cython", ["--seed", "1", "--target", "cython"])]
            for label, extra in runs:
                out = os.path.join(work, f"T{tokens}-{label.replace(' ', '-')}")
                summary, wall, peak = timed_run(shape + extra, out)
                rows.append({
                    "tokens": tokens, "dim": args.dim, "run": label, "neurons": sum(summary["neurons"].values()),
                    "synapses": sum(summary["synapses"].values()), "spikes": sum(summary["spikes"].values()),
                    "reused_build": summary["reused_build"], "build_seconds": summary["build_seconds"],
                    "run_seconds": summary["run_seconds"], "wall_seconds": wall,
                    "run_seconds_per_simulated_second": summary["run_seconds"] / summary["simulated_seconds"],
                    "real_time_factor": summary["simulated_seconds"] / summary["run_seconds"],
                    "peak_memory_mb": peak, "row_tv_mean": summary["row_tv_mean"],
                })
                print(f"T={tokens} {label}: wall {wall:.1f} s, build {summary['build_seconds']:.1f} s, "
                      f"run {summary['run_seconds']:.2f} s, row TV {summary['row_tv_mean']:.4f}", flush=True)
                pd.DataFrame(rows).to_csv(os.path.join(folder, "benchmark_targets.csv"), index=False)
        table = pd.DataFrame(rows)
        print(table.to_string(index=False, float_format=lambda value: f"{value:.4g}"))
        warm = table[table.run == "cpp_standalone warm"].set_index("tokens")
        for runtime in ("numpy", "cython"):
            other = table[table.run == runtime].set_index("tokens")
            for tokens in other.index:
                print(f"T={tokens}: {runtime} run / warm cpp_standalone run = "
                      f"{other.run_seconds[tokens] / warm.run_seconds[tokens]:.1f}x")

        figure, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
        for label, group in table.groupby("run"):
            ax.loglog(group.tokens, group.run_seconds_per_simulated_second, "o-", label=label)
        ax.set_xlabel("tokens T")
        ax.set_ylabel("run seconds per simulated second")
        ax.set_title(f"softmax head, D={args.dim}, one core")
        ax.legend(fontsize=8)
        figure.savefig(os.path.join(folder, "benchmark_targets.png"), dpi=120)
    print(f"wrote {args.out}/benchmark_targets.csv and .png")


if __name__ == "__main__":
    exit_on_input_error(main)
