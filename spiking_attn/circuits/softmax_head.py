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

from .. import equations as eq
from ..decoding import Recording, trace_every_millisecond
from ..errors import InputError
from ..figures import attention_figure
from ..option import Option
from ..problems import Problem
from .astrocytes import DEFAULT_MODEL, MODELS
from .astrocytes import astrocyte_model as default_astrocyte_model
from .base import Circuit, CircuitKind
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
        per time step.
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
        """R_att, the summed rate of a row of ``keys`` attention neurons when normalised (Hz)."""
        return np.clip(self.attention_rate_per_key * np.asarray(keys, dtype=np.float64),
                       self.attention_rate_min, self.attention_rate_max)

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
HETEROGENEOUS = ("all", "r_score", "delta_u", "threshold", "release_quantum")
HETEROGENEITY_STREAM = 0x4E7E  # the seed's second stream: heterogeneity never shifts the phases
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
)


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
        value times 1 + heterogeneity * U(-1, 1), drawn independently. A threshold theta (1 + e) of a
        neuron is realised as its drive divided by 1 + e, which is the same neuron (all potentials
        scaled), and a dendrite's Delta_u (1 + e) as its key weights divided by 1 + e.
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

    def spread(self, rng, size, factor):
        """Factors 1 + heterogeneity * U(-1, 1), one per element, for ``factor`` (one of
        :data:`HETEROGENEOUS`); ones when another factor alone is spread (drawn all the same, so
        every factor gets the same draws whichever is chosen)."""
        draws = self.heterogeneity * rng.uniform(-1.0, 1.0, size)
        return 1.0 + draws * (self.heterogeneous in ("all", factor))


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
        ``astrocyte`` (variable ``inverse_normaliser``).
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

    encoding_population = "score"

    def structure(self):
        p, v = self.problem, self.variability
        return {"network": KIND.name, "heads": p.heads, "query_tokens": p.tokens, "key_tokens": p.key_tokens,
                "dim": p.dim, "value_dim": p.value_dim, "causal": self.causal, "astrocyte": self.astrocyte,
                "read_seconds": self.read_seconds, "membrane_noise": v.membrane_noise,
                "input_spikes": v.input_spikes, "dale": v.dale, **self._astrocyte_settings()}

    def summary(self):
        return {
            "network": KIND.name,
            "settle_seconds": self.settle,
            "read_seconds": self.read_seconds,
            "simulated_seconds": self.duration,
            **self._astrocyte_settings(),
        }

    def _astrocyte_settings(self):
        return {"astrocyte_model": self.astrocyte_model.name, "parameters": asdict(self.parameters),
                **self.astrocyte_model.summary()}

    @property
    def settle(self):
        """Settling time before the read window (s): the astrocyte model's."""
        return self.astrocyte_model.settle(self.parameters)

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
        return namespace

    def describe(self):
        sizes = {name: len(monitor.source) for name, monitor in self.monitors.items()}
        p = self.problem
        shape = f"H={p.heads}, T_q={p.tokens}, T_k={p.key_tokens}" if p.heads > 1 or p.key_tokens != p.tokens \
            else f"T={p.tokens}"
        return (f"softmax head{' (causal)' if self.causal else ''}: {sum(sizes.values())} neurons and astrocytes"
                f"{self.astrocyte_model.describe()}, {shape}, D={p.dim}, Dv={p.value_dim}; {self.settle:g} s "
                f"settling + {self.read_seconds:g} s read")

    def recording(self):
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


def _gains(largest, rate):
    """rate / largest per head (rate where a head's array is all zero)."""
    return np.where(largest > 0, rate / np.where(largest > 0, largest, 1.0), rate)


