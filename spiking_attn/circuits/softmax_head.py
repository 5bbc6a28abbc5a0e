"""The exact-softmax neuron-astrocyte attention head (docs/model.md §3), built in Brian2.

All query rows of all heads are read in parallel: row (h, t) has its own input neurons (query
q_ht), one dendrite, a few score neurons and one attention neuron per key it may see (every key,
or j <= t when causal), one astrocyte (that normalises the row: a model of
:mod:`spiking_attn.circuits.astrocytes`) and 2 Dv output neurons. Keys and values may have a different
number of rows (T_k) than the queries (T_q: cross-attention). The equations are in
:mod:`spiking_attn.equations`, the astrocytes' in their modules.

The module exports the circuit's kind, ``KIND``, and declares the options only it takes (``OPTIONS``:
the settling time, the astrocyte model and the robustness study's variability).
"""
from dataclasses import asdict, dataclass, field, replace

import numpy as np
from brian2 import (
    Equations,
    Hz,
    Network,
    NeuronGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    linked_var,
    mV,
    second,
)
from brian2 import seed as brian2_seed

from .. import equations as eq
from ..decoding import Recording, trace_every_millisecond
from ..errors import InputError
from ..figures import attention_figure
from ..option import Option
from ..problems import Problem, phase_generator
from .astrocytes import DEFAULT_MODEL, MODELS
from .astrocytes import astrocyte_model as default_astrocyte_model
from .base import Calibrator, Circuit, CircuitKind
from .homeostasis import (
    Homeostasis,
    adapt,
    back_propagation,
    calibrated_state,
    calibrating,
    dendrite_membrane,
    draw,
    neuron_equations,
    neuron_reset,
    reference_afferent,
    rules_digest,
)
from .monitoring import spike_trains
from .parameters import CommonParameters


@dataclass(frozen=True)
class HeadParameters(CommonParameters):
    """Parameters of the softmax head, beside :class:`CommonParameters` (SI units).

    Attributes
    ----------
    settle : float
        Settling time before the read (counting) window (s): dendrites reach the scores
        (12 tau_d) and the astrocytes' feedback its set point.
    tau_d : float
        Time constant of the score neurons' passive dendrite (s).
    r_score : float
        Rate of one score neuron whose pair carries the row's mean weight 1 / K (Hz), for rows of
        7 to 125 keys (see :meth:`set_point`): at the set point a score neuron fires at
        r_score * K * A_tj.
    n_score : int
        Score neurons per (query, key) pair; their somata start at different phases.
    feedback_rate : float
        kappa, the astrocyte's recovery rate (1/s): the feedback loop's time constant is
        1 / kappa, and a silent row's depression falls at kappa (a row whose offset log(Z_t / K_t)
        is below -kappa * settle is not reached in time).
    attention_rate_per_key : float
        Target rate of an attention neuron of mean weight 1 / K (Hz); the row's attention rate
        R_att = K * this, within [attention_rate_min, attention_rate_max].
    attention_rate_min, attention_rate_max : float
        Bounds of R_att (Hz); the maximum keeps a neuron carrying all the weight below one spike
        per time step (R_att is also kept at most 0.8 / dt, so at another dt too).
    carry_limit : float
        The somata keep at most this many thresholds of charge over a reset (reached only by a
        soma driven above one spike per time step, as in the first milliseconds of a wide row).
    """

    settle: float = 0.5
    tau_d: float = 40e-3
    r_score: float = 40.0
    n_score: int = 4
    feedback_rate: float = 50.0
    attention_rate_per_key: float = 60.0
    attention_rate_min: float = 1000.0
    attention_rate_max: float = 8000.0
    carry_limit: float = 4.0

    def set_point(self, keys):
        """R_set, the summed release rate the astrocyte holds a row of ``keys`` keys at (Hz):
        n_score r_score K, never below R_att (one release then moves an attention neuron by at
        most one threshold) and never above n_score / (2 dt) (a pair carrying all the row's
        weight then fires its score neurons at 1 / (2 dt) at most: no pair saturates)."""
        target = np.maximum(self.n_score * self.r_score * np.asarray(keys, dtype=np.float64),
                            self.attention_rate(keys))
        return np.minimum(target, self.n_score / (2 * self.dt))

    def attention_rate(self, keys):
        """R_att, the summed rate of a row of ``keys`` attention neurons when normalised (Hz): attention_rate_per_key
        per key, within [attention_rate_min, attention_rate_max], and never above 0.8 / dt (a neuron carrying all
        the row's weight fires below one spike per time step; at the default dt the maximum, 8000 Hz, is that)."""
        highest = min(self.attention_rate_max, 0.8 / self.dt)
        return np.clip(self.attention_rate_per_key * np.asarray(keys, dtype=np.float64),
                       min(self.attention_rate_min, highest), highest)

    def namespace(self):
        """The Brian2 namespace of the head's equations, with units."""
        return {
            "v_theta": self.v_theta * 1e3 * mV,
            "tau_in": self.tau_in * second,
            "tau_d": self.tau_d * second,
            "delta_u": self.delta_u * 1e3 * mV,
            "r_score": self.r_score * Hz,
            "carry_limit": self.carry_limit,
        }


