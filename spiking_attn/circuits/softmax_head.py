"""The exact-softmax neuron-astrocyte attention head (docs/model.md §3), built in Brian2.

All T query rows are read in parallel: row t has its own input neurons (query q_t), its own
score neurons (one small population per key j), one astrocyte, T attention neurons and 2 Dv
output neurons. The equations are in :mod:`spiking_attn.equations`.
"""
from dataclasses import asdict, dataclass, field

import numpy as np
from brian2 import (
    Hz,
    Network,
    NeuronGroup,
    SpikeMonitor,
    linked_var,
    StateMonitor,
    Synapses,
    mV,
    second,
)

from .. import equations as eq
from ..decoding import Recording, trace_every_millisecond
from ..problems import Problem
from .monitoring import spike_trains
from .parameters import CommonParameters


@dataclass(frozen=True)
class HeadParameters(CommonParameters):
    """Parameters of the softmax head, beside :class:`CommonParameters` (SI units).

    Attributes
    ----------
    settle : float
        Settling time before the read (counting) window (s): dendrites reach the scores
        (5 tau_d) and the astrocytes their normaliser (5 tau_a).
    tau_d : float
        Time constant of the score neurons' passive dendrite (s).
    r_score : float
        Rate of one score neuron at score 0 (Hz): rate = r_score * exp(u / delta_u). Scores
        above ln(1 / (2 dt r_score)) (5.5 by default) saturate.
    n_score : int
        Score neurons per (query, key) pair; their somata start at different phases. With
        n_score * r_score fixed (the pair's spike budget), fewer, faster neurons count more
        precisely and cost less per time step, but saturate at lower scores.
    attention_rate : float
        R_att, the summed rate of one row of attention neurons when normalised (Hz); the
        decoded attention is count / (R_att * window).
    """

    settle: float = 0.5
    tau_d: float = 40e-3
    r_score: float = 20.0
    n_score: int = 4
    attention_rate: float = 1000.0

    @property
    def w_att(self):
        """Tripartite weight (V) so that a row of attention neurons fires at R_att in total."""
        return self.attention_rate * self.v_theta / (self.n_score * self.r_score)

    @property
    def release_quantum(self):
        """J, the astrocyte's response to one release, 1 / (n_score r_score tau_a)."""
        return 1.0 / (self.n_score * self.r_score * self.tau_a)

    @property
    def a_half(self):
        """Half the astrocyte's response to one release, J / 2."""
        return 0.5 * self.release_quantum

    def namespace(self):
        """The Brian2 namespace of the head's equations, with units."""
        return {
            "v_theta": self.v_theta * 1e3 * mV,
            "tau_in": self.tau_in * second,
            "tau_d": self.tau_d * second,
            "delta_u": self.delta_u * 1e3 * mV,
            "r_score": self.r_score * Hz,
            "release_quantum": self.release_quantum,
            "tau_a": self.tau_a * second,
            "w_att": self.w_att * 1e3 * mV,
            "a_half": self.a_half,
        }


