"""The equations of the spiking circuits (each astrocyte model's are in its own module of
:mod:`spiking_attn.circuits.astrocytes`).

Softmax head (docs/model.md §3). It computes A_tj = exp(s_tj) / Z_t and y_t = sum_j A_tj v_j
with five populations; one astrocyte per query row (and head) closes a feedback loop that
finds the row's offset log Z_t itself, so scores of any range are represented. Symbols (their
values live in :class:`spiking_attn.circuits.softmax_head.HeadParameters`):

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
  The product q.k is therefore done by synapses, never precomputed. Only the pairs a mask allows
  (j <= t for causal attention) have a dendrite at all. Padding keys (``Problem.key_mask``) have
  one, with ``key_present`` = 0: their current is 0 and they never fire, so one compiled network
  serves problems of different lengths padded to one shape.

Score neurons: a passive (leaky) dendrite with an exponential dendritic current into an
integrate-and-fire soma. The n_score neurons of pair (t, j) receive identical synaptic input,
so they share one dendritic compartment (computed once); their somata start at different
phases. The row's astrocyte depresses the dendrite by c_t (its ``depression``)::

    tau_d du/dt = -u                               dendrite of pair (t, j) (volt)
    current = key_present * exp(u / delta_u - c_t) exponential dendritic current (per pair, once a step)
    dv/dt = r_score * v_theta * current            soma: threshold v > v_theta, reset v -= v_theta
                                                   (the charge kept over is at most carry_limit thresholds)

  The soma has no leak, so its rate equals its input current divided by the threshold:
  r = r_score * exp(s_tj - c_t). A soma cannot fire more than once per time step; it saturates
  above 1 / (2 dt) (see ``saturated``), which the feedback's set point rules out once it has
  settled. The cap on the charge kept over only matters there: a soma overdriven during the first
  milliseconds would otherwise keep firing every step long after.

Astrocytes, one per query row t (and head), close the loop that normalises the row: every release at
a tripartite synapse of the row reaches the row's astrocyte (``release_to_astrocyte``), and its
depression c_t shunts every dendrite of the row, so at steady state exp(c_t) = Z_t / Z0_t and every
score neuron fires at R_set,t A_tj / n_score. Each astrocyte model is a module of
:mod:`spiking_attn.circuits.astrocytes` with its own equations: the integral controller (the
default), the G-ChI and the Li-Rinzel calcium astrocytes.

Tripartite synapses score(t, j) -> attention(t, j) and attention and output neurons::

    on_pre: v_post += w_att,t,    w_att,t = R_att,t * v_theta / R_set,t

  Attention neurons (t, j) and output neurons (t, d, on/off) are integrate-and-fire somata without
  leak (threshold v > v_theta, reset v -= v_theta, charge kept over at most carry_limit thresholds), so

    rate_att(t, j) = R_att,t * A_tj,       rate_out(t, d, on) - rate_out(t, d, off) = R_att,t * c * y_td

  (an attention spike moves output (t, d, on/off) by v_theta * c * max(+-v_jd, 0)). R_att,t grows
  with the row's keys (:meth:`HeadParameters.attention_rate`) so each neuron's count, and the
  counting error, does not depend on the context length. All gains are fixed before the run;
  decoding never renormalises a row.

Random-feature network (the paper's construction, docs/model.md §5; circuit in
:mod:`spiking_attn.circuits.random_features`, rate model in :mod:`spiking_attn.features`).
One network reads the queries one after another; tokens arrive through the same LIF input neurons
(on/off pairs for x = token * D^(-1/4), and one neuron for |x|^2 / 2), whose drive follows the
protocol through the TimedArray ``input_drive(t, i)``. Two more TimedArrays switch the phases:
``learning(t)`` (1 in the writing windows) and ``reading(t)`` (1 in the reading windows), as
acetylcholine is thought to switch cortex between encoding and retrieval (Hasselmo 2006); a third,
``resting(t)``, is the astrocyte's resting response. With ``causal`` each query is read right
after its own key is written.

Feature dendrites, one per random feature i (weights W_id on the projection, 1 on the norm)::

    tau_d du/dt = -u    (u -> delta_u * W_i . x)     tau_d dn/dt = -n    (n -> delta_u * |x|^2 / 2)

Feature neurons (an on and, for signed maps, an off neuron per feature; integrate-and-fire soma)::

    dv/dt = r_feature * v_theta * max(polarity * phi_i, 0)     (polarity +1: on, -1: off)
    phi_i = FEATURE_EXPRESSIONS[map](z = u / delta_u, nu = n / delta_u, b_i)

  so the rate is r_feature * max(+-phi_i(x), 0): the feature map, exponential included, comes from
  the neuron model. r_feature is set so the busiest neuron of the problem fires at a fixed rate.
  The gains that depend on the problem (r_feature, w_unit, w_norm and the process quantum J) are
  state variables, filled with arrays (which standalone code reads from files), not constants in
  the code, so every problem of the same shape runs on the same compiled binary.

Readout neurons (one-hot ``attention`` neurons for keys j, signed ``output`` pairs for values):
integrate-and-fire somata driven, while writing, by a teacher (rate = R_teach * c * value)::

    dv/dt = v_theta * teacher(t, i)          (teacher in Hz; 0 while reading)

Plastic tripartite synapses feature i -> readout o (spike-based Hebbian rule, traces tau_hebb)::

    on_pre:  v_post += reading(t) * w * w_unit * gate;  w += learning(t) * trace_readout;
             trace_feature += 1
    on_post: w += learning(t) * trace_feature;  trace_readout += 1

  For steady independent trains each writing window adds 2 tau_hebb r_i r_o t_learn to w, so after
  writing w_io = 2 tau_hebb t_learn sum_j r_i(k_j) r_o(v_j): H, up to a known gain.

Astrocyte processes, one per feature neuron (a synapse feature neuron -> astrocyte with strength
p_i), and one astrocyte (the query being read)::

    on feature spike: p += learning(t);  a += reading(t) * p * J,    J = 1 / (release_gain * tau_a)
    tau_a da/dt = (1 - reading(t)) * a_rest(t) - a,   release_gain = t_learn * r_feature^2,
    gate = 1 / (a + a_half) on every plastic synapse

  p_i counts feature i's spikes while writing (sum_j r_i(k_j) t_learn), so while query q is read
  a = sum_i p_i r_i(q) / release_gain = p . phi(q) = a_t, the rate model's astrocyte response, and
  the readout rates are R_att * c * H phi(q) / a_t: the attention row and y_t. With thousands of
  processes each release moves a by a negligible step, so no half-release correction is needed: a_half
  is GATE_FLOOR here, 10^-12, far below any response while reading, which only keeps 1/a finite
  should a ever decay to 0 (the compiled code assumes finite math). The processes pass
  glutamate on to the astrocyte only while reading (the same switch as the readouts' transmission),
  and while writing the astrocyte rests at a_rest(t) (TimedArray ``resting``): T, its response to
  T keys at score 0, or, causal, the number of keys written so far. When it
  integrated the writing phase too, p grew while the keys drove the features and a reached about 16
  times a_t by the end of writing, so the first query's response was still decaying through its
  read window (measured: +7.6 % on a T = 4 problem); an astrocyte that started reading from 0
  would instead gate the first releases by 1/0. From rest at T it reaches a_t within the settling time.

Non-astrocytic alternative (``normaliser="neurons"``): n_norm integrate-and-fire normaliser
neurons receive every feature neuron through synapses that count its spikes while writing
(on_pre: w += learning(t), so w_i = p_i) and transmit throughout (so the inhibition never decays
to nothing), so while query q_t is read each fires at R_norm * a_t / T. Their spikes drive a slow
inhibitory conductance g onto the feature -> readout terminals (presynaptic, GABA_B-like
inhibition, which is divisive)::

    tau_inh dg/dt = -g,   on normaliser spike: g += g_step = T / (n_norm * R_norm * tau_inh)
    gate_value = 1 / (g + a_half)    (g settles at a_t; a_half = GATE_FLOOR keeps the gate finite;
                                      written onto every plastic synapse as the astrocyte's is)
"""
import numpy as np
from brian2 import Equations

