"""Every equation of the spiking softmax head, in one place.

The head computes A_tj = exp(s_tj) / Z_t and y_t = sum_j A_tj v_j (science.md §4) with
five populations and three synapse types. Symbols (their values live in
:class:`spiking_attn.circuits.softmax_head.HeadParameters`):

Input neurons (leaky integrate-and-fire), one on/off pair per query component q_ti::

    tau_in dv/dt = v_drive - v                     threshold v > v_theta
    reset: v = v_drive * (v - v_theta) / (v_drive - v_theta)

  ``v_drive`` is chosen so that the firing rate is r_in = g_in * max(+-q_ti, 0) (the inverse of
  the LIF rate curve, see :func:`input_drive`). The reset puts v where a neuron reset to 0 at
  the exact threshold-crossing time (between two steps) would be now, as precise-timing
  integrate-and-fire models do (NEST's ``*_ps`` neurons); with a plain ``v = 0`` or ``v -= v_theta``
  the rate would fall short of the LIF rate curve by about dt / (2 tau_in), 0.25 % here.

Input -> dendrite synapses (keys in the weights), onto the dendrite of pair (t, j)::

    on_pre: u_post += w,   w = +-k_ji / (sqrt(D) * g_in * tau_d) * delta_u

  so the dendrite's mean potential is  u = delta_u * sum_i k_ji q_ti / sqrt(D) = delta_u * s_tj.
  The product q.k is therefore done by synapses, never precomputed.

Score neurons: a passive (leaky) dendrite with an exponential dendritic current into an
integrate-and-fire soma. The n_score neurons of pair (t, j) receive identical synaptic input,
so they share one dendritic compartment (computed once); their somata start at different
phases::

    tau_d du/dt = -u                               dendrite of pair (t, j) (volt)
    dv/dt = r_score * v_theta * exp(u / delta_u)   soma: threshold v > v_theta, reset v -= v_theta

  The soma has no leak, so its rate equals its input current divided by the threshold:
  r = r_score * exp(u / delta_u) = r_score * exp(s_tj). (A somatic leak would turn the rate curve
  into r ~ I/theta - 1/(2 tau_m) and bias the small attention weights.) A soma cannot fire more
  than once per time step: scores above ln(1 / (2 dt r_score)) saturate (see ``saturated``).

Tripartite synapses score(t, j) -> attention(t, j), ensheathed by astrocyte t::

    tau_glu dglu/dt = -glu                         glutamate in the cleft (dimensionless)
    on_pre: v_post += w_att * gate;  glu += 1

  With the default tau_glu = dt (Euler step), the cleft is cleared within one time step, so glu
  counts the releases of the last step. ``gate`` is written by the astrocyte (gliotransmission).

Astrocytes, one per query row t, integrating the glutamate of every synapse they ensheathe::

    tau_a da/dt = glu_total / (n_score * r_score * tau_glu) - a
    glu_total = sum over ensheathed synapses of glu          (summed variable)
    gate = 1 / (a + a_half),  a_half = 1 / (2 * n_score * r_score * tau_a)   (summed variable)

  At steady state glu averages r * tau_glu at each synapse, so a = sum_j exp(s_tj) = Z_t:
  the astrocyte's response *is* the softmax normaliser, and the gate divides by it.

  Why a_half: one release raises a by J = 1 / (n_score * r_score * tau_a). A regularly firing
  score neuron's own earlier releases are part of a, and just before its next spike that part has
  decayed for a whole interspike interval: on average J/2 below its mean. With gate = 1/a every
  spike would be scaled by about 1/(a - J/2), and rows would sum to about 1 + J / (2 Z_t) (measured:
  +4 % at Z_t = 1.4, +0.4 % at Z_t = 16). a_half = J/2 evaluates the gate at the midpoint of the
  astrocyte's response to the release and removes that bias to first order.

Attention neurons (t, j) and output neurons (t, d, on/off) are integrate-and-fire somata without
leak (threshold v > v_theta, reset v -= v_theta); a score spike moves v_att by w_att * gate ~ w_att / a_t, so

    rate_att(t, j) = n_score * r_score * exp(s_tj) * w_att / (a_t * v_theta) = R_att * A_tj

and an attention spike moves output (t, d, on/off) by v_theta * c * max(+-v_jd, 0), so

    rate_out(t, d, on) - rate_out(t, d, off) = R_att * c * y_td.

Both gains (R_att and c) are fixed before the run; decoding never renormalises a row.
"""
import numpy as np

from brian2 import Equations

INPUT_NEURON = Equations(
    """
    dv/dt = (v_drive - v) / tau_in : volt
    v_drive : volt (constant)
    """
)

DENDRITE = Equations("du/dt = -u / tau_d : volt")

SCORE_NEURON = Equations(
    """
    dv/dt = r_score * v_theta * exp(u / delta_u) : volt
    u : volt (linked)
    """
)

ASTROCYTE = Equations(
    """
    da/dt = (glu_total / (n_score * r_score * tau_glu) - a) / tau_a : 1
    glu_total : 1
    """
)

INTEGRATOR_NEURON = Equations("v : volt")

THRESHOLD = "v > v_theta"
RESET = "v -= v_theta"
INPUT_RESET = "v = v_drive * (v - v_theta) / (v_drive - v_theta)"

KEY_SYNAPSE = Equations("w : volt (constant)")
KEY_SYNAPSE_ON_PRE = "u_post += w"

TRIPARTITE_SYNAPSE = Equations(
    """
    dglu/dt = -glu / tau_glu : 1 (clock-driven)
    gate : 1
    """
)
TRIPARTITE_SYNAPSE_ON_PRE = "v_post += w_att * gate\nglu += 1"

SYNAPSE_TO_ASTROCYTE = "glu_total_post = glu_pre : 1 (summed)"
ASTROCYTE_TO_SYNAPSE = "gate_post = 1 / (a_pre + a_half) : 1 (summed)"

VALUE_SYNAPSE = Equations("w : volt (constant)")
VALUE_SYNAPSE_ON_PRE = "v_post += w"


def input_drive(rate, tau_in, v_theta):
    """Steady drive that makes a LIF neuron (reset by subtraction) fire at ``rate``.

    Inverts the LIF rate curve r = 1 / (tau_in * ln(v_drive / (v_drive - v_theta))):

        v_drive = v_theta / (1 - exp(-1 / (r * tau_in)))      (r > 0)
        v_drive = 0                                           (r = 0, silent)

    Parameters
    ----------
    rate : ndarray of float
        Target rates in Hz (>= 0).
    tau_in, v_theta : float
        Membrane time constant in seconds and threshold in volts.

    Returns
    -------
    ndarray of float
        Drives in volts.
    """
    rate = np.asarray(rate, dtype=np.float64)
    drive = np.zeros_like(rate)
    firing = rate > 0
    drive[firing] = v_theta / (-np.expm1(-1.0 / (rate[firing] * tau_in)))
    return drive