@dataclass
class SoftmaxHead:
    """A built head: its Brian2 network, the objects the decoder reads, and the decoding gains.

    Attributes
    ----------
    network : brian2.Network
    problem : Problem
    parameters : HeadParameters
    astrocyte : bool
        Whether gliotransmission (the 1/a gate) is on; the astrocytes integrate either way.
    input_gain : float
        g_in, input rate per unit |q| (Hz).
    value_gain : float
        c, output rate per unit y, as a fraction of R_att.
    duration : float
        Read window (s); the simulation lasts ``parameters.settle + duration``.
    monitors : dict
        SpikeMonitors ``input``, ``score``, ``attention``, ``output`` and the StateMonitor
        ``astrocyte`` (variable ``a``).
    """

    network: Network
    problem: Problem
    parameters: HeadParameters
    astrocyte: bool
    input_gain: float
    value_gain: float
    read_seconds: float
    monitors: dict = field(default_factory=dict)

    encoding_population = "score"

    def structure(self):
        """Everything that shapes the generated code (the input values do not)."""
        p = self.problem
        return {"network": "softmax", "tokens": p.tokens, "dim": p.dim, "value_dim": p.value_dim,
                "astrocyte": self.astrocyte, "read_seconds": self.read_seconds, "parameters": asdict(self.parameters)}

    def summary(self):
        """Settings for ``summary.json``."""
        return {
            "network": "softmax",
            "settle_seconds": self.parameters.settle,
            "read_seconds": self.read_seconds,
            "simulated_seconds": self.duration,
            "parameters": asdict(self.parameters),
        }

    @property
    def duration(self):
        """Simulated seconds: settling plus the read window."""
        return self.parameters.settle + self.read_seconds

    @property
    def namespace(self):
        return self.parameters.namespace()

    def describe(self):
        sizes = {name: len(monitor.source) for name, monitor in self.monitors.items()}
        p = self.problem
        return (f"softmax head: {sum(sizes.values())} neurons and astrocytes, T={p.tokens}, D={p.dim}, "
                f"Dv={p.value_dim}; {self.parameters.settle:g} s settling + {self.read_seconds:g} s read")

    def recording(self):
        """The monitors' contents as a :class:`~spiking_attn.decoding.Recording`."""
        m = self.monitors
        T, Dv = self.problem.tokens, self.problem.value_dim
        settle, end = self.parameters.settle, self.duration
        populations = ("input", "score", "attention", "output")
        times, response = trace_every_millisecond(m["astrocyte"].t[:] / second, m["astrocyte"].a[:],
                                                  self.parameters.dt)
        spikes, sizes = spike_trains(m, populations)
        return Recording(
            spikes=spikes,
            sizes=sizes,
            astrocyte_times=times,
            astrocyte_response=response,
            windows=np.tile([settle, end], (T, 1)),
            attention_neurons=np.arange(T * T).reshape(T, T),
            output_neurons=np.arange(T * Dv * 2).reshape(T, Dv, 2),
            astrocyte_of_row=np.arange(T),
            attention_rate=self.parameters.attention_rate,
            value_gain=self.value_gain,
            phases={"settling": (0.0, settle), "reading": (settle, end)},
        )


def synapse_count(tokens, dim, value_dim, parameters=HeadParameters()):
    """Synapses of the head for a problem of that shape: per (query, key) pair 2 D key synapses,
    n_score tripartite, release and gate synapses each, and 2 Dv value synapses."""
    return tokens * tokens * (2 * dim + 3 * parameters.n_score + 2 * value_dim)