# White membrane noise (the robustness study): sigma_noise is the stationary s.d.
# of a free leaky membrane of time constant tau; the somata without leak get the input neurons'
# coefficient, so their potential diffuses by sigma_noise * sqrt(2 t / tau_in) in t.
WHITE_NOISE = " + sigma_noise * sqrt(2 / {tau}) * xi"


def membrane(template, tau, noise):
    """Equations from ``template`` (its ``{noise}`` filled with :data:`WHITE_NOISE` for time constant
    ``tau`` when ``noise``, else with nothing)."""
    return Equations(template.format(noise=WHITE_NOISE.format(tau=tau) if noise else ""))


INPUT_MEMBRANE = "dv/dt = (v_drive - v) / tau_in{noise} : volt"
INPUT_NEURON = membrane(INPUT_MEMBRANE, "tau_in", False)
# Irregular inputs (the robustness study's Poisson trains): Poisson neurons at the rates the LIF inputs encode.
POISSON_INPUT = Equations("rate : Hz (constant)")
POISSON_THRESHOLD = "rand() < rate * dt"
CONSTANT_DRIVE = Equations("v_drive : volt (constant)")
TIMED_DRIVE = Equations("v_drive = input_drive(t, i) : volt")

DENDRITE_MEMBRANE = """
    du/dt = -u / tau_d{noise} : volt
    current = key_present * exp(u / delta_u - depression) : 1 (constant over dt)
    depression : 1 (linked)
    key_present : 1 (constant)
    """