def _input_neurons(q, input_gain, p, rng, variability, spread):
    """Input neurons (h, t, i, on/off) -> index ((h T_q + t) D + i) 2 + sign, firing at g_in max(+-q, 0):
    regular LIF trains, or Poisson trains at the same rates."""
    rates = (input_gain[:, None, None, None] * eq.on_off(q)).ravel()
    threshold = variability.spread(spread, rates.size, "threshold")
    if variability.input_spikes == "poisson":
        inputs = NeuronGroup(rates.size, eq.POISSON_INPUT, threshold=eq.POISSON_THRESHOLD, name="input_neurons")
        inputs.rate = rates / threshold * Hz
        return inputs
    # The precise-timing reset extrapolates a noise-free trajectory: with noise an overshoot past the
    # threshold would be blown up by v_drive / (v_drive - v_theta), so noisy inputs reset by subtraction.
    noise = variability.noise
    inputs = NeuronGroup(rates.size, eq.membrane(eq.INPUT_MEMBRANE, "tau_in", noise) + eq.CONSTANT_DRIVE,
                         threshold=eq.THRESHOLD, reset=eq.RESET if noise else eq.INPUT_RESET,
                         method="euler" if noise else "exact", name="input_neurons")
    inputs.v_drive = eq.input_drive(rates, p.tau_in, p.v_theta) / threshold * 1e3 * mV
    inputs.v = rng.uniform(0, 1, rates.size) * p.v_theta * 1e3 * mV
    return inputs


