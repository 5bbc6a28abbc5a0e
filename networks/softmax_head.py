"""Spiking softmax attention with astrocyte normalisation — methods, as a script.

Run:  python networks/softmax_head.py [--tokens 16] [--dim 16] [--seed 0] [--target cpp_standalone]
                                       [--astrocyte-model integral|gchi|li-rinzel] [--figure softmax_head.png]
      (every option of `spiking-attn run`; --help lists them)

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
   With --astrocyte-model li-rinzel it is the Li-Rinzel model (IP3, Ca2+ and the IP3 receptors' gate h;
   Ca2+ rates 20 times the published ones, IP3 lifetime 40 ms): each release adds an IP3 quantum, whose
   mean is 0.2 uM at the set point, where the resting state is a stable node; gliotransmission raises
   c_t at kappa_g ln(Ca / Ca_set) (kappa_g = 8 / s).
5. Attention: each release moves attention neuron (t, j) by R_att / R_set thresholds, so it fires at
   R_att * A_tj (R_att = 1000 Hz for T = 16); with one-hot values these rates are the attention matrix.
6. Output: attention neuron (t, j) excites output pair (t, d) with weight proportional to
   max(+-v_jd, 0); the on-minus-off rate is proportional to y_td = sum_j A_tj v_jd.

Protocol. 0.5 s of settling from rest (2.5 s with the G-ChI astrocyte, 3 s with the Li-Rinzel one),
then a 1.5 s read window (dt = 0.1 ms).

Decoding. Spike counts in the read window divided by fixed gains known before the run:
A_hat = n_att / (R_att W), y_hat = (n_on - n_off) / (R_att c W), Z_hat = T / mean of exp(-c_t).
"""

from spiking_attn.api import run_network_script
from spiking_attn.errors import exit_on_input_error


def main():
    run_network_script(__doc__.splitlines()[0], "softmax_head.png")


if __name__ == "__main__":
    exit_on_input_error(main)