SCORE_SOMA = """
    dv/dt = gain * r_score * v_theta * current{noise} : volt
    current : 1 (linked)
    """
# gain: 1 in the identical head; a subexpression in a head with heterogeneity (HETEROGENEOUS_NEURON).
SCORE_MEMBRANE = SCORE_SOMA + """    gain : 1 (constant)
    """

INTEGRATOR_NEURON = Equations("v : volt")
NOISY_INTEGRATOR_NEURON = membrane("dv/dt = 0 * volt / second{noise} : volt", "tau_in", True)

THRESHOLD = "v > v_theta"
RESET = "v -= v_theta"
# v -= v_theta, keeping at most carry_limit thresholds of charge: min(v - v_theta, carry_limit * v_theta).
BOUNDED_RESET = "v = (v - v_theta + carry_limit * v_theta - abs(v - v_theta - carry_limit * v_theta)) / 2"
INPUT_RESET = "v = v_drive * (v - v_theta) / (v_drive - v_theta)"

STATIC_SYNAPSE = Equations("w : volt (constant)")
KEY_SYNAPSE_ON_PRE = "u_post += w"
# The associative memory's feedback: the output neurons drive the dendrites once the loop is closed (loop(t) = 1).
LOOP_SYNAPSE_ON_PRE = "u_post += w * loop(t)"
NORM_SYNAPSE_ON_PRE = "n_post += w"

TRIPARTITE_SYNAPSE_ON_PRE = "v_post += w"
# spread: the synapse's release quantum relative to the nominal (1; HETEROGENEOUS_RELEASE spreads and adapts it).
RELEASE_SYNAPSE = Equations("spread : 1 (constant)")
# The normalisers of the random-feature network write their gate onto every synapse they act
# on: Synapses acting on Synapses.
GATE_TO_SYNAPSE = "gate_post = gate_value_pre : 1 (summed)"

VALUE_SYNAPSE_ON_PRE = "v_post += w"


# Heterogeneity drawn inside the network, and the homeostatic rules that calibrate it (docs/model.md
# §7.2; parameters in spiking_attn.circuits.homeostasis). Each spread neuron, dendrite and release
# synapse draws its own factor from the run's seed, in the compiled code: no Python code knows it.
DRAWN_FACTOR = "1 + {spread} * (2 * rand() - 1)"  # spread: the fraction h, written in