def _score_pathway(k, key_present, pairs, inputs, input_gain, p, rng, variability, spread):
    """Dendrites (one per pair, index = pair; silent for padding keys), their key synapses from the
    row's input neurons, and the score neurons (pair, member) -> index pair * n_score + member."""
    D, P = k.shape[2], p.n_score
    # The dendrites decay after the somata have read them (order=1), so the somata sample u right
    # after the synaptic jumps, where its time-step mean equals the continuous-time mean.
    dendrites = NeuronGroup(pairs.count, eq.membrane(eq.DENDRITE_MEMBRANE, "tau_d", variability.noise),
                            method="euler", order=1, name="dendrites")
    dendrites.key_present = key_present[pairs.key].astype(np.float64)
    pair, i_, s_ = np.meshgrid(np.arange(pairs.count), np.arange(D), np.arange(2), indexing="ij")
    sign = 1.0 - 2.0 * s_
    h, j = pairs.head[pair], pairs.key[pair]
    slope = variability.spread(spread, pairs.count, "delta_u")[pair]
    weight = (sign * k[h, j, i_] / (np.sqrt(D) * input_gain[h] * p.tau_d) * p.delta_u / slope).ravel()
    source, target = ((pairs.row[pair] * D + i_) * 2 + s_).ravel(), pair.ravel()
    if variability.dale:
        relays, relay_synapses = _inhibitory_relays(inputs, p, variability, spread)
        keys = [relays, relay_synapses,
                _key_synapses(inputs, dendrites, source, target, weight, weight > 0, "key_synapses"),
                _key_synapses(relays, dendrites, source, target, weight, weight < 0, "inhibitory_key_synapses")]
    else:
        keys = [_key_synapses(inputs, dendrites, source, target, weight, np.ones(weight.size, bool), "key_synapses")]
    scores = NeuronGroup(pairs.count * P, eq.membrane(eq.SCORE_MEMBRANE, "tau_in", variability.noise),
                         threshold=eq.THRESHOLD, reset=eq.BOUNDED_RESET, method="euler", name="score_neurons")
    rate = variability.spread(spread, pairs.count * P, "r_score")
    threshold = variability.spread(spread, pairs.count * P, "threshold")
    scores.gain = rate / threshold
    scores.current = linked_var(dendrites, "current", index=np.arange(pairs.count * P) // P)
    scores.v = rng.uniform(0, 1, pairs.count * P) * p.v_theta * 1e3 * mV
    return dendrites, keys, scores


def _key_synapses(sources, dendrites, source, target, weight, chosen, name):
    """Key synapses source[chosen] -> dendrite target[chosen] with weight[chosen] (volts)."""
    synapses = Synapses(sources, dendrites, eq.STATIC_SYNAPSE, on_pre=eq.KEY_SYNAPSE_ON_PRE, name=name)
    synapses.connect(i=source[chosen], j=target[chosen])
    synapses.w = weight[chosen] * 1e3 * mV
    return synapses


def _inhibitory_relays(inputs, p, variability, spread):
    """Dale's law: one inhibitory neuron per input neuron, fired once by each of its spikes (it starts
    half a threshold below, and each spike adds one threshold, divided by its threshold factor)."""
    v_theta = p.v_theta * 1e3 * mV
    relays = _integrators(len(inputs), variability, "inhibitory_neurons")
    relays.v = 0.5 * v_theta
    relay_synapses = Synapses(inputs, relays, eq.STATIC_SYNAPSE, on_pre=eq.TRIPARTITE_SYNAPSE_ON_PRE,
                              name="relay_synapses")
    relay_synapses.connect(j="i")
    relay_synapses.w = v_theta / variability.spread(spread, len(inputs), "threshold")
    return relays, relay_synapses


def _astrocytes(pairs, dendrites, scores, astrocyte, model, p, variability, spread):
    """One astrocyte per row, closing the loop that normalises it (:mod:`spiking_attn.circuits.astrocytes`):
    the row's score neurons release onto it, and its depression shunts the row's dendrites."""
    set_point = p.set_point(pairs.keys)
    astrocytes, on_release = model.group(set_point, p, astrocyte)
    astrocytes.resting_normaliser = set_point / (p.n_score * p.r_score)
    dendrites.depression = linked_var(astrocytes, "depression", index=pairs.row)
    objects = [astrocytes]
    if astrocyte:
        release_to_astrocyte = Synapses(scores, astrocytes, eq.RELEASE_SYNAPSE, on_pre=on_release,
                                        name="release_to_astrocyte")
        release_to_astrocyte.connect(i=np.arange(len(scores)), j=np.repeat(pairs.row, p.n_score))
        release_to_astrocyte.spread = variability.spread(spread, len(scores), "release_quantum")
        objects.append(release_to_astrocyte)
    return objects


def _integrators(size, variability, name):
    """Integrate-and-fire somata without leak (with membrane noise if asked)."""
    model = eq.NOISY_INTEGRATOR_NEURON if variability.noise else eq.INTEGRATOR_NEURON
    return NeuronGroup(size, model, threshold=eq.THRESHOLD, reset=eq.BOUNDED_RESET, method="euler", name=name)


def _readout(v, pairs, scores, value_gain, p, rng, variability, spread):
    """Attention neurons (index = pair) behind the tripartite synapses, and output neurons
    (row, d, on/off) -> index (row Dv + d) 2 + sign, fed by attention (row, j) with weight
    v_theta c max(+-v_jd, 0) (each weight divided by its target's threshold factor)."""
    v_theta = p.v_theta * 1e3 * mV
    attention = _integrators(pairs.count, variability, "attention_neurons")
    attention.v = rng.uniform(0, 1, pairs.count) * v_theta
    tripartite = Synapses(scores, attention, eq.STATIC_SYNAPSE, on_pre=eq.TRIPARTITE_SYNAPSE_ON_PRE,
                          name="tripartite_synapses")
    tripartite.connect(i=np.arange(len(scores)), j=np.arange(len(scores)) // p.n_score)
    w_att = p.attention_rate(pairs.keys) / p.set_point(pairs.keys)
    threshold = variability.spread(spread, pairs.count, "threshold")
    tripartite.w = np.repeat(w_att[pairs.row] / threshold, p.n_score) * v_theta
    rows, Dv = pairs.keys.size, v.shape[2]
    outputs = _integrators(rows * Dv * 2, variability, "output_neurons")
    outputs.v = rng.uniform(0, 1, rows * Dv * 2) * v_theta
    pair, d_, s_ = np.meshgrid(np.arange(pairs.count), np.arange(Dv), np.arange(2), indexing="ij")
    h, j = pairs.head[pair], pairs.key[pair]
    values = Synapses(attention, outputs, eq.STATIC_SYNAPSE, on_pre=eq.VALUE_SYNAPSE_ON_PRE, name="value_synapses")
    values.connect(i=pair.ravel(), j=((pairs.row[pair] * Dv + d_) * 2 + s_).ravel())
    threshold = variability.spread(spread, rows * Dv * 2, "threshold").reshape(rows, Dv, 2)
    values.w = (value_gain[h] * eq.on_off(v)[h, j, d_, s_] / threshold[pairs.row[pair], d_, s_]).ravel() * v_theta
    return attention, [tripartite, values], outputs


def build_softmax_head(problem, parameters=HeadParameters(), astrocyte=True, seed=0, duration=READ_WINDOW,
                       causal=False, astrocyte_model=None, variability=Variability()):
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
        target starts from the same state.
    duration : float
        Read window (s), after the astrocyte model's settling time.
    causal : bool
        Query t sees keys j <= t only (needs T_q = T_k); masked pairs have no neurons or synapses.
    astrocyte_model : AstrocyteModel, optional
        The row's astrocyte (:mod:`spiking_attn.circuits.astrocytes`) with its parameters: the
        integral controller (default), or a calcium astrocyte as the loop's sensor.
    variability : Variability
        Membrane noise, heterogeneity (drawn from the seed's second stream), Poisson inputs and
        Dale's law.

    Returns
    -------
    SoftmaxHead
    """
    p = parameters
    astrocyte_model = astrocyte_model or default_astrocyte_model(DEFAULT_MODEL)
    q, k, v = problem.per_head()
    rng = np.random.default_rng(seed)
    spread = np.random.default_rng([HETEROGENEITY_STREAM, seed])
    pairs = Pairs.of(problem.heads, problem.tokens, problem.key_tokens, causal)
    input_gain = _gains(np.abs(q).max(axis=(1, 2)), p.input_rate)
    value_gain = _gains(np.abs(v).max(axis=(1, 2)), 1.0)
    inputs = _input_neurons(q, input_gain, p, rng, variability, spread)
    key_present = np.ones(problem.key_tokens, dtype=bool) if problem.key_mask is None else problem.key_mask
    dendrites, keys, scores = _score_pathway(k, key_present, pairs, inputs, input_gain, p, rng, variability, spread)
    astrocytes = _astrocytes(pairs, dendrites, scores, astrocyte, astrocyte_model, p, variability, spread)
    attention, synapses, outputs = _readout(v, pairs, scores, value_gain, p, rng, variability, spread)
    monitors = {
        "input": SpikeMonitor(inputs, name="input_spikes"),
        "score": SpikeMonitor(scores, name="score_spikes"),
        "attention": SpikeMonitor(attention, name="attention_spikes"),
        "output": SpikeMonitor(outputs, name="output_spikes"),
        "astrocyte": StateMonitor(astrocytes[0], "inverse_normaliser", record=True, name="astrocyte_trace"),
    }
    network = Network(inputs, dendrites, *keys, scores, *astrocytes, attention, *synapses, outputs,
                      *monitors.values())
    return SoftmaxHead(network=network, problem=problem, parameters=p, astrocyte=astrocyte,
                       astrocyte_model=astrocyte_model, variability=variability, causal=causal, pairs=pairs,
                       input_gain=input_gain, value_gain=value_gain, read_seconds=duration, monitors=monitors)


# --- the kind: what the run layer and the front ends know of the softmax head -----------------------


def _settled(options, parameters):
    """The head's parameters and astrocyte model, with ``--settle`` applied to both."""
    model = default_astrocyte_model(options.astrocyte_model)
    if options.settle is None:
        return parameters, model
    return replace(parameters, settle=options.settle), model.with_settle(options.settle)


def _build(problem, options, parameters):
    parameters, model = _settled(options, parameters)
    return build_softmax_head(problem, parameters, astrocyte=options.astrocyte, seed=options.seed,
                              duration=options.duration, causal=options.causal, astrocyte_model=model,
                              variability=Variability.from_options(options))


def _check_options(options):
    if options.duration < MIN_DURATION:
        raise InputError(f"duration {options.duration:g} s is shorter than 1 ms; nothing could be counted")
    if not options.astrocyte and not default_astrocyte_model(options.astrocyte_model).blockable:
        raise InputError(f"--astrocyte-model {options.astrocyte_model} needs --astrocyte on: with the astrocytes "
                         "off there is no loop for it to sense")


def _size(options, heads, tokens, key_tokens, dim, value_dim, parameters):
    return (synapse_count(pair_count(heads, tokens, key_tokens, options.causal), dim, value_dim, parameters),
            f"the softmax head at H={heads}, T_q={tokens}, T_k={key_tokens}, D={dim}, Dv={value_dim}")


KIND = CircuitKind(
    name="softmax",
    description="the exact-softmax head: every query row read at once, normalised by its astrocyte's feedback",
    options=OPTIONS,
    defaults={"duration": READ_WINDOW},
    parameters=lambda options, parameters: parameters or HeadParameters(),
    check_options=_check_options,
    size=_size,
    build=_build,
    figure=attention_figure,
)
