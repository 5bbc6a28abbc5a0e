"""The spiking associative memory (docs/model.md §8): the softmax head with keys = values = the stored patterns,
its output neurons closing the loop onto its own dendrites, so that the dense associative memory's iteration
x <- Xi^T softmax(beta Xi x) runs inside the network until it reaches a fixed point.

Every cue is a row of the head (its own dendrites, score, attention and output neurons and astrocyte), all
read at once. The protocol has two phases, switched by TimedArrays:

- *cue* (``cue_seconds``): the cue's on/off input neurons fire at input_rate max(+-x_i, 0) and drive the
  dendrites through the key synapses (weights +-beta sqrt(N) xi_mu,i, so that a dendrite holds the score
  beta xi_mu . x); the loop is open;
- *loop* (``loop_seconds``): the input neurons fall silent and the output neurons (rate difference
  R_att x_i) drive the same dendrites through feedback synapses with the same weights over R_att: the
  dendrite of memory mu relaxes to beta xi_mu . x, the astrocyte normalises the row, the attention neurons
  fire at R_att softmax(beta Xi x)_mu and the outputs at R_att (Xi^T softmax(beta Xi x))_i.

The memories live in synapses (key and value weights), not in the astrocyte's couplings as in the paper's
neuron-astrocyte memory: one astrocyte per row supplies the normalisation that makes the softmax, as in the
head, and a memory costs 6 N synapses per cue row (key, feedback and value) instead of the paper's N^2 process
couplings.
"""
from dataclasses import asdict, dataclass, field, replace

import numpy as np
from brian2 import Network, NeuronGroup, SpikeMonitor, StateMonitor, TimedArray, mV, second

from .. import equations as eq
from ..decoding import Recording, trace_every_millisecond
from ..problems import Problem, phase_generator
from .astrocytes import DEFAULT_MODEL
from .astrocytes import astrocyte_model as default_astrocyte_model
from .base import Circuit
from .monitoring import spike_trains
from .softmax_head import (
    Builder,
    HeadParameters,
    Pairs,
    Variability,
    encoding_gains,
    key_synapses,
    readout,
    row_astrocytes,
    score_pathway,
)


@dataclass(frozen=True)
class MemoryParameters(HeadParameters):
    """The head's parameters, with the memory's own rates and phases (SI units).

    Attributes
    ----------
    cue_seconds : float
        The cue phase (s): 5 tau_d, so the dendrites hold the cue's scores within 1 %.
    loop_seconds : float
        The closed loop (s), the read window at its end included.
    read_seconds : float
        The read window at the end of the loop (s), where the retrieved state is counted.
    attention_rate_min, attention_rate_max : float
        R_att of every row (Hz): 2000 Hz. The feedback costs P N R_att synaptic events per row and second; fewer
        spikes make the fed-back state noisier, and near the capacity a noisy loop loses a retrieved memory that
        the rate model keeps (N = 64, P = 112: 0.86 of the cues retrieved at 500 Hz, 0.96 at 1000 and 2000 Hz,
        against 0.98 in the rate model).
    loop_margin : float
        The astrocyte's recovery rate kappa is this times (beta N - 1) / tau_d, the rate at which the closed
        loop would run away without it (:meth:`for_memory`).
    """

    cue_seconds: float = 0.2
    loop_seconds: float = 0.6
    read_seconds: float = 0.2
    attention_rate_min: float = 2000.0
    attention_rate_max: float = 2000.0
    loop_margin: float = 2.0

    def for_memory(self, patterns, beta):
        """The parameters for ``patterns`` (P x N) at ``beta``: the set point at its cap n_score / (2 dt) for every P
        (r_score = 1 / (2 dt P)), and kappa = loop_margin (beta N - 1) / tau_d.

        The loop's output scales with the row's release rate R (its outputs fire at R_att x R / R_set), and the
        retrieved memory's score is beta N x: linearised, a relative excess r of R raises that score by beta N r
        within tau_d, so r grows at (beta N - 1) / tau_d unless the astrocyte's depression c climbs faster. The
        2 x 2 system (score, c) is stable for kappa > (beta N - 1) / tau_d. The depression's quantum is
        kappa / R_set, so the set point is as high as it can be. beta N is fixed by the patterns' range (+-1)
        and beta; nothing here depends on a cue."""
        count, size = patterns.shape
        rate = 1.0 / (2 * self.dt * count)
        return replace(self, r_score=rate, feedback_rate=self.loop_margin * max(beta * size - 1, 1.0) / self.tau_d)