# A spread neuron's drive is multiplied by its gain: its own excitability (adapted) times its
# r_score factor (score neurons only) over its threshold factor (both drawn).
HETEROGENEOUS_NEURON = """
    gain = excitability * {rate_factor} / threshold_factor : 1
    threshold_factor : 1 (constant)
    excitability : 1
    last_spike : second
    target_rate : Hz (constant)
    """
# Intrinsic plasticity, on each spike after the first: d ln(excitability) = (ISI - 1 / target_rate) /
# tau_homeostasis (at most clip_step), so over many spikes d ln(excitability)/dt = (1 - rate / target_rate)
# / tau_homeostasis: an integral controller of the neuron's own rate. Summed, the updates are
# (t_k - t_1 - (k - 1) / target_rate) / tau_homeostasis: the controller also holds the neuron's phase, relative
# to its own first spike (last_spike starts negative: no update then). Counted from a clock common to all,
# it would pull identical neurons into synchrony.
INTRINSIC_PLASTICITY = ("excitability *= exp(clip({learning} * int(last_spike >= 0 * second) * (t - last_spike - 1 "
                        "/ target_rate) / tau_homeostasis, -clip_step, clip_step))\nlast_spike = t")
HETEROGENEOUS_DRIVE = """
    v_drive = gain * v_set : volt
    v_set : volt (constant)
    """
HETEROGENEOUS_POISSON_INPUT = "rate : Hz (constant)"
HETEROGENEOUS_POISSON_THRESHOLD = "rand() < gain * rate * dt"
# The dendrite's slope: its exponential current has slope delta_u * slope_factor (drawn); every synapse
# onto it is multiplied by its scaling (adapted): synaptic scaling.
HETEROGENEOUS_DENDRITE_MEMBRANE = """
    du/dt = -u / tau_d{{noise}} : volt
    current = key_present * exp(u / (delta_u * slope_factor) - depression) : 1 (constant over dt)
    depression : 1 (linked)
    key_present : 1 (constant)
    slope_factor : 1 (constant)
    scaling = exp(log_scaling) : 1
    {log_scaling}
    """
SCALED_SYNAPSE_ON_PRE = "u_post += w * scaling_post"
# Synaptic scaling: log(scaling) grows at 1 / (tau_homeostasis * reference_score) and falls by
# 1 / (tau_homeostasis * reference_score * slope_target_rate) at each spike of the dendrite's score
# neurons (back-propagated), so while the reference input holds the dendrite at reference_score,
# d log(scaling)/dt = (1 - rate / slope_target_rate) / (tau_homeostasis * reference_score) and the pair's
# rate settles at slope_target_rate.
SCALING_GROWTH = "dlog_scaling/dt = {learning} / (tau_homeostasis * reference_score) : 1"
SCALING_FROZEN = "log_scaling : 1"
SYNAPTIC_SCALING = "log_scaling_post -= {learning} / (tau_homeostasis * reference_score * slope_target_rate)"
GAINED_SYNAPSE_ON_PRE = "v_post += w * gain_post"
# A release synapse's quantum: its drawn factor times its efficacy (adapted); transmitting is 0 while
# calibrating (the astrocytes are held at rest).
HETEROGENEOUS_RELEASE = Equations(
    """
    spread = transmitting * quantum_factor * efficacy : 1
    quantum_factor : 1 (constant)
    efficacy : 1
    """
)
# Presynaptic homeostasis, on each release: the synapse's quantum relaxes towards the set point 1.
PRESYNAPTIC_HOMEOSTASIS = "efficacy += {learning} * release_step * (1 - quantum_factor * efficacy)"
# The calibration's reference afferent: regular spikes at reference_rate while reference(t) = 1.
REFERENCE_NEURON = Equations("dv/dt = reference_rate * v_theta * reference(t) : volt")


# Random-feature network.
FEATURE_DENDRITE = Equations(
    """
    du/dt = -u / tau_d : volt
    dn/dt = -n / tau_d : volt
    """
)