INPUT_SPIKES = ("regular", "poisson")
# What --heterogeneity spreads: every factor, or one of them.
# The factors --heterogeneity spreads (--heterogeneous picks one, or all).
FACTORS = ("r_score", "delta_u", "threshold", "release_quantum")
HETEROGENEOUS = ("all", *FACTORS)
MAX_MEMBRANE_NOISE = 10.0  # mV: one threshold
MAX_HETEROGENEITY = 0.5
MIN_DURATION = 1e-3  # s: the shortest read window in which anything can be counted
READ_WINDOW = 1.5  # s: the default read window

ASTROCYTE_MODELS = {name: default_astrocyte_model(name) for name in MODELS}
OPTIONS = (
    Option("settle", "settling time before the read window, in seconds (default: the astrocyte model's, "
           + ", ".join(f"{model.settle(HeadParameters()):g} s for {name}" for name, model in ASTROCYTE_MODELS.items())
           + "; with a calcium sensor, wide score ranges may need more)",
           "seconds", metavar="SEC", unit="s"),
    Option("astrocyte_model", "each row's astrocyte, the feedback loop's sensor: "
           + "; ".join(f"{name}, {model.description}" for name, model in ASTROCYTE_MODELS.items()), "choice",
           default=DEFAULT_MODEL, choices=tuple(MODELS), label="astrocyte model", recorded=True, plugin=True),
    Option("membrane_noise", "robustness: sigma of white noise on every membrane", "number", default=0.0, low=0.0,
           high=MAX_MEMBRANE_NOISE, unit="mV", metavar="MV", label="membrane noise (mV)", recorded=True),
    Option("heterogeneity", "robustness: spread r_score, Delta_u, thresholds and release quanta by "
                            "1 + FRACTION U(-1, 1) each", "number", default=0.0, low=0.0, high=MAX_HETEROGENEITY,
           metavar="FRACTION", recorded=True),
    Option("heterogeneous", "robustness: spread only this factor with --heterogeneity", "choice", default="all",
           choices=HETEROGENEOUS, label="heterogeneous factor", recorded=True),
    Option("input_spikes", "robustness: regular LIF input trains or Poisson trains at the same rates", "choice",
           default="regular", choices=INPUT_SPIKES, label="input spikes", recorded=True),
    Option("dale", "robustness: Dale's law, every neuron excitatory or inhibitory (negative key weights "
                   "through an inhibitory relay neuron per input neuron)", "flag", default=False, recorded=True),
    Option("calibrate", "calibrate the network by its homeostatic rules for SEC simulated seconds before the "
                        "problem, driven by no problem (or reuse the stored calibration of this network: its shape, "
                        "seed, heterogeneity and target); 8 s suffices", "seconds", metavar="SEC", unit="s",
           recorded=True),
    Option("calibration", "use the calibrated state saved in FILE (a result's calibration.npz); refused for "
                          "another network", "text", metavar="FILE"),
    Option("plasticity", "the homeostatic rules' learning rate while the problem runs, as a fraction of the "
                         "calibration's (0: the calibrated state is frozen)", "number", default=0.0, low=0.0,
           high=1.0, metavar="FRACTION", recorded=True),
)
# The head's rates and time step: what a spike budget buys (the accuracy-cost frontier, BENCHMARKS.md). Not given,
# each is the HeadParameters' value (summary.json records the parameters a run used).
PARAMETER_OPTIONS = tuple(
    Option(name, f"{text} (default {getattr(HeadParameters(), name):g}{' ' + unit if unit else ''})", kind, low=low,
           high=high, unit=unit, metavar=metavar)
    for name, text, kind, low, high, unit, metavar in (
        ("input_rate", "rate of the busiest input neuron, which sets the queries' encoding gain", "number", 1.0,
         5000.0, "Hz", "HZ"),
        ("r_score", "rate of a score neuron whose pair carries the row's mean weight", "number", 1.0, 1000.0, "Hz",
         "HZ"),
        ("n_score", "score neurons per (query, key) pair", "whole", 1, 64, "", "N"),
        ("attention_rate_per_key", "a row's attention rate R_att per key it sees", "number", 1.0, 1000.0, "Hz", "HZ"),
        ("attention_rate_min", "the smallest attention rate R_att of a row", "number", 10.0, 8000.0, "Hz", "HZ"),
        ("dt", "simulation time step", "number", 1e-6, 5e-4, "s", "SEC"),
    ))


# Parameters that reach the network only as arrays of values (rates, weights, set points), never as code: a head
# that differs from a built one only in these reuses its build (the cache's key leaves them out; should one ever
# reach the code, `make` recompiles and the run says so: devices.StandaloneRunner.compile).
DATA_PARAMETERS = ("input_rate", "attention_rate_per_key", "attention_rate_min", "attention_rate_max")


# The options of a network of the pretrained encoder's layers (spiking-attn transformer): the robustness
# options of its neurons and its calibration.
LAYER_OPTIONS = ("heterogeneity", "heterogeneous", "membrane_noise", "input_spikes", "calibrate", "plasticity")


def spreads(heterogeneity, heterogeneous):
    """The spread of each factor: h for the factor(s) spread, 0 for the others (every factor is still drawn,
    so that one factor's values do not depend on which factor is spread)."""
    return {factor: heterogeneity if heterogeneous in ("all", factor) else 0.0 for factor in FACTORS}


