"""Random-feature neuron-astrocyte attention (Kozachkov, Kastanenka & Krotov 2023) — methods, as a script.

Run:  python networks/random_features.py [--features 1000] [--feature-map performer] [--write plastic]
                                         [--tokens 16] [--dim 16] [--seed 0] [--target cpp_standalone]
                                         [--figure random_features.png]
      (every option of `spiking-attn run`, with --network random-features; --help lists them)

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

from spiking_attn.api import run_network_script
from spiking_attn.errors import exit_on_input_error


def main():
    run_network_script(__doc__.splitlines()[0], "random_features.png", network="random-features")


if __name__ == "__main__":
    exit_on_input_error(main)
