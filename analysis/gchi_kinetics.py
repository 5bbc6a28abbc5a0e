"""The G-ChI astrocyte with the published (whole-cell) kinetics against the head's faster default.

`--astrocyte-model gchi` multiplies every rate of the G-ChI model by time_scale = 10 (process
microdomains). This script runs a problem (by default the default problem: T=16, D=16, seed 0)
with the head's G-ChI astrocyte at time_scale 10 (kappa_g 60/s, 2.5 s settling) and at time_scale 1
(kappa_g 6/s, 25 s settling), each with a read window of the same length as its settling, and prints
the accuracy.

    python analysis/gchi_kinetics.py [--scale 1] [any option of `spiking-attn run` that shapes the problem]
"""
from spiking_attn import devices
from spiking_attn.api import script_options, script_parser, script_problem
from spiking_attn.circuits.astrocytes.gchi import GChIAstrocyte, GChIParameters
from spiking_attn.circuits.softmax_head import HeadParameters, build_softmax_head
from spiking_attn.decoding import decode
from spiking_attn.errors import exit_on_input_error
from spiking_attn.metrics import attention_metrics
from spiking_attn.reference import softmax_attention

KINETICS = {"head default (time_scale 10)": GChIParameters(),
            "published (time_scale 1)": GChIParameters(time_scale=1.0, gliotransmission_rate=6.0, settle=25.0)}


def run(problem, seed, calcium):
    """The head with G-ChI astrocytes of parameters ``calcium``, read for as long as it settles."""
    def build():
        return build_softmax_head(problem, HeadParameters(), seed=seed, duration=calcium.settle,
                                  astrocyte_model=GChIAstrocyte(calcium))

    return devices.simulate(build, progress=lambda message: None)


def main():
    parser = script_parser("the G-ChI head with published and with process kinetics")
    args = parser.parse_args()
    options = script_options(args)
    problem = script_problem(args, options)
    exact = softmax_attention(problem.q, problem.k, problem.v)
    for label, calcium in KINETICS.items():
        circuit, recording, timings = run(problem, options.seed, calcium)
        metrics = attention_metrics(exact, decode(recording))
        print(f"{label}: {circuit.duration:g} s simulated ({calcium.settle:g} s settling), "
              f"mean row TV {metrics['row_tv_mean']:.4f}, max |row sum - 1| {metrics['row_sum_error_max']:.4f}, "
              f"output rel. error {metrics['output_rel_error']:.4f}, run {timings.run_seconds:.1f} s")


if __name__ == "__main__":
    exit_on_input_error(main)