@dataclass(frozen=True)
class Variability:
    """Noise and heterogeneity of the robustness study (all off by default).

    Attributes
    ----------
    membrane_noise : float
        sigma (V) of white noise on every membrane: input neurons, dendrites, score, attention and
        output somata (``equations.MEMBRANE_NOISE``).
    heterogeneity : float
        Each neuron's (or synapse's) r_score, Delta_u, threshold and release quantum is its nominal
        value times 1 + heterogeneity * U(-1, 1), drawn independently by the compiled code from the
        run's seed (:mod:`spiking_attn.circuits.homeostasis`). A threshold theta (1 + e) of a neuron is
        realised as its gain (every input times its gain) divided by 1 + e, which is the same neuron
        (all potentials scaled); a dendrite's Delta_u (1 + e) is the slope of its exponential current.
    heterogeneous : {'all', 'r_score', 'delta_u', 'threshold', 'release_quantum'}
        Which of those factors ``heterogeneity`` spreads (default all of them).
    input_spikes : {'regular', 'poisson'}
        The input neurons: regular LIF spike trains (default) or Poisson trains at the same rates.
    dale : bool
        Dale's law: every neuron is excitatory or inhibitory. The input neurons make only the
        positive key synapses; each has an inhibitory relay neuron (fired by its every spike), which
        makes the negative ones.
    """

    membrane_noise: float = 0.0
    heterogeneity: float = 0.0
    input_spikes: str = "regular"
    dale: bool = False
    heterogeneous: str = "all"

    @classmethod
    def from_options(cls, options):
        """The variability of a run's options record (membrane noise given in mV)."""
        return cls(membrane_noise=options.membrane_noise * 1e-3, heterogeneity=options.heterogeneity,
                   input_spikes=options.input_spikes, dale=options.dale, heterogeneous=options.heterogeneous)

    @property
    def noise(self):
        return self.membrane_noise > 0


@dataclass
class Pairs:
    """The (query row, key) pairs that exist in the head, flattened.

    Attributes
    ----------
    head, query, key : ndarray of int, shape (P,)
        Head h, query t and key j of each pair; pairs are ordered by row, then key.
    row : ndarray of int, shape (P,)
        Row index h * T_q + t of each pair.
    keys : ndarray of int, shape (H * T_q,)
        Number of keys each row sees (T_k, or t + 1 when causal).
    index : ndarray of int, shape (H * T_q, T_k)
        Pair (= attention neuron) of row r and key j, -1 where masked.
    """

    head: np.ndarray
    query: np.ndarray
    key: np.ndarray
    row: np.ndarray
    keys: np.ndarray
    index: np.ndarray

    @classmethod
    def of(cls, heads, query_tokens, key_tokens, causal):
        allowed = np.ones((heads, query_tokens, key_tokens), dtype=bool)
        if causal:
            allowed &= np.tril(np.ones((query_tokens, key_tokens), dtype=bool))
        head, query, key = np.nonzero(allowed)
        row = head * query_tokens + query
        index = np.full((heads * query_tokens, key_tokens), -1, dtype=np.int64)
        index[row, key] = np.arange(row.size)
        return cls(head=head, query=query, key=key, row=row, keys=allowed.sum(axis=2).ravel(), index=index)

    @property
    def count(self):
        return self.row.size