def build_softmax_head(problem, parameters=HeadParameters(), astrocyte=True, seed=0, duration=1.5):
    """Build the Brian2 network of a softmax head for ``problem``.

    Parameters
    ----------
    problem : Problem
        Queries, keys and values (T x D, T x D, T x Dv).
    parameters : HeadParameters
    astrocyte : bool
        With False, gliotransmission is blocked: every tripartite gate stays at 1/T (the
        astrocyte's resting value for uniform attention) while the astrocytes still integrate.
    seed : int
        Seed of the initial membrane potentials (phases), drawn here with NumPy so that every
        target starts from the same state.
    duration : float
        Read window (s), after ``parameters.settle`` s of settling.

    Returns
    -------
    SoftmaxHead
    """
    p = parameters
    T, D, Dv, P = problem.tokens, problem.dim, problem.value_dim, p.n_score
    rng = np.random.default_rng(seed)
    v_theta = p.v_theta * 1e3 * mV

    # Input neurons: (t, i, on/off) -> index (t * D + i) * 2 + sign.
    q_max = np.abs(problem.q).max()
    input_gain = p.input_rate / q_max if q_max > 0 else p.input_rate
    rates = input_gain * eq.on_off(problem.q).ravel()
    inputs = NeuronGroup(T * D * 2, eq.INPUT_NEURON + eq.CONSTANT_DRIVE, threshold=eq.THRESHOLD, reset=eq.INPUT_RESET,
                         method="exact", name="input_neurons")
    inputs.v_drive = eq.input_drive(rates, p.tau_in, p.v_theta) * 1e3 * mV
    inputs.v = rng.uniform(0, 1, T * D * 2) * v_theta

    # Dendrites of the (query, key) pairs: (t, j) -> index t * T + j. They decay after the
    # somata have read them (order=1), so the somata sample u right after the synaptic jumps,
    # where its time-step mean equals the continuous-time mean (Euler decay).
    dendrites = NeuronGroup(T * T, eq.DENDRITE, method="euler", order=1, name="dendrites")

    # Score neurons: (t, j, member) -> index (t * T + j) * P + member, on the dendrite of (t, j).
    scores = NeuronGroup(T * T * P, eq.SCORE_NEURON, threshold=eq.THRESHOLD, reset=eq.RESET,
                         method="euler", name="score_neurons")
    scores.current = linked_var(dendrites, "current", index=np.arange(T * T * P) // P)
    scores.v = rng.uniform(0, 1, T * T * P) * v_theta

    # Key synapses: input (t, i, sign) -> the dendrite of every pair (t, j) of the same query.
    t_, i_, s_, j_ = np.meshgrid(np.arange(T), np.arange(D), np.arange(2), np.arange(T), indexing="ij")
    key_pre = ((t_ * D + i_) * 2 + s_).ravel()
    key_post = (t_ * T + j_).ravel()
    sign = 1.0 - 2.0 * s_
    key_weight = sign * problem.k[j_, i_] / (np.sqrt(D) * input_gain * p.tau_d) * p.delta_u
    keys = Synapses(inputs, dendrites, eq.STATIC_SYNAPSE, on_pre=eq.KEY_SYNAPSE_ON_PRE, name="key_synapses")
    keys.connect(i=key_pre, j=key_post)
    keys.w = key_weight.ravel() * 1e3 * mV

    # Attention neurons (t, j) -> index t * T + j, reached through tripartite synapses.
    attention = NeuronGroup(T * T, eq.INTEGRATOR_NEURON, threshold=eq.THRESHOLD, reset=eq.RESET,
                            name="attention_neurons")
    attention.v = rng.uniform(0, 1, T * T) * v_theta
    tripartite = Synapses(scores, attention, eq.TRIPARTITE_SYNAPSE, on_pre=eq.TRIPARTITE_SYNAPSE_ON_PRE,
                          method="euler", name="tripartite_synapses")
    score_index = np.arange(T * T * P)
    tripartite.connect(i=score_index, j=score_index // P)
    tripartite.gate = 1.0 / T

    # Astrocytes: one per query row, ensheathing that row's T * P tripartite synapses
    # (synapse s belongs to row s // (T * P)); each release there reaches the astrocyte.
    astrocytes = NeuronGroup(T, eq.ASTROCYTE, method="exact", name="astrocytes")
    astrocytes.a = float(T)
    astrocyte_of_synapse = score_index // (T * P)
    release_to_astrocyte = Synapses(scores, astrocytes, on_pre=eq.RELEASE_TO_ASTROCYTE_ON_PRE,
                                    name="release_to_astrocyte")
    release_to_astrocyte.connect(i=score_index, j=astrocyte_of_synapse)
    objects = [inputs, dendrites, scores, keys, attention, tripartite, astrocytes, release_to_astrocyte]
    if astrocyte:
        astrocyte_to_synapse = Synapses(astrocytes, tripartite, eq.GATE_TO_SYNAPSE,
                                        name="astrocyte_to_synapse")
        astrocyte_to_synapse.connect(i=astrocyte_of_synapse, j=score_index)
        objects.append(astrocyte_to_synapse)

    # Output neurons (t, d, on/off) -> index (t * Dv + d) * 2 + sign, fed by attention (t, j)
    # with weight v_theta * c * max(+-v_jd, 0).
    v_max = np.abs(problem.v).max()
    value_gain = 1.0 / v_max if v_max > 0 else 1.0
    outputs = NeuronGroup(T * Dv * 2, eq.INTEGRATOR_NEURON, threshold=eq.THRESHOLD, reset=eq.RESET,
                          name="output_neurons")
    outputs.v = rng.uniform(0, 1, T * Dv * 2) * v_theta
    t_, j_, d_, s_ = np.meshgrid(np.arange(T), np.arange(T), np.arange(Dv), np.arange(2), indexing="ij")
    value_pre = (t_ * T + j_).ravel()
    value_post = ((t_ * Dv + d_) * 2 + s_).ravel()
    value_weight = p.v_theta * value_gain * eq.on_off(problem.v)[j_, d_, s_]
    values = Synapses(attention, outputs, eq.STATIC_SYNAPSE, on_pre=eq.VALUE_SYNAPSE_ON_PRE,
                      name="value_synapses")
    values.connect(i=value_pre, j=value_post)
    values.w = value_weight.ravel() * 1e3 * mV

    monitors = {
        "input": SpikeMonitor(inputs, name="input_spikes"),
        "score": SpikeMonitor(scores, name="score_spikes"),
        "attention": SpikeMonitor(attention, name="attention_spikes"),
        "output": SpikeMonitor(outputs, name="output_spikes"),
        "astrocyte": StateMonitor(astrocytes, "a", record=True, name="astrocyte_trace"),
    }
    network = Network(*objects, values, outputs, *monitors.values())
    return SoftmaxHead(network=network, problem=problem, parameters=p, astrocyte=astrocyte,
                       input_gain=input_gain, value_gain=value_gain, read_seconds=duration, monitors=monitors)
