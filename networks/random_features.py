"""Random-feature neuron-astrocyte attention (Kozachkov, Kastanenka & Krotov 2023) — methods, as a script.

Run:  python networks/random_features.py [--features 1000] [--feature-map performer] [--write plastic]
                                         [--tokens 16] [--dim 16] [--seed 0] [--target cpp_standalone]

Problem. Queries, keys and values (T x D) with q and k entries of s.d. 0.5 (scores of s.d. 0.25),
values N(0, 1). Tokens enter scaled by D^(-1/4), so the random-feature kernel approximates
exp(q . k / sqrt(D)).

Network (equations in spiking_attn/equations.py, wiring in spiking_attn/circuits/random_features.py).
1. Input: 2D LIF neurons carry the token as on/off rates of its components and one carries |x|^2 / 2;
   their drive follows the protocol (a TimedArray).
2. Features: m feature dendrites sum the inputs through weights W_i (and the norm), and integrate-and-
   fire somata turn them into rates proportional to phi_i(x) — for performer features
   exp(W_i x - |x|^2/2) / sqrt(m) — the exponential coming from the neuron model. Signed maps use an
   on and an off neuron per feature.
3. Writing (one key per 400 ms slot; plasticity on in its last 300 ms): a teacher drives the readout
   neurons to the value v_j and the one-hot attention readout j; a spike-based Hebbian rule (pre and
   post traces, 20 ms) on the feature -> readout synapses accumulates H = sum_j v_j phi(k_j)^T, and each
   feature neuron's astrocyte process counts its spikes: p = sum_j phi(k_j).
4. Reading (one query per 800 ms slot; counting in its last 400 ms): the astrocyte integrates the
   glutamate released by the features, each release weighted by its process p_i, and settles at a_t = p . phi(q_t)
   (tau_a = 100 ms); gliotransmission scales every feature -> readout synapse by 1 / a_t, so the
   readouts carry y_t = H phi(q_t) / a_t and, for the one-hot values, the attention row.
5. --write direct loads H and p from the rate model instead of simulating the writing phase.

Decoding. Readout spike counts in each query's window divided by fixed gains; the astrocyte response
is its mean over the window. Everything is compared with the rate model (same W, b, m) and with
exact softmax attention.
"""
import argparse

from spiking_attn.circuits.random_features import WRITE_MODES
from spiking_attn.devices import TARGETS
from spiking_attn.errors import exit_on_input_error
from spiking_attn.experiment import run_experiment
from spiking_attn.features import FEATURE_MAPS
from spiking_attn.figures import check_figure_path, feature_figure, save_figure
from spiking_attn.metrics import metrics_table
from spiking_attn.problems import random_problem


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=1000)
    parser.add_argument("--feature-map", choices=FEATURE_MAPS, default="performer")
    parser.add_argument("--write", choices=WRITE_MODES, default="plastic")
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--dim", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", choices=TARGETS, default="cpp_standalone")
    parser.add_argument("--figure", default="random_features.png")
    args = parser.parse_args()
    check_figure_path(args.figure)

    problem = random_problem(args.tokens, args.dim, seed=args.seed, score_sd=0.25)
    result = run_experiment(problem, network="random-features", features=args.features,
                            feature_map=args.feature_map, write=args.write, target=args.target, seed=args.seed)
    print(metrics_table(result.metrics).to_string(index=False))
    save_figure(feature_figure(result), args.figure)
    s = result.summary
    print(f"figure: {args.figure}; simulated {s['simulated_seconds']:g} s; "
          f"build {s['build_seconds']:.1f} s, run {s['run_seconds']:.1f} s")


if __name__ == "__main__":
    exit_on_input_error(main)