@dataclass
class SoftmaxHead(Circuit):
    """A built head: its Brian2 network, the objects the decoder reads, and the decoding gains.

    Attributes
    ----------
    network : brian2.Network
    problem : Problem
    parameters : HeadParameters
    astrocyte : bool
        Whether the astrocytes' feedback is on (off: their depression stays 0).
    astrocyte_model : AstrocyteModel
        The row's astrocyte: the integral controller, or a calcium astrocyte as the loop's sensor
        (:mod:`spiking_attn.circuits.astrocytes`).
    variability : Variability
        Membrane noise, heterogeneity, irregular inputs and Dale's law (robustness study).
    causal : bool
        Whether query t sees keys j <= t only.
    pairs : Pairs
    input_gain, value_gain : ndarray, shape (H,)
        g_in, input rate per unit |q| (Hz), and c, output rate per unit y as a fraction of R_att,
        per head.
    read_seconds : float
        Read window (s); the simulation lasts ``settle + read_seconds``.
    monitors : dict
        SpikeMonitors ``input``, ``score``, ``attention``, ``output`` and the StateMonitor
        ``astrocyte`` (variable ``inverse_normaliser``); none in a calibration.
    homeostasis : Homeostasis or None
        A heterogeneous head's adaptation: its calibration, or the calibrated state it loaded.
    """

    network: Network
    problem: Problem
    parameters: HeadParameters
    astrocyte: bool
    astrocyte_model: object
    variability: Variability
    causal: bool
    pairs: Pairs
    input_gain: np.ndarray
    value_gain: np.ndarray
    read_seconds: float
    monitors: dict = field(default_factory=dict)
    homeostasis: Homeostasis = None
    seed: int = 0

    encoding_population = "score"

    def structure(self):
        p, v = self.problem, self.variability
        # The summary's astrocyte settings, less the parameters that reach the network only as values.
        settings = {**self._astrocyte_settings(), "parameters": {
            name: value for name, value in asdict(self.parameters).items() if name not in DATA_PARAMETERS}}
        return {"network": KIND.name, "heads": p.heads, "query_tokens": p.tokens, "key_tokens": p.key_tokens,
                "dim": p.dim, "value_dim": p.value_dim, "causal": self.causal, "astrocyte": self.astrocyte,
                "read_seconds": self.read_seconds, "membrane_noise": v.membrane_noise,
                "input_spikes": v.input_spikes, "dale": v.dale, **settings, **self._adaptation()}

    def _adaptation(self):
        """What shapes a heterogeneous head's code beyond the identical head's: the factors drawn from the seed
        (compiled in), and which rules run."""
        h, v = self.homeostasis, self.variability
        if h is None:
            return {}
        return {"heterogeneity": v.heterogeneity, "heterogeneous": v.heterogeneous, "seed": self.seed,
                "calibrate": h.calibrate, "plasticity": h.plasticity, "homeostasis": asdict(h.parameters)}

    def summary(self):
        return {
            "network": KIND.name,
            "settle_seconds": self.settle,
            "read_seconds": self.read_seconds,
            "simulated_seconds": self.duration,
            **self._astrocyte_settings(),
        }

    def _astrocyte_settings(self):
        """The astrocyte model, its own settings and the head's parameters (their ``settle`` the one this head
        settles for: the astrocyte model's, not the integral astrocyte's default)."""
        return {"astrocyte_model": self.astrocyte_model.name,
                "parameters": asdict(replace(self.parameters, settle=self.settle)), **self.astrocyte_model.summary()}

    @property
    def calibrating(self):
        """Whether this network is a calibration (:mod:`spiking_attn.circuits.homeostasis`)."""
        return calibrating(self.homeostasis)

    @property
    def settle(self):
        """Settling time before the read window (s): the astrocyte model's (none in a calibration)."""
        return 0.0 if self.calibrating else self.astrocyte_model.settle(self.parameters)

    @property
    def duration(self):
        """Simulated seconds: settling plus the read window."""
        return self.settle + self.read_seconds

    @property
    def namespace(self):
        """The Brian2 namespace of the head's equations."""
        namespace = {**self.parameters.namespace(), **self.astrocyte_model.namespace(self.parameters)}
        if self.variability.noise:
            namespace["sigma_noise"] = self.variability.membrane_noise * 1e3 * mV
        if self.homeostasis is not None:
            namespace.update(self.homeostasis.namespace(self.parameters.r_score, self.parameters.n_score))
        return namespace

    def describe(self):
        p = self.problem
        if self.calibrating:
            return (f"calibration of the heterogeneous softmax head (H={p.heads}, T_q={p.tokens}, T_k={p.key_tokens}, "
                    f"D={p.dim}, Dv={p.value_dim}, spread {self.variability.heterogeneity:g}, seed {self.seed}): "
                    f"{self.read_seconds:g} s")
        sizes = {name: len(monitor.source) for name, monitor in self.monitors.items()}
        shape = f"H={p.heads}, T_q={p.tokens}, T_k={p.key_tokens}" if p.heads > 1 or p.key_tokens != p.tokens \
            else f"T={p.tokens}"
        return (f"softmax head{' (causal)' if self.causal else ''}: {sum(sizes.values())} neurons and astrocytes"
                f"{self.astrocyte_model.describe()}, {shape}, D={p.dim}, Dv={p.value_dim}; {self.settle:g} s "
                f"settling + {self.read_seconds:g} s read")

    def recording(self):
        if self.calibrating:  # nothing to decode: a calibration leaves its calibrated state
            return Recording(spikes={}, sizes={}, astrocyte_times=np.zeros(0), astrocyte_response=np.zeros((0, 0)),
                             windows=np.zeros((0, 2)), attention_neurons=np.zeros((0, 0), int),
                             output_neurons=np.zeros((0, 0, 2), int), astrocyte_of_row=np.zeros(0, int),
                             attention_rate=0.0, value_gain=0.0, phases={"calibration": (0.0, self.duration)},
                             state=calibrated_state(self.network))
        m = self.monitors
        rows, Dv = self.pairs.keys.size, self.problem.value_dim
        settle, end = self.settle, self.duration
        times, response = trace_every_millisecond(m["astrocyte"].t[:] / second, m["astrocyte"].inverse_normaliser[:],
                                                  self.parameters.dt)
        spikes, sizes = spike_trains(m, ("input", "score", "attention", "output"))
        heads = np.repeat(np.arange(self.problem.heads), self.problem.tokens)
        return Recording(
            spikes=spikes,
            sizes=sizes,
            astrocyte_times=times,
            astrocyte_response=response,
            inverse_response=True,
            windows=np.tile([settle, end], (rows, 1)),
            attention_neurons=self.pairs.index,
            output_neurons=np.arange(rows * Dv * 2).reshape(rows, Dv, 2),
            astrocyte_of_row=np.arange(rows),
            attention_rate=self.parameters.attention_rate(self.pairs.keys),
            value_gain=self.value_gain[heads],
            phases={"settling": (0.0, settle), "reading": (settle, end)},
        )


def pair_count(heads, query_tokens, key_tokens, causal=False):
    """Number of (query row, key) pairs: H T_q T_k, or H T (T + 1) / 2 when causal (T_q = T_k = T)."""
    per_head = query_tokens * (query_tokens + 1) // 2 if causal else query_tokens * key_tokens
    return heads * per_head


def synapse_count(pairs, dim, value_dim, parameters=HeadParameters()):
    """Synapses of a head with ``pairs`` (query row, key) pairs: per pair 2 D key synapses,
    n_score tripartite and n_score release synapses, and 2 Dv value synapses."""
    return pairs * (2 * dim + 2 * parameters.n_score + 2 * value_dim)


