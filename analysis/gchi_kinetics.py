"""The G-ChI astrocyte with the published (whole-cell) kinetics against the head's faster default.

`--astrocyte-model gchi` multiplies every rate of the G-ChI model by time_scale = 10 (process
microdomains). This script runs the default problem (T=16, D=16, seed 0) with the head's G-ChI
astrocyte at time_scale 10 (kappa_g 60/s, 2.5 s settling) and at time_scale 1 (kappa_g 6/s, 25 s
settling), each with a read window of the same length as its settling, and prints the accuracy.

    python analysis/gchi_kinetics.py [--scale 1]
"""
import argparse

from spiking_attn import devices
from spiking_attn.calcium import GChIParameters
from spiking_attn.circuits import HeadParameters, build_softmax_head
from spiking_attn.decoding import decode
from spiking_attn.metrics import attention_metrics
from spiking_attn.problems import random_problem
from spiking_attn.reference import softmax_attention

KINETICS = {"head default (time_scale 10)": GChIParameters(),
            "published (time_scale 1)": GChIParameters(time_scale=1.0, gliotransmission_rate=6.0, settle=25.0)}


def main():
    parser = argparse.ArgumentParser(description="the G-ChI head with published and with process kinetics")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the queries (default 1)")
    args = parser.parse_args()
    problem = random_problem(16, 16, seed=0).scaled(args.scale)
    exact = softmax_attention(problem.q, problem.k, problem.v)
    for label, calcium in KINETICS.items():
        def build():
            return build_softmax_head(problem, HeadParameters(), seed=0, duration=calcium.settle,
                                      astrocyte_model="gchi", calcium=calcium)

        circuit, recording, timings = devices.simulate(build, progress=lambda message: None)
        metrics = attention_metrics(exact, decode(recording))
        print(f"{label}: {circuit.duration:g} s simulated ({calcium.settle:g} s settling), "
              f"mean row TV {metrics['row_tv_mean']:.4f}, max |row sum - 1| {metrics['row_sum_error_max']:.4f}, "
              f"output rel. error {metrics['output_rel_error']:.4f}, run {timings.run_seconds:.1f} s")


if __name__ == "__main__":
    main()