@dataclass
class SpikingMemory(Circuit):
    """A built memory: its network, the problem it was built from (queries = cues, keys = beta sqrt(N) Xi,
    values = Xi) and the objects the decoder reads."""

    network: Network
    problem: Problem
    parameters: MemoryParameters
    pairs: Pairs
    namespace: dict
    monitors: dict = field(default_factory=dict)

    encoding_population = "score"

    @property
    def duration(self):
        return self.parameters.cue_seconds + self.parameters.loop_seconds

    def structure(self):
        p = self.problem
        return {"network": "memory", "cues": p.tokens, "patterns": p.key_tokens, "size": p.dim,
                "parameters": asdict(self.parameters)}

    def summary(self):
        return {"network": "memory", "cue_seconds": self.parameters.cue_seconds,
                "loop_seconds": self.parameters.loop_seconds, "read_seconds": self.parameters.read_seconds,
                "simulated_seconds": self.duration, "parameters": asdict(self.parameters)}

    def describe(self):
        p = self.problem
        neurons = sum(len(monitor.source) for monitor in self.monitors.values())
        return (f"spiking associative memory: {neurons} neurons and astrocytes, {p.key_tokens} patterns of "
                f"{p.dim}, {p.tokens} cues; {self.parameters.cue_seconds:g} s cue + "
                f"{self.parameters.loop_seconds:g} s closed loop")

    def recording(self):
        m, p = self.monitors, self.parameters
        rows, size = self.pairs.keys.size, self.problem.dim
        times, response = trace_every_millisecond(m["astrocyte"].t[:] / second, m["astrocyte"].inverse_normaliser[:],
                                                  p.dt)
        spikes, sizes = spike_trains(m, ("input", "score", "attention", "output"))
        end = self.duration
        return Recording(spikes=spikes, sizes=sizes, astrocyte_times=times, astrocyte_response=response,
                         inverse_response=True, windows=np.tile([end - p.read_seconds, end], (rows, 1)),
                         attention_neurons=self.pairs.index,
                         output_neurons=np.arange(rows * size * 2).reshape(rows, size, 2),
                         astrocyte_of_row=np.arange(rows), attention_rate=p.attention_rate(self.pairs.keys),
                         value_gain=1.0, phases={"cue": (0.0, p.cue_seconds), "loop": (p.cue_seconds, end)})


def _cue_neurons(cues, p, rng):
    """The cues' on/off input neurons (cue t, entry i, on/off) -> index (t N + i) 2 + sign, firing at input_rate
    max(+-x_i, 0) during the cue phase and silent after it (a TimedArray drive)."""
    rates = (p.input_rate * eq.on_off(cues)).ravel()
    drive = eq.input_drive(rates, p.tau_in, p.v_theta)
    input_drive = TimedArray(np.stack([drive, np.zeros_like(drive)]) * 1e3 * mV, dt=p.cue_seconds * second)
    inputs = NeuronGroup(rates.size, eq.INPUT_NEURON + eq.TIMED_DRIVE, threshold=eq.THRESHOLD, reset=eq.INPUT_RESET,
                         method="exact", name="input_neurons")
    inputs.v = rng.uniform(0, 1, rates.size) * p.v_theta * 1e3 * mV
    return inputs, input_drive