def encoding_gains(largest, rate):
    """rate / largest per head (rate where a head's array is all zero)."""
    return np.where(largest > 0, rate / np.where(largest > 0, largest, 1.0), rate)


@dataclass
class Builder:
    """What every population's builder reads: parameters, the phases' generator, the variability and, in a
    heterogeneous head, its homeostasis (None in the identical head)."""

    p: HeadParameters
    rng: np.random.Generator
    variability: Variability
    homeostasis: Homeostasis = None

    @property
    def calibrating(self):
        return calibrating(self.homeostasis)

    @property
    def spread(self):
        """The spread of each heterogeneous factor."""
        return spreads(self.variability.heterogeneity, self.variability.heterogeneous)

    def neurons(self, size, equations, reset, name, method, threshold=eq.THRESHOLD, rate_factor=False):
        """A NeuronGroup; in a heterogeneous head with its drawn factors, gain and intrinsic plasticity."""
        h = self.homeostasis
        if h is not None:
            equations, reset = neuron_equations(equations, rate_factor), neuron_reset(reset, h)
        group = NeuronGroup(size, equations, threshold=threshold, reset=reset, method=method, name=name)
        if h is not None:
            if rate_factor:
                draw(group, "rate_factor", self.spread["r_score"])
            draw(group, "threshold_factor", self.spread["threshold"])
        return group

    def adapt(self, group, target_rate=None):
        """Load a heterogeneous group's adapted variable (and set its set point)."""
        if self.homeostasis is not None:
            adapt(group, self.homeostasis.state, target_rate)

    def integrators(self, size, name):
        """Integrate-and-fire somata without leak (with membrane noise if asked)."""
        model = eq.NOISY_INTEGRATOR_NEURON if self.variability.noise else eq.INTEGRATOR_NEURON
        return self.neurons(size, model, eq.BOUNDED_RESET, name, "euler")

    @property
    def gained_on_pre(self):
        """A synapse onto an integrator: its weight, times the target's gain in a heterogeneous head."""
        return eq.TRIPARTITE_SYNAPSE_ON_PRE if self.homeostasis is None else eq.GAINED_SYNAPSE_ON_PRE


def _input_neurons(q, input_gain, b):
    """Input neurons (h, t, i, on/off) -> index ((h T_q + t) D + i) 2 + sign, firing at g_in max(+-q, 0)
    (while calibrating, all at the busiest rate): regular LIF trains, or Poisson trains at the same rates."""
    p, v = b.p, b.variability
    rates = (input_gain[:, None, None, None] * eq.on_off(q)).ravel()
    if b.calibrating:
        rates = np.full(rates.size, p.input_rate)
    heterogeneous = b.homeostasis is not None
    if v.input_spikes == "poisson":
        if heterogeneous:
            inputs = b.neurons(rates.size, Equations(eq.HETEROGENEOUS_POISSON_INPUT), None, "input_neurons",
                               "euler", threshold=eq.HETEROGENEOUS_POISSON_THRESHOLD)
        else:
            inputs = NeuronGroup(rates.size, eq.POISSON_INPUT, threshold=eq.POISSON_THRESHOLD, name="input_neurons")
        inputs.rate = rates * Hz
        b.adapt(inputs, p.input_rate)
        return inputs
    # The precise-timing reset extrapolates a noise-free trajectory: with noise an overshoot past the
    # threshold would be blown up by v_drive / (v_drive - v_theta), so noisy inputs reset by subtraction.
    drive = Equations(eq.HETEROGENEOUS_DRIVE) if heterogeneous else eq.CONSTANT_DRIVE
    inputs = b.neurons(rates.size, eq.membrane(eq.INPUT_MEMBRANE, "tau_in", v.noise) + drive,
                       eq.RESET if v.noise else eq.INPUT_RESET, "input_neurons", "euler" if v.noise else "exact")
    setattr(inputs, "v_set" if heterogeneous else "v_drive", eq.input_drive(rates, p.tau_in, p.v_theta) * 1e3 * mV)
    b.adapt(inputs, p.input_rate)
    inputs.v = b.rng.uniform(0, 1, rates.size) * p.v_theta * 1e3 * mV
    return inputs