GATE_FLOOR = 1e-12  # a_half of the random-feature network's normalisers: keeps 1/a finite, nothing else

# No equation needs inf or NaN (the compiled code assumes finite math, spiking_attn/devices.py):
# max(x, 0) is written (x + |x|) / 2 and min(z, c) as (z + c - |z - c|) / 2, every gate divides by
# a quantity kept above 0 by a_half > 0, and every exp has an argument bounded by validation.
FEATURE_EXPRESSIONS = {
    "performer": "exp(z - nu) / sqrt(m_features)",
    "truncated-performer": "exp((z + z_clip - abs(z - z_clip)) / 2 - nu) / sqrt(m_features)",  # min(z, z_clip)
    "linear": "1 + z - nu - 0.5 * log(m_features)",
    "cosine": "sqrt(2.0 / m_features) * cos(z + b) * exp(nu)",
    "rectified-cosine": "sqrt(2.0 / m_features) * (cos(z + b) + abs(cos(z + b))) / 2 * exp(nu)",  # max(cosine, 0)
    "clipped-sine": "sqrt(2.0 / m_features) * sin(clip(z + b, -pi / 2, pi / 2)) * exp(nu)",
}


def feature_neuron(feature_map):
    """Equations of a feature neuron for one of :data:`FEATURE_EXPRESSIONS`."""
    return Equations(
        f"""
        dv/dt = r_feature * v_theta * (polarity * phi + abs(polarity * phi)) / 2 : volt
        phi = {FEATURE_EXPRESSIONS[feature_map]} : 1
        z = u / delta_u : 1
        nu = n / delta_u : 1
        u : volt (linked)
        n : volt (linked)
        b : 1 (constant)
        polarity : 1 (constant)
        r_feature : Hz (constant)
        """
    )


def readout_neuron(teacher):
    """An integrate-and-fire readout neuron driven by the TimedArray named ``teacher`` (Hz)."""
    return Equations("dv/dt = v_theta * teacher(t, i) : volt", teacher=teacher)


PLASTIC_SYNAPSE = Equations(
    """
    w : 1
    gate : 1
    w_unit : volt (constant)
    dtrace_feature/dt = -trace_feature / tau_hebb : 1 (event-driven)
    dtrace_readout/dt = -trace_readout / tau_hebb : 1 (event-driven)
    """
)
PLASTIC_SYNAPSE_ON_PRE = (
    "v_post += reading(t) * w * w_unit * gate\nw += learning(t) * trace_readout\ntrace_feature += 1"
)
PLASTIC_SYNAPSE_ON_POST = "w += learning(t) * trace_feature\ntrace_readout += 1"

PROCESS = Equations(
    """
    p : 1
    release_quantum : 1 (constant)
    """
)
PROCESS_ON_PRE = "p += learning(t)\na_post += reading(t) * p * release_quantum"

# The non-astrocytic alternative: normaliser neurons and divisive (presynaptic) inhibition.
NORMALISER_SYNAPSE = Equations(
    """
    w : 1
    w_norm : volt (constant)
    """
)
NORMALISER_SYNAPSE_ON_PRE = "v_post += w * w_norm\nw += learning(t)"
FEATURE_ASTROCYTE = Equations(
    """
    da/dt = ((1 - reading(t)) * resting(t) - a) / tau_a : 1
    gate_value = 1 / (a + a_half) : 1 (constant over dt)
    """
)
INHIBITION = Equations(
    """
    dg/dt = -g / tau_inh : 1
    gate_value = 1 / (g + a_half) : 1 (constant over dt)
    """
)
NORMALISER_TO_INHIBITION_ON_PRE = "g_post += g_step"


def on_off(x):
    """Split signed values into the rates of an on/off pair: shape (..., 2), [max(x, 0), max(-x, 0)]."""
    x = np.asarray(x, dtype=np.float64)
    return np.clip(np.stack([x, -x], axis=-1), 0, None)


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
