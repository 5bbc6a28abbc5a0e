"""The paper's random-feature neuron-astrocyte attention (docs/model.md §5), built in Brian2.

One network, used in two phases (equations in :mod:`spiking_attn.equations`):

1. writing: the tokens are presented one after another; key k_j drives the feature neurons to
   phi(k_j) while a teacher drives the readout neurons to the value v_j (and the one-hot attention
   readout j); Hebbian feature -> readout synapses accumulate H = sum_j v_j phi(k_j)^T and
   the astrocyte processes accumulate p = sum_j phi(k_j);
2. reading: each query q_t is presented in turn; the astrocyte's response settles at
   a_t = p . phi(q_t) and divides every feature -> readout synapse, so the readouts carry
   H phi(q_t) / a_t: y_t, and with one-hot values the attention row.

With ``write="direct"`` the writing phase is skipped and H and p are loaded from the rate model
(in the same units), separating the writing error from the reading error.
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
    TimedArray,
    linked_var,
    mV,
    second,
)

from .. import equations as eq
from ..decoding import Recording, trace_every_millisecond
from ..errors import InputError
from ..features import (
    FEATURE_MAPS,
    SIGNED_MAPS,
    TRUNCATION,
    random_feature_attention,
    random_feature_map,
    split_features,
)
from ..figures import feature_figure
from ..metrics import rate_model_metrics, signed_rate_model_metrics
from ..option import Option
from ..problems import phase_generator
from ..validation import require_finite
from .base import Circuit, CircuitKind
from .monitoring import spike_trains
from .parameters import CommonParameters

WRITE_MODES = ("plastic", "direct")
PHI_LIMIT = 1e250  # largest |phi| of the inputs the network accepts (float64 reaches 1.8e308)
NORMALISERS = ("astrocyte", "neurons")
MAX_FEATURES = 10 ** 7

OPTIONS = (
    Option("features", "number of random features m", "whole", default=1000, low=1, high=MAX_FEATURES, metavar="M",
           label="the number of features"),
    Option("feature_map", "the random feature map", "choice", default="performer", choices=FEATURE_MAPS,
           label="feature map"),
    Option("write", "simulate the writing phase (plastic) or load H and p from the rate model (direct)", "choice",
           default="plastic", choices=WRITE_MODES, label="write mode"),
    Option("normaliser", "the astrocyte or normaliser neurons with divisive inhibition", "choice",
           default="astrocyte", choices=NORMALISERS),
)


@dataclass(frozen=True)
class FeatureParameters(CommonParameters):
    """Parameters of the random-feature network, beside :class:`CommonParameters` (SI units).

    Attributes
    ----------
    step : float
        Time unit of the protocol (s); every phase length is a multiple of it.
    write_settle, write_learn : float
        Per token while writing: settling, then the window in which plasticity is on (s).
    read_settle, read_window : float
        Per query while reading: settling, then the counting window (s).
    tau_d : float
        Feature dendrite time constant (s).
    feature_rate : float
        Rate of the busiest feature neuron of the problem (Hz).
    tau_hebb : float
        Hebbian trace time constant (s).
    teacher_rate : float
        R_teach: readout rate while writing a value c * v = 1 (Hz).
    attention_rate : float
        R_att: readout rate while reading an attention weight 1 (Hz).
    resting_response : float
        The fixed divisor of every synapse when the division is blocked (``astrocyte=False``);
        independent of T, so the unnormalised output grows with T.
    normaliser_neurons, normaliser_rate, tau_inh : float
        The non-astrocytic alternative: population size, rate R_norm at a_t = T (Hz) and the
        inhibitory conductance's time constant (s).
    """

    step: float = 10e-3
    write_settle: float = 0.1
    write_learn: float = 0.3
    read_settle: float = 0.4
    read_window: float = 0.4
    tau_d: float = 20e-3
    feature_rate: float = 4000.0
    tau_hebb: float = 20e-3
    teacher_rate: float = 200.0
    attention_rate: float = 4000.0
    resting_response: float = 16.0
    normaliser_neurons: int = 16
    normaliser_rate: float = 200.0
    tau_inh: float = 20e-3

    def __post_init__(self):
        for name in ("write_settle", "write_learn", "read_settle", "read_window"):
            steps = getattr(self, name) / self.step
            if abs(steps - round(steps)) > 1e-9 or steps < 1:
                raise ValueError(f"{name} ({getattr(self, name)} s) must be a whole multiple of step ({self.step} s)")

    def steps(self, seconds):
        return int(round(seconds / self.step))


@dataclass
class Protocol:
    """The time course of a run, in steps of ``parameters.step``: one slot per written key and per
    read query, in order (all keys, then all queries; or, causal, key t then query t).

    Attributes
    ----------
    token : ndarray, shape (steps, D)
        The token presented (before the D^(-1/4) scale).
    learning, reading : ndarray, shape (steps,)
        1 where plasticity is on (the learning part of a write slot) / in read slots.
    resting : ndarray, shape (steps,)
        The astrocyte's resting response: the number of keys written by the end of the slot
        (its response to them at score 0).
    teach_attention : ndarray, shape (steps, T)
        Which one-hot attention readout the teacher drives (key j while j is written).
    written_value : ndarray of int, shape (steps,)
        Index of the value taught (-1 outside write slots).
    windows : ndarray, shape (T, 2)
        Read window of each query (s).
    write_seconds : float
        Time spent writing (s).
    phases : dict
        Named intervals for figures.
    """

    token: np.ndarray
    learning: np.ndarray
    reading: np.ndarray
    resting: np.ndarray
    teach_attention: np.ndarray
    written_value: np.ndarray
    windows: np.ndarray
    write_seconds: float
    phases: dict


def protocol(problem, write, causal, p):
    """The :class:`Protocol` of ``problem``: writing slots (unless written directly), then reading
    slots; with ``causal``, each query is read right after its own key is written (prefix sums)."""
    T, D = problem.tokens, problem.dim
    write_slot, read_slot = p.steps(p.write_settle + p.write_learn), p.steps(p.read_settle + p.read_window)
    if causal:
        slots = [slot for t in range(T) for slot in (("write", t), ("read", t))]
    else:
        slots = [("write", j) for j in range(T if write == "plastic" else 0)] + [("read", t) for t in range(T)]
    n_steps = sum(write_slot if kind == "write" else read_slot for kind, _ in slots)
    token, teach = np.zeros((n_steps, D)), np.zeros((n_steps, T))
    learning, reading, resting = np.zeros(n_steps), np.zeros(n_steps), np.full(n_steps, float(T))
    written_value = np.full(n_steps, -1)
    windows = np.zeros((T, 2))
    step = 0
    for kind, index in slots:
        length = write_slot if kind == "write" else read_slot
        here = slice(step, step + length)
        if kind == "write":
            token[here], teach[here, index], written_value[here] = problem.k[index], 1.0, index
            learning[step + p.steps(p.write_settle):step + length] = 1
        else:
            token[here], reading[here] = problem.q[index], 1
            windows[index] = [(step + p.steps(p.read_settle)) * p.step, (step + length) * p.step]
        if causal:
            resting[here] = index + 1
        step += length
    write_seconds = sum(write_slot for kind, _ in slots if kind == "write") * p.step
    end = n_steps * p.step
    if causal:
        phases = {"writing and reading (causal)": (0.0, end)}
    else:
        phases = {"writing": (0.0, write_seconds), "reading": (write_seconds, end)} if write_seconds else \
            {"reading": (0.0, end)}
    return Protocol(token=token, learning=learning, reading=reading, resting=resting, teach_attention=teach,
                    written_value=written_value, windows=windows, write_seconds=write_seconds, phases=phases)


@dataclass
class FeatureNetwork(Circuit):
    """A built random-feature network (see :func:`build_random_features`)."""

    network: Network
    namespace: dict
    duration: float
    problem: object
    parameters: FeatureParameters
    feature_map: object
    rate_model: object
    write: str
    normaliser: str
    astrocyte: bool
    causal: bool
    value_gain: float
    feature_gain: float
    feature_neurons: int
    protocol: Protocol
    monitors: dict = field(default_factory=dict)

    encoding_population = "feature"

    def structure(self):
        """What shapes the generated code (the problem's gains are state variables, not part of it)."""
        p = self.problem
        return {"network": KIND.name, "tokens": p.tokens, "dim": p.dim, "value_dim": p.value_dim,
                "features": self.feature_map.features, "feature_map": self.feature_map.name, "write": self.write,
                "normaliser": self.normaliser, "astrocyte": self.astrocyte, "causal": self.causal,
                "parameters": asdict(self.parameters)}

    def summary(self):
        """Settings for ``summary.json``."""
        p = self.parameters
        return {
            "network": KIND.name,
            "features": self.feature_map.features,
            "feature_map": self.feature_map.name,
            "write": self.write,
            "normaliser": self.normaliser,
            "write_seconds": self.protocol.write_seconds,
            "settle_seconds": p.read_settle,
            "read_seconds": p.read_window,
            "simulated_seconds": self.duration,
            "parameters": asdict(p),
        }

    def describe(self):
        p = self.problem
        return (f"random-feature network ({self.feature_map.name}, m={self.feature_map.features}, "
                f"{self.feature_neurons} feature neurons, write {self.write}, normaliser {self.normaliser}"
                f"{'' if self.astrocyte else ' (off)'}{', causal' if self.causal else ''}), T={p.tokens}, D={p.dim}, "
                f"Dv={p.value_dim}")

    def metrics(self, exact, decoded):
        """The network against its rate model, the rate model and the paper's signed-map rate model
        against exact softmax (:func:`spiking_attn.metrics.rate_model_metrics`)."""
        p = self.problem
        signed = random_feature_attention(p.q, p.k, p.v, self.feature_map, causal=self.causal)
        return {**rate_model_metrics(exact, decoded, self.rate_model), **signed_rate_model_metrics(exact, signed)}

    def arrays(self):
        model = self.rate_model
        return {"attention_rate_model": model.attention, "astrocyte_rate_model": model.astrocyte,
                "output_rate_model": model.output}

    def recording(self):
        m = self.monitors
        T, Dv = self.problem.tokens, self.problem.value_dim
        populations = ("input", "feature", "attention", "output")
        normaliser_trace = m["normaliser"]
        variable = "a" if self.normaliser == "astrocyte" else "g"
        times, response = trace_every_millisecond(normaliser_trace.t[:] / second,
                                                  getattr(normaliser_trace, variable)[:], self.parameters.dt)
        spikes, sizes = spike_trains(m, populations)
        return Recording(
            spikes=spikes,
            sizes=sizes,
            astrocyte_times=times,
            astrocyte_response=response,
            windows=self.protocol.windows,
            attention_neurons=np.tile(np.arange(T), (T, 1)),
            output_neurons=np.tile(np.arange(2 * Dv).reshape(Dv, 2), (T, 1, 1)),
            astrocyte_of_row=np.zeros(T, dtype=int),
            attention_rate=self.parameters.attention_rate,
            value_gain=self.value_gain,
            phases=self.protocol.phases,
        )


def synapse_count(tokens, dim, value_dim, features, feature_map, normaliser="astrocyte", astrocyte=True,
                  parameters=FeatureParameters()):
    """Synapses of the network for a problem of that shape with m = ``features``: the projection
    (2 D per feature) and norm synapses, a plastic synapse from every feature neuron to every
    readout (T attention, 2 Dv output) and, with the division on, a gate synapse onto each of
    them; one astrocyte process per feature neuron, or the normaliser neurons' synapses."""
    T, D, Dv = tokens, dim, value_dim
    neurons = features * (2 if feature_map in SIGNED_MAPS else 1)
    plastic = neurons * (T + 2 * Dv)
    if normaliser == "astrocyte":
        normalising = neurons
    else:
        normalising = neurons * parameters.normaliser_neurons + parameters.normaliser_neurons
    return 2 * D * features + features + plastic * (2 if astrocyte else 1) + normalising


def _check_feature_map(phi, problem, feature_map, scale):
    """The largest |phi| of the problem's tokens, or InputError where the map is not usable."""
    with np.errstate(over="ignore", under="ignore"):
        phi_values = np.concatenate([phi(problem.k * scale), phi(problem.q * scale)])
    if not np.all(np.abs(phi_values) <= PHI_LIMIT):  # also False for NaN
        raise InputError(f"the {feature_map} feature map is not finite (or above {PHI_LIMIT:g}) for these inputs; "
                         "rescale the problem")
    if not np.abs(phi_values).max() > 0:
        raise InputError(f"the {feature_map} feature map is 0 for every token (|x|^2 / 2 too large for exp); "
                         "rescale the problem")
    return np.abs(phi_values).max()


def _input_neurons(protocol, scale, p, rng):
    """Tokens through the input neurons: x = token * D^(-1/4), on/off pairs plus |x|^2 / 2; returns
    the neurons, their TimedArray drive and the input gain."""
    token = protocol.token * scale
    n_steps, D = token.shape
    half_norm = 0.5 * np.sum(token ** 2, axis=1)
    largest = max(np.abs(token).max(), half_norm.max())
    input_gain = p.input_rate / largest if largest > 0 else p.input_rate
    input_rates = input_gain * np.concatenate([eq.on_off(token).reshape(n_steps, 2 * D), half_norm[:, None]], axis=1)
    input_drive = TimedArray(eq.input_drive(input_rates, p.tau_in, p.v_theta) * 1e3 * mV, dt=p.step * second)
    inputs = NeuronGroup(2 * D + 1, eq.INPUT_NEURON + eq.TIMED_DRIVE, threshold=eq.THRESHOLD,
                         reset=eq.INPUT_RESET, method="exact", name="input_neurons")
    inputs.v = rng.uniform(0, 1, 2 * D + 1) * p.v_theta * 1e3 * mV
    return inputs, input_drive, input_gain


def _feature_layer(phi, feature_map, inputs, input_gain, feature_gain, p, rng):
    """Feature dendrites (u -> delta_u W_i . x from the input pairs, n -> delta_u |x|^2 / 2 from the
    norm input) and feature neurons firing at r_feature max(+-phi_i(x), 0)."""
    m, D = phi.features, (len(inputs) - 1) // 2
    signs = np.array([1.0, -1.0]) if feature_map in SIGNED_MAPS else np.array([1.0])
    dendrites = NeuronGroup(m, eq.FEATURE_DENDRITE, method="euler", order=1, name="feature_dendrites")
    weight = p.delta_u / (input_gain * p.tau_d) * 1e3 * mV
    projection = Synapses(inputs, dendrites, eq.STATIC_SYNAPSE, on_pre=eq.KEY_SYNAPSE_ON_PRE,
                          name="projection_synapses")
    pre, post = np.meshgrid(np.arange(2 * D), np.arange(m), indexing="ij")
    projection.connect(i=pre.ravel(), j=post.ravel())
    projection.w = (np.array([1.0, -1.0])[pre % 2] * phi.W[post, pre // 2]).ravel() * weight
    norm = Synapses(inputs, dendrites, eq.STATIC_SYNAPSE, on_pre=eq.NORM_SYNAPSE_ON_PRE, name="norm_synapses")
    norm.connect(i=2 * D, j=np.arange(m))
    norm.w = np.ones(m) * weight  # an array: a scalar would be written into the code
    n_features = m * signs.size
    feature_neurons = NeuronGroup(n_features, eq.feature_neuron(feature_map), threshold=eq.THRESHOLD,
                                  reset=eq.RESET, method="euler", name="feature_neurons")
    feature_of_neuron = np.arange(n_features) % m
    feature_neurons.u = linked_var(dendrites, "u", index=feature_of_neuron)
    feature_neurons.n = linked_var(dendrites, "n", index=feature_of_neuron)
    feature_neurons.b = phi.b[feature_of_neuron]
    feature_neurons.polarity = np.repeat(signs, m)
    feature_neurons.r_feature = np.full(n_features, feature_gain) * Hz
    feature_neurons.v = rng.uniform(0, 1, n_features) * p.v_theta * 1e3 * mV
    return [dendrites, projection, norm], feature_neurons


def _readouts(problem, protocol, value_gain, p, rng):
    """One-hot attention readouts (key j) and signed output pairs, driven by the teacher while
    writing (rate R_teach * c * value); returns the groups and their teacher TimedArrays."""
    Dv = problem.value_dim
    values = np.vstack([value_gain * eq.on_off(problem.v).reshape(problem.tokens, 2 * Dv), np.zeros(2 * Dv)])
    teach = {"attention": p.teacher_rate * protocol.teach_attention,
             "output": p.teacher_rate * values[protocol.written_value]}  # row -1: nothing taught
    teachers = {f"teacher_{name}": TimedArray(rates * Hz, dt=p.step * second) for name, rates in teach.items()}
    readouts = {name: NeuronGroup(rates.shape[1], eq.readout_neuron(f"teacher_{name}"), threshold=eq.THRESHOLD,
                                  reset=eq.RESET, method="euler", name=f"{name}_neurons")
                for name, rates in teach.items()}
    for group in readouts.values():
        group.v = rng.uniform(0, 1, len(group)) * p.v_theta * 1e3 * mV
    return readouts, teachers


def _plastic_synapses(feature_neurons, readouts, direct_memory, feature_gain, p):
    """Plastic tripartite synapses feature -> readout (H, written by the Hebbian rule, or loaded
    from ``direct_memory`` {readout: (features x readouts) rates} when written directly)."""
    w_unit = p.attention_rate * p.v_theta / (2 * p.tau_hebb * p.write_learn * feature_gain ** 2 * p.teacher_rate)
    plastic = {}
    for name, group in readouts.items():
        synapses = Synapses(feature_neurons, group, eq.PLASTIC_SYNAPSE, on_pre=eq.PLASTIC_SYNAPSE_ON_PRE,
                            on_post=eq.PLASTIC_SYNAPSE_ON_POST, name=f"plastic_{name}_synapses")
        synapses.connect()
        if direct_memory is not None:
            # w_io = 2 tau_hebb t_learn sum_j r_i(k_j) r_o(v_j), the Hebbian rule's expectation.
            synapses.w = (2 * p.tau_hebb * p.write_learn * direct_memory[name]).ravel()
        synapses.gate = 1.0 / p.resting_response
        synapses.w_unit = np.full(len(feature_neurons) * len(group), w_unit) * 1e3 * mV
        plastic[name] = synapses
    return plastic


def _astrocyte(feature_neurons, presynaptic, release_gain, T, p):
    """The astrocyte and its processes p_i (one per feature neuron); returns objects, the divider
    and its monitor."""
    astrocyte_group = NeuronGroup(1, eq.FEATURE_ASTROCYTE, method="euler", name="astrocyte")
    astrocyte_group.a = float(T)
    processes = Synapses(feature_neurons, astrocyte_group, eq.PROCESS, on_pre=eq.PROCESS_ON_PRE,
                         name="astrocyte_processes")
    processes.connect()
    processes.release_quantum = np.full(len(feature_neurons), 1.0 / (release_gain * p.tau_a))
    if presynaptic is not None:
        processes.p = presynaptic
    monitor = StateMonitor(astrocyte_group, "a", record=True, name="astrocyte_trace")
    return [astrocyte_group, processes], astrocyte_group, {"normaliser": monitor}


def _normaliser_neurons(feature_neurons, presynaptic, release_gain, T, p, rng):
    """The non-astrocytic alternative: normaliser neurons counting every feature neuron's spikes
    and the divisive inhibition they drive; returns objects, the divider and its monitors."""
    n = p.normaliser_neurons
    neurons = NeuronGroup(n, eq.INTEGRATOR_NEURON, threshold=eq.THRESHOLD, reset=eq.RESET, name="normaliser_neurons")
    neurons.v = rng.uniform(0, 1, n) * p.v_theta * 1e3 * mV
    counting = Synapses(feature_neurons, neurons, eq.NORMALISER_SYNAPSE, on_pre=eq.NORMALISER_SYNAPSE_ON_PRE,
                        name="feature_to_normaliser")
    counting.connect()
    w_norm = p.v_theta * p.normaliser_rate / (release_gain * T)
    counting.w_norm = np.full(len(feature_neurons) * n, w_norm) * 1e3 * mV
    if presynaptic is not None:
        counting.w = np.repeat(presynaptic, n)
    inhibition = NeuronGroup(1, eq.INHIBITION, method="exact", name="inhibition")
    inhibition.g = float(T)
    to_inhibition = Synapses(neurons, inhibition, on_pre=eq.NORMALISER_TO_INHIBITION_ON_PRE,
                             name="normaliser_to_inhibition")
    to_inhibition.connect()
    monitors = {"normaliser": StateMonitor(inhibition, "g", record=True, name="inhibition_trace"),
                "normaliser_spikes": SpikeMonitor(neurons, name="normaliser_spikes")}
    return [neurons, counting, inhibition, to_inhibition], inhibition, monitors


def _check_modes(write, normaliser, causal):
    if write not in WRITE_MODES:
        raise ValueError(f"write must be one of {', '.join(WRITE_MODES)}, got {write!r}")
    if normaliser not in NORMALISERS:
        raise ValueError(f"normaliser must be one of {', '.join(NORMALISERS)}, got {normaliser!r}")
    if causal and write == "direct":
        raise ValueError("causal needs write='plastic': directly written H and p cannot grow key by key")


@dataclass(frozen=True)
class Gains:
    """The gains fixed from the inputs' ranges before the run.

    Attributes
    ----------
    scale : float
        D^(-1/4): tokens enter as x = token * scale.
    feature : float
        r_feature, the feature neurons' rate per unit phi (Hz): the busiest fires at ``feature_rate``.
    value : float
        c = 1 / max|v|.
    release : float
        t_learn r_feature^2, the unit of the astrocyte processes' counts.
    """

    scale: float
    feature: float
    value: float
    release: float

    @classmethod
    def of(cls, problem, phi, feature_map, p):
        scale = problem.dim ** -0.25
        feature = p.feature_rate / _check_feature_map(phi, problem, feature_map, scale)
        require_finite("the feature neurons' rate gain", feature)
        value_max = np.abs(problem.v).max()
        return cls(scale=scale, feature=feature, value=1.0 / value_max if value_max > 0 else 1.0,
                   release=p.write_learn * feature ** 2)


def _direct_memory(problem, phi, gains, feature_neurons, p):
    """H and p written directly (``write='direct'``): the Hebbian rule's and the processes' expected
    values, from the rate model in the network's units; returns (presynaptic counts, memory)."""
    T, Dv = problem.tokens, problem.value_dim
    pair_features_k = split_features(phi(problem.k * gains.scale))[:, :feature_neurons]  # neuron order
    values = {"attention": np.eye(T), "output": gains.value * eq.on_off(problem.v).reshape(T, 2 * Dv)}
    memory = {name: pair_features_k.T @ values[name] * gains.feature * p.teacher_rate for name in values}
    return pair_features_k.sum(axis=0) * gains.feature * p.write_learn, memory


def _normalisation(normaliser, astrocyte, feature_neurons, plastic, presynaptic, gains, T, p, rng):
    """The divider (the astrocyte or normaliser neurons) and, unless blocked, its gate onto every plastic
    synapse (Synapses acting on Synapses); returns the objects and the divider's monitors."""
    if normaliser == "astrocyte":
        objects, divider, monitors = _astrocyte(feature_neurons, presynaptic, gains.release, T, p)
    else:
        objects, divider, monitors = _normaliser_neurons(feature_neurons, presynaptic, gains.release, T, p, rng)
    if astrocyte:
        for name, synapses in plastic.items():
            gating = Synapses(divider, synapses, eq.GATE_TO_SYNAPSE, name=f"gate_{name}")
            gating.connect()
            objects.append(gating)
    return objects, monitors


def _namespace(p, phi, T, input_drive, schedule, teachers):
    """The network's Brian2 namespace: constants with units and the protocol's TimedArrays."""
    timed = {name: TimedArray(getattr(schedule, name), dt=p.step * second) for name in ("learning", "reading",
                                                                                        "resting")}
    return {
        "v_theta": p.v_theta * 1e3 * mV,
        "tau_in": p.tau_in * second,
        "tau_d": p.tau_d * second,
        "delta_u": p.delta_u * 1e3 * mV,
        "m_features": phi.features,
        "z_clip": TRUNCATION,
        "tau_hebb": p.tau_hebb * second,
        "tau_a": p.tau_a * second,
        "a_half": eq.GATE_FLOOR,
        "tau_inh": p.tau_inh * second,
        "g_step": T / (p.normaliser_neurons * p.normaliser_rate * p.tau_inh),
        "input_drive": input_drive,
        **timed,
        **teachers,
    }


def build_random_features(problem, features=1000, feature_map="performer", write="plastic",
                          normaliser="astrocyte", astrocyte=True, parameters=FeatureParameters(), seed=0,
                          causal=False):
    """Build the random-feature network for ``problem``, in phases: the gains, the protocol, the
    input and feature layers, the readouts and their plastic synapses, the normaliser.

    Parameters
    ----------
    problem : Problem
        One head, T queries, keys and values.
    features : int
        m, the number of random features.
    feature_map : str
        One of :data:`spiking_attn.features.FEATURE_MAPS`; W and b are drawn from ``seed``.
    write : {'plastic', 'direct'}
        Simulate the writing phase, or load H and p from the rate model.
    normaliser : {'astrocyte', 'neurons'}
        What divides the readout synapses: the astrocyte, or normaliser neurons with divisive
        inhibition.
    astrocyte : bool
        False blocks the division (every gate stays at 1 / ``parameters.resting_response``).
    parameters : FeatureParameters
    seed : int
        Seed of W, b and the initial phases.
    causal : bool
        Read each query right after writing its own key (H and p are prefix sums: causal linear
        attention); needs ``write='plastic'``.

    Returns
    -------
    FeatureNetwork
    """
    _check_modes(write, normaliser, causal)
    p, T = parameters, problem.tokens
    rng = phase_generator(seed)
    phi = random_feature_map(feature_map, features, problem.dim, seed=seed)
    gains = Gains.of(problem, phi, feature_map, p)
    rate_model = random_feature_attention(problem.q, problem.k, problem.v, phi, pairs=True, causal=causal)
    schedule = protocol(problem, write, causal, p)
    inputs, input_drive, input_gain = _input_neurons(schedule, gains.scale, p, rng)
    feature_objects, feature_neurons = _feature_layer(phi, feature_map, inputs, input_gain, gains.feature, p, rng)
    readouts, teachers = _readouts(problem, schedule, gains.value, p, rng)
    presynaptic, memory = _direct_memory(problem, phi, gains, len(feature_neurons), p) if write == "direct" \
        else (None, None)
    plastic = _plastic_synapses(feature_neurons, readouts, memory, gains.feature, p)
    normalising, monitors = _normalisation(normaliser, astrocyte, feature_neurons, plastic, presynaptic, gains, T,
                                           p, rng)
    monitors.update({
        "input": SpikeMonitor(inputs, name="input_spike_monitor"),
        "feature": SpikeMonitor(feature_neurons, name="feature_spike_monitor"),
        "attention": SpikeMonitor(readouts["attention"], name="attention_spike_monitor"),
        "output": SpikeMonitor(readouts["output"], name="output_spike_monitor"),
    })
    network = Network(inputs, *feature_objects, feature_neurons, *readouts.values(), *plastic.values(), *normalising,
                      *monitors.values())
    return FeatureNetwork(network=network, namespace=_namespace(p, phi, T, input_drive, schedule, teachers),
                          duration=len(schedule.learning) * p.step, problem=problem, parameters=p, feature_map=phi,
                          rate_model=rate_model, write=write, normaliser=normaliser, astrocyte=astrocyte,
                          causal=causal, value_gain=gains.value, feature_gain=gains.feature,
                          feature_neurons=len(feature_neurons), protocol=schedule, monitors=monitors)


# --- the kind: what the run layer and the front ends know of the random-feature network -------------


def _parameters(options, parameters):
    parameters = parameters or FeatureParameters()
    return parameters if options.duration is None else replace(parameters, read_window=options.duration)


def _check_options(options):
    try:
        FeatureParameters(read_window=options.duration)
    except ValueError as error:
        raise InputError(f"--duration: {error}") from None
    if options.causal and options.write == "direct":
        raise InputError("--causal needs --write plastic: directly written H and p cannot grow key by key")


def _check_shape(heads, tokens, key_tokens):
    if heads > 1 or tokens != key_tokens:
        raise InputError("the random-feature network takes one head with as many queries as keys (got "
                         f"H={heads}, T_q={tokens}, T_k={key_tokens}); use --network softmax")


def _size(options, heads, tokens, key_tokens, dim, value_dim, parameters):
    o = options
    return (synapse_count(tokens, dim, value_dim, o.features, o.feature_map, o.normaliser, o.astrocyte, parameters),
            f"the random-feature network at m={o.features}, T={tokens}, D={dim}, Dv={value_dim}")


def _build(problem, options, parameters):
    o = options
    return build_random_features(problem, o.features, o.feature_map, write=o.write, normaliser=o.normaliser,
                                 astrocyte=o.astrocyte, parameters=parameters, seed=o.seed, causal=o.causal)


KIND = CircuitKind(
    name="random-features",
    description="the paper's random-feature network: keys written by Hebbian plasticity, queries read in turn",
    options=OPTIONS,
    defaults={"duration": FeatureParameters.read_window, "score_sd": 0.25},
    parameters=_parameters,
    check_options=_check_options,
    check_shape=_check_shape,
    size=_size,
    build=_build,
    figure=feature_figure,
)