def score_pathway(k, key_present, pairs, inputs, input_gain, b):
    """Dendrites (one per pair, index = pair; silent for padding keys), their key synapses from the
    row's input neurons, and the score neurons (pair, member) -> index pair * n_score + member."""
    p, h = b.p, b.homeostasis
    D, P = k.shape[2], p.n_score
    # The dendrites decay after the somata have read them (order=1), so the somata sample u right
    # after the synaptic jumps, where its time-step mean equals the continuous-time mean.
    membrane = eq.DENDRITE_MEMBRANE if h is None else dendrite_membrane(h)
    dendrites = NeuronGroup(pairs.count, eq.membrane(membrane, "tau_d", b.variability.noise), method="euler",
                            order=1, name="dendrites")
    dendrites.key_present = 1.0 if b.calibrating else key_present[pairs.key].astype(np.float64)
    if h is not None:
        draw(dendrites, "slope_factor", b.spread["delta_u"])
        b.adapt(dendrites)
    pair, i_, s_ = np.meshgrid(np.arange(pairs.count), np.arange(D), np.arange(2), indexing="ij")
    sign = 1.0 - 2.0 * s_
    heads, j = pairs.head[pair], pairs.key[pair]
    weight = (sign * k[heads, j, i_] / (np.sqrt(D) * input_gain[heads] * p.tau_d) * p.delta_u).ravel()
    source, target = ((pairs.row[pair] * D + i_) * 2 + s_).ravel(), pair.ravel()
    on_pre = eq.KEY_SYNAPSE_ON_PRE if h is None else eq.SCALED_SYNAPSE_ON_PRE
    if b.variability.dale:
        relays, relay_synapses = _inhibitory_relays(inputs, b)
        keys = [relays, relay_synapses,
                key_synapses(inputs, dendrites, source, target, weight, weight > 0, on_pre, "key_synapses"),
                key_synapses(relays, dendrites, source, target, weight, weight < 0, on_pre,
                              "inhibitory_key_synapses")]
    else:
        keys = [key_synapses(inputs, dendrites, source, target, weight, np.ones(weight.size, bool), on_pre,
                              "key_synapses")]
    soma = eq.SCORE_MEMBRANE if h is None else eq.SCORE_SOMA
    scores = b.neurons(pairs.count * P, eq.membrane(soma, "tau_in", b.variability.noise), eq.BOUNDED_RESET,
                       "score_neurons", "euler", rate_factor=True)
    if h is None:
        scores.gain = 1.0
    b.adapt(scores, p.r_score)
    scores.current = linked_var(dendrites, "current", index=np.arange(pairs.count * P) // P)
    scores.v = b.rng.uniform(0, 1, pairs.count * P) * p.v_theta * 1e3 * mV
    return dendrites, keys, scores


def key_synapses(sources, dendrites, source, target, weight, chosen, on_pre, name):
    """Key synapses source[chosen] -> dendrite target[chosen] with weight[chosen] (volts); none where nothing
    is chosen (Dale's inhibitory pathway of keys without a negative weight, as in the calibration's).

    The synapses are stored in the order of their source neuron, so that a spike's synapses (its weights and
    targets) lie side by side in memory: the key synapses carry most of a head's events, and scattered they
    took 2-3 times as long."""
    synapses = Synapses(sources, dendrites, eq.STATIC_SYNAPSE, on_pre=on_pre, name=name)
    if not chosen.any():
        synapses.connect(False)  # connected, to nothing
        return synapses
    order = np.flatnonzero(chosen)[np.argsort(source[chosen], kind="stable")]
    synapses.connect(i=source[order], j=target[order])
    synapses.w = weight[order] * 1e3 * mV
    return synapses


def _inhibitory_relays(inputs, b):
    """Dale's law: one inhibitory neuron per input neuron, fired once by each of its spikes (it starts
    half a threshold below, and each spike adds one threshold, times its gain)."""
    v_theta = b.p.v_theta * 1e3 * mV
    relays = b.integrators(len(inputs), "inhibitory_neurons")
    b.adapt(relays, b.p.input_rate)
    relays.v = 0.5 * v_theta
    relay_synapses = Synapses(inputs, relays, eq.STATIC_SYNAPSE, on_pre=b.gained_on_pre, name="relay_synapses")
    relay_synapses.connect(j="i")
    relay_synapses.w = v_theta
    return relays, relay_synapses


def row_astrocytes(pairs, dendrites, scores, astrocyte, model, b):
    """One astrocyte per row, closing the loop that normalises it (:mod:`spiking_attn.circuits.astrocytes`):
    the row's score neurons release onto it, and its depression shunts the row's dendrites. While calibrating
    the astrocytes are held at rest (the integral controller, blocked; nothing is transmitted)."""
    p, h = b.p, b.homeostasis
    set_point = p.set_point(pairs.keys)
    model = default_astrocyte_model(DEFAULT_MODEL) if b.calibrating else model
    astrocytes, on_release = model.group(set_point, p, astrocyte and not b.calibrating)
    astrocytes.resting_normaliser = set_point / (p.n_score * p.r_score)
    dendrites.depression = linked_var(astrocytes, "depression", index=pairs.row)
    objects = [astrocytes]
    if astrocyte:
        learning = None if h is None else h.learning("gain")
        if learning is not None:
            on_release += "\n" + eq.PRESYNAPTIC_HOMEOSTASIS.format(learning=learning)
        model_equations = eq.RELEASE_SYNAPSE if h is None else eq.HETEROGENEOUS_RELEASE
        release_to_astrocyte = Synapses(scores, astrocytes, model_equations, on_pre=on_release,
                                        name="release_to_astrocyte")
        release_to_astrocyte.connect(i=np.arange(len(scores)), j=np.repeat(pairs.row, p.n_score))
        if h is None:
            release_to_astrocyte.spread = 1.0
        else:
            draw(release_to_astrocyte, "quantum_factor", b.spread["release_quantum"])
            b.adapt(release_to_astrocyte)
        objects.append(release_to_astrocyte)
    return objects


def readout(v, pairs, scores, value_gain, b):
    """Attention neurons (index = pair) behind the tripartite synapses, and output neurons
    (row, d, on/off) -> index (row Dv + d) 2 + sign, fed by attention (row, j) with weight
    v_theta c max(+-v_jd, 0) (while calibrating, v_theta from every attention neuron of the row)."""
    p = b.p
    v_theta = p.v_theta * 1e3 * mV
    attention = b.integrators(pairs.count, "attention_neurons")
    attention.v = b.rng.uniform(0, 1, pairs.count) * v_theta
    tripartite = Synapses(scores, attention, eq.STATIC_SYNAPSE, on_pre=b.gained_on_pre, name="tripartite_synapses")
    tripartite.connect(i=np.arange(len(scores)), j=np.arange(len(scores)) // p.n_score)
    w_att = p.attention_rate(pairs.keys) / p.set_point(pairs.keys)
    tripartite.w = np.repeat(w_att[pairs.row], p.n_score) * v_theta
    # Set points: a pair at rest fires its n_score score neurons at r_score each.
    b.adapt(attention, (w_att * p.n_score * p.r_score)[pairs.row])
    rows, Dv = pairs.keys.size, v.shape[2]
    outputs = b.integrators(rows * Dv * 2, "output_neurons")
    b.adapt(outputs, np.repeat(w_att * p.n_score * p.r_score * pairs.keys, Dv * 2))
    outputs.v = b.rng.uniform(0, 1, rows * Dv * 2) * v_theta
    pair, d_, s_ = np.meshgrid(np.arange(pairs.count), np.arange(Dv), np.arange(2), indexing="ij")
    heads, j = pairs.head[pair], pairs.key[pair]
    values = Synapses(attention, outputs, eq.STATIC_SYNAPSE, on_pre=b.gained_on_pre, name="value_synapses")
    values.connect(i=pair.ravel(), j=((pairs.row[pair] * Dv + d_) * 2 + s_).ravel())
    weight = np.ones(pair.size) if b.calibrating else (value_gain[heads] * eq.on_off(v)[heads, j, d_, s_]).ravel()
    values.w = weight * v_theta
    return attention, [tripartite, values], outputs


def _homeostasis_objects(dendrites, scores, b):
    """The calibration's reference afferent and the back-propagation that synaptic scaling reads (those the
    rules need)."""
    h = b.homeostasis
    if h is None:
        return []
    objects = reference_afferent(dendrites, b.p, h) if h.calibrating else []
    back = back_propagation(scores, dendrites, b.p.n_score, h)
    return objects + ([back] if back is not None else [])


def _monitors(inputs, scores, attention, outputs, astrocytes, b):
    """The spike monitors the decoder reads and the astrocytes' trace (none while calibrating: a calibration
    leaves only its adapted state)."""
    if b.calibrating:
        return {}
    return {
        "input": SpikeMonitor(inputs, name="input_spikes"),
        "score": SpikeMonitor(scores, name="score_spikes"),
        "attention": SpikeMonitor(attention, name="attention_spikes"),
        "output": SpikeMonitor(outputs, name="output_spikes"),
        "astrocyte": StateMonitor(astrocytes[0], "inverse_normaliser", record=True, name="astrocyte_trace"),
    }


def build_softmax_head(problem, parameters=HeadParameters(), astrocyte=True, seed=0, duration=READ_WINDOW,
                       causal=False, astrocyte_model=None, variability=Variability(), homeostasis=None):
    """Build the Brian2 network of a softmax head for ``problem``.

    Parameters
    ----------
    problem : Problem
        Queries (T_q x D), keys (T_k x D) and values (T_k x Dv), or H heads of them.
    parameters : HeadParameters
    astrocyte : bool
        With False the astrocytes' feedback is blocked (their depression stays 0): rows are not
        normalised.
    seed : int
        Seed of the initial membrane potentials (phases), drawn here with NumPy so that every
        target starts from the same state; in a heterogeneous head also Brian2's seed, from which the
        compiled code draws the heterogeneous factors.
    duration : float
        Read window (s), after the astrocyte model's settling time.
    causal : bool
        Query t sees keys j <= t only (needs T_q = T_k); masked pairs have no neurons or synapses.
    astrocyte_model : AstrocyteModel, optional
        The row's astrocyte (:mod:`spiking_attn.circuits.astrocytes`) with its parameters: the
        integral controller (default), or a calcium astrocyte as the loop's sensor.
    variability : Variability
        Membrane noise, heterogeneity, Poisson inputs and Dale's law.
    homeostasis : Homeostasis, optional
        The heterogeneous head's adaptation (:mod:`spiking_attn.circuits.homeostasis`): its calibration
        (``calibrate`` > 0: this network is the calibration, driven by no problem) or its calibrated state.
        None (only without heterogeneity): every neuron identical, nothing adapts.

    Returns
    -------
    SoftmaxHead
    """
    p = parameters
    if homeostasis is None and variability.heterogeneity > 0:
        homeostasis = Homeostasis()  # heterogeneous and uncalibrated
    if homeostasis is not None:
        brian2_seed(seed)
    astrocyte_model = astrocyte_model or default_astrocyte_model(DEFAULT_MODEL)
    q, k, v = problem.per_head()
    b = Builder(p, phase_generator(seed), variability, homeostasis)
    pairs = Pairs.of(problem.heads, problem.tokens, problem.key_tokens, causal)
    input_gain = encoding_gains(np.abs(q).max(axis=(1, 2)), p.input_rate)
    value_gain = encoding_gains(np.abs(v).max(axis=(1, 2)), 1.0)
    inputs = _input_neurons(q, input_gain, b)
    key_present = np.ones(problem.key_tokens, dtype=bool) if problem.key_mask is None else problem.key_mask
    dendrites, keys, scores = score_pathway(k, key_present, pairs, inputs, input_gain, b)
    # The release synapses draw their quanta last: a head without them draws the others' factors alike.
    attention, synapses, outputs = readout(v, pairs, scores, value_gain, b)
    astrocytes = row_astrocytes(pairs, dendrites, scores, astrocyte, astrocyte_model, b)
    monitors = _monitors(inputs, scores, attention, outputs, astrocytes, b)
    network = Network(inputs, dendrites, *keys, scores, *astrocytes, attention, *synapses, outputs,
                      *_homeostasis_objects(dendrites, scores, b), *monitors.values())
    return SoftmaxHead(network=network, problem=problem, parameters=p, astrocyte=astrocyte,
                       astrocyte_model=astrocyte_model, variability=variability, causal=causal, pairs=pairs,
                       input_gain=input_gain, value_gain=value_gain, read_seconds=duration, monitors=monitors,
                       homeostasis=homeostasis, seed=seed)


def calibration_problem(heads, query_tokens, key_tokens, dim, value_dim):
    """The calibration's arrays: a problem of the network's shape whose queries, keys and values are all 0
    (the calibration drives the input neurons and the value synapses itself; no problem enters it)."""
    return Problem(q=np.zeros((heads, query_tokens, dim)), k=np.zeros((heads, key_tokens, dim)),
                   v=np.zeros((heads, key_tokens, value_dim)), name="calibration")


# --- the kind: what the run layer and the front ends know of the softmax head -----------------------


def _settled(options, parameters):
    """The head's parameters and astrocyte model, with ``--settle`` applied to both."""
    model = default_astrocyte_model(options.astrocyte_model)
    if options.settle is None:
        return parameters, model
    return replace(parameters, settle=options.settle), model.with_settle(options.settle)


def _homeostasis(options, state=None):
    """The head's homeostasis for a problem: None for an identical, unadapted head."""
    if options.heterogeneity == 0 and state is None and options.plasticity == 0:
        return None
    return Homeostasis(state=state, plasticity=options.plasticity)


def _parameters(options, parameters):
    """The head's parameters: ``parameters`` (default HeadParameters()) with the rate options given applied."""
    given = {option.name: getattr(options, option.name) for option in PARAMETER_OPTIONS
             if getattr(options, option.name, None) is not None}
    return replace(parameters or HeadParameters(), **given)


def _build(problem, options, parameters, calibration=None):
    parameters, model = _settled(options, parameters)
    return build_softmax_head(problem, parameters, astrocyte=options.astrocyte, seed=options.seed,
                              duration=options.duration, causal=options.causal, astrocyte_model=model,
                              variability=Variability.from_options(options),
                              homeostasis=_homeostasis(options, calibration))


def _build_calibration(problem, options, parameters):
    """The calibration of the network that would run ``problem``: its shape, not its arrays."""
    blank = calibration_problem(problem.heads, problem.tokens, problem.key_tokens, problem.dim, problem.value_dim)
    return build_softmax_head(blank, parameters, seed=options.seed, duration=options.calibrate, causal=options.causal,
                              variability=Variability.from_options(options),
                              homeostasis=Homeostasis(calibrate=options.calibrate))


def _network_identity(problem, options, parameters):
    """What a calibrated state belongs to: everything that shapes the network and its drawn factors (its
    shape, seed, heterogeneity, variability, parameters and target), not the problem's arrays."""
    return {"network": KIND.name, "heads": problem.heads, "query_tokens": problem.tokens,
            "key_tokens": problem.key_tokens, "dim": problem.dim, "value_dim": problem.value_dim,
            "causal": options.causal, "seed": options.seed, "heterogeneity": options.heterogeneity,
            "heterogeneous": options.heterogeneous, "membrane_noise": options.membrane_noise,
            "input_spikes": options.input_spikes, "dale": options.dale, "target": options.target,
            "parameters": {name: value for name, value in asdict(parameters).items() if name != "settle"},
            "rules": rules_digest()}


def _check_options(options):
    if options.duration < MIN_DURATION:
        raise InputError(f"duration {options.duration:g} s is shorter than 1 ms; nothing could be counted")
    if options.calibrate is not None and options.calibration is not None:
        raise InputError("--calibrate and --calibration exclude each other: calibrate now, or use a saved calibration")
    if not options.astrocyte and not default_astrocyte_model(options.astrocyte_model).blockable:
        raise InputError(f"--astrocyte-model {options.astrocyte_model} needs --astrocyte on: with the astrocytes "
                         "off there is no loop for it to sense")


def _size(options, heads, tokens, key_tokens, dim, value_dim, parameters):
    return (synapse_count(pair_count(heads, tokens, key_tokens, options.causal), dim, value_dim, parameters),
            f"the softmax head at H={heads}, T_q={tokens}, T_k={key_tokens}, D={dim}, Dv={value_dim}")


KIND = CircuitKind(
    name="softmax",
    description="the exact-softmax head: every query row read at once, normalised by its astrocyte's feedback",
    options=OPTIONS + PARAMETER_OPTIONS,
    defaults={"duration": READ_WINDOW},
    parameters=_parameters,
    check_options=_check_options,
    size=_size,
    build=_build,
    figure=attention_figure,
    calibration=Calibrator(identity=_network_identity, build=_build_calibration),
)