def _feedback(outputs, dendrites, keys, pairs, p):
    """The loop: output (row, i, on/off) -> the row's dendrite of memory mu, weight +-k_mu,i Delta_u / (sqrt(N)
    R_att tau_d), transmitted once loop(t) = 1: a dendrite then relaxes to Delta_u k_mu . x / sqrt(N)."""
    size = keys.shape[1]
    pair, i_, s_ = np.meshgrid(np.arange(pairs.count), np.arange(size), np.arange(2), indexing="ij")
    rate = p.attention_rate(pairs.keys)[pairs.row[pair]]
    weight = ((1.0 - 2.0 * s_) * keys[pairs.key[pair], i_] * p.delta_u / (np.sqrt(size) * rate * p.tau_d)).ravel()
    source = ((pairs.row[pair] * size + i_) * 2 + s_).ravel()
    return key_synapses(outputs, dendrites, source, pair.ravel(), weight, np.ones(weight.size, bool),
                        eq.LOOP_SYNAPSE_ON_PRE, "feedback_synapses")


def build_memory(patterns, cues, beta, parameters=MemoryParameters(), seed=0):
    """Build the spiking memory of ``patterns`` (P x N, +-1) that retrieves from each of ``cues`` (C x N).

    Parameters
    ----------
    patterns : ndarray, shape (P, N)
    cues : ndarray, shape (C, N)
    beta : float
        Inverse temperature: the dendrite of memory mu holds beta xi_mu . x (keys beta sqrt(N) xi_mu).
    parameters : MemoryParameters
    seed : int
        Seed of the initial membrane potentials (phases).

    Returns
    -------
    SpikingMemory
    """
    p = parameters.for_memory(patterns, beta)
    size = patterns.shape[1]
    keys = beta * np.sqrt(size) * patterns
    problem = Problem(q=cues, k=keys, v=patterns, name="memory")
    b = Builder(p, phase_generator(seed), Variability())
    pairs = Pairs.of(1, cues.shape[0], patterns.shape[0], False)
    input_gain = encoding_gains(np.array([1.0]), p.input_rate)
    inputs, input_drive = _cue_neurons(cues, p, b.rng)
    dendrites, key_objects, scores = score_pathway(keys[None], np.ones(len(keys), bool), pairs, inputs, input_gain, b)
    attention, synapses, outputs = readout(patterns[None], pairs, scores, np.ones(1), b)
    model = default_astrocyte_model(DEFAULT_MODEL)
    astrocytes = row_astrocytes(pairs, dendrites, scores, True, model, b)
    feedback = _feedback(outputs, dendrites, keys, pairs, p)
    monitors = {"input": SpikeMonitor(inputs, name="input_spikes"), "score": SpikeMonitor(scores, name="score_spikes"),
                "attention": SpikeMonitor(attention, name="attention_spikes"),
                "output": SpikeMonitor(outputs, name="output_spikes"),
                "astrocyte": StateMonitor(astrocytes[0], "inverse_normaliser", record=True, name="astrocyte_trace")}
    network = Network(inputs, dendrites, *key_objects, scores, *astrocytes, attention, *synapses, outputs, feedback,
                      *monitors.values())
    namespace = {**p.namespace(), **model.namespace(p), "input_drive": input_drive,
                 "loop": TimedArray(np.array([0.0, 1.0]), dt=p.cue_seconds * second)}
    return SpikingMemory(network=network, problem=problem, parameters=p, pairs=pairs, namespace=namespace,
                         monitors=monitors)


def synapse_count(cues, patterns, size, parameters=MemoryParameters()):
    """Synapses of a memory of ``patterns`` patterns of ``size`` entries with ``cues`` cues: per (cue, pattern)
    2 N key, 2 N feedback and 2 N value synapses, n_score tripartite and n_score release synapses."""
    return cues * patterns * (6 * size + 2 * parameters.n_score)
