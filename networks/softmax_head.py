"""Spiking softmax attention with astrocyte normalisation — methods, as a script.

Run:  python networks/softmax_head.py [--tokens 16] [--dim 16] [--seed 0] [--target cpp_standalone]
                                       [--astrocyte-model integral|gchi]

Problem. Queries, keys and values (T x D, T x D, T x Dv) with N(0, 1) entries, so the scores
s_tj = q_t . k_j / sqrt(D) have a standard deviation of about 1.

Network (equations in spiking_attn/equations.py, wiring in spiking_attn/circuits/softmax_head.py).
Every query row t is read in parallel by its own copy of the circuit:
1. Input: each query component q_ti drives an on/off pair of LIF neurons firing regularly at
   g_in * max(+-q_ti, 0) (g_in = 1000 Hz / max|q|).
2. Keys: input spikes reach the passive dendrite of each (query, key) pair through synapses of
   weight +-k_ji, so the dendritic potential settles at delta_u * s_tj (tau_d = 40 ms).
3. Scores: an exponential dendritic current exp(u / delta_u - c_t) drives 4 integrate-and-fire somata
   per pair; each fires at r_score * exp(s_tj - c_t) (r_score = 40 Hz), desynchronised by random
   initial phases.
4. Astrocyte: one per query row ensheathes the T x 4 tripartite synapses from the row's score
   neurons to its attention neurons. Each release there raises its depression c_t by a quantum
   kappa / R_set, and c_t recovers at kappa = 50 / s; c_t shunts every dendrite of the row. This
   integral feedback holds the row's releases at the set point R_set = 160 Hz per key whatever the
   scores are, so exp(c_t) = Z_t / T and every score neuron fires at R_set * A_tj / 4.
   With --astrocyte-model gchi the astrocyte is the G-ChI calcium model instead (receptors, IP3,
   Ca2+ and the IP3 receptors' gate; rates 10 times the published whole-cell ones): each release adds
   glutamate, cleared at 40 / s, whose mean is 10 uM at the set point; its Ca2+ rises monotonically
   with the glutamate, without oscillating, and gliotransmission raises c_t at
   kappa_g (Ca - Ca_set) / Ca_set (kappa_g = 60 / s), which holds the same set point.
5. Attention: each release moves attention neuron (t, j) by R_att / R_set thresholds, so it fires at
   R_att * A_tj (R_att = 1000 Hz for T = 16); with one-hot values these rates are the attention matrix.
6. Output: attention neuron (t, j) excites output pair (t, d) with weight proportional to
   max(+-v_jd, 0); the on-minus-off rate is proportional to y_td = sum_j A_tj v_jd.

Protocol. 0.5 s of settling from rest (2.5 s with the G-ChI astrocyte), then a 1.5 s read window
(dt = 0.1 ms).

Decoding. Spike counts in the read window divided by fixed gains known before the run:
A_hat = n_att / (R_att W), y_hat = (n_on - n_off) / (R_att c W), Z_hat = T / mean of exp(-c_t).
"""
import argparse

from spiking_attn.circuits import HeadParameters, build_softmax_head
from spiking_attn.decoding import decode
from spiking_attn.devices import TARGETS, simulate
from spiking_attn.errors import exit_on_input_error
from spiking_attn.experiment import Result
from spiking_attn.figures import attention_figure, check_figure_path, save_figure
from spiking_attn.metrics import attention_metrics, metrics_table
from spiking_attn.problems import random_problem
from spiking_attn.reference import softmax_attention
from spiking_attn.validation import ASTROCYTE_MODELS


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--dim", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--duration", type=float, default=1.5, help="read window (s)")
    parser.add_argument("--target", choices=TARGETS, default="cpp_standalone")
    parser.add_argument("--astrocyte-model", choices=ASTROCYTE_MODELS, default="integral")
    parser.add_argument("--figure", default="softmax_head.png")
    args = parser.parse_args()
    check_figure_path(args.figure)

    problem = random_problem(args.tokens, args.dim, seed=args.seed)
    exact = softmax_attention(problem.q, problem.k, problem.v)
    parameters = HeadParameters()
    circuit, recording, timings = simulate(
        lambda: build_softmax_head(problem, parameters, seed=args.seed, duration=args.duration,
                                   astrocyte_model=args.astrocyte_model),
        target=args.target, dt=parameters.dt)
    decoded = decode(recording)
    metrics = attention_metrics(exact, decoded)
    print(metrics_table(metrics).to_string(index=False))
    summary = {"target": args.target, "astrocyte": True, **circuit.summary()}
    result = Result(problem, exact, decoded, recording, metrics, summary)
    save_figure(attention_figure(result), args.figure)
    print(f"figure: {args.figure}; build {timings.build_seconds:.1f} s, run {timings.run_seconds:.1f} s")


if __name__ == "__main__":
    exit_on_input_error(main)
