"""Heterogeneity drawn inside the network, and the homeostatic rules that calibrate it (docs/model.md §7.2).

With heterogeneity h every neuron's threshold, every score neuron's r_score, every dendrite's slope
Delta_u and every release synapse's quantum is its nominal value times 1 + h U(-1, 1), drawn by the
compiled code from the run's seed (:data:`spiking_attn.equations.DRAWN_FACTOR`): no Python code
knows the values, so nothing outside the network can correct them.

Three local rules calibrate the network, each an integral controller of the element's own activity
towards a set point (equations in :mod:`spiking_attn.equations`):

- intrinsic plasticity: each neuron adapts its excitability until its rate is its set point;
- synaptic scaling: each dendrite multiplies every synapse onto it by one factor, until its score
  neurons' summed rate (back-propagated spikes) is the set point of the reference input;
- presynaptic homeostasis: each release synapse adapts its efficacy until its quantum is 1.

The calibration is a simulation of its own (:class:`Homeostasis` with ``calibrate`` > 0), driven by
input that does not depend on any problem: every input neuron fires at the same rate, the key
synapses carry no weight, every value synapse carries one threshold, and the astrocytes are held at
rest. Its first half calibrates the gains (all dendrites at rest, u = 0: a score neuron's rate is then
its gain times r_score); its second half the slopes (a reference afferent holds every dendrite at
u = Delta_u * reference_score, gains frozen). In each half the rules' learning rate is 1, then falls
linearly to 0 (annealing: the last spikes' updates are small, so the state settles on the average).
Its result, the adapted variables, is the calibrated state; a problem's network loads it.
"""
import hashlib
import json
from dataclasses import asdict, dataclass

import brian2
import numpy as np
from brian2 import Equations, Hz, NeuronGroup, Synapses, TimedArray, mV, second

from .. import equations as eq

# The adapted variable of each group (the calibrated state), and its value before any calibration.
ADAPTED = {"input_neurons": ("excitability", 1.0), "inhibitory_neurons": ("excitability", 1.0),
           "score_neurons": ("excitability", 1.0), "dendrites": ("log_scaling", 0.0),
           "attention_neurons": ("excitability", 1.0), "output_neurons": ("excitability", 1.0),
           "release_to_astrocyte": ("efficacy", 1.0)}


@dataclass(frozen=True)
class HomeostasisParameters:
    """Parameters of the homeostatic rules and the calibration protocol (SI units).

    Attributes
    ----------
    tau_homeostasis : float
        Time constant of every rule's integral controller (s) at learning rate 1.
    clip_step : float
        Largest change of log(excitability) at one spike (intrinsic plasticity after a long silence).
    release_step : float
        Fraction of the distance to the set point quantum a release synapse moves at each release.
    reference_score : float
        The score the reference afferent holds every dendrite at while the slopes calibrate.
    reference_rate : float
        Rate of the reference afferent (Hz).
    transient : float
        Seconds after the reference switches on before the slopes adapt (the dendrites settle in 5 tau_d).
    plateau : float
        Fraction of each half at learning rate 1, before it falls linearly to 0.
    schedule_step : float
        Time step of the learning-rate schedule (s).
    """

    tau_homeostasis: float = 0.3
    clip_step: float = 0.5
    release_step: float = 0.2
    reference_score: float = 2.0
    reference_rate: float = 1000.0
    transient: float = 0.2
    plateau: float = 0.3
    schedule_step: float = 0.01


@dataclass(frozen=True)
class Homeostasis:
    """How a head with heterogeneity adapts.

    Attributes
    ----------
    calibrate : float
        Seconds of calibration when this network is the calibration's; 0 for a problem's network.
    state : dict or None
        The calibrated state a problem's network loads (group name -> adapted values); None: uncalibrated
        (every excitability, scaling and efficacy 1).
    plasticity : float
        Learning rate of the rules while a problem runs, relative to the calibration's (0: frozen).
    parameters : HomeostasisParameters
    """

    calibrate: float = 0.0
    state: dict = None
    plasticity: float = 0.0
    parameters: HomeostasisParameters = HomeostasisParameters()

    @property
    def calibrating(self):
        return self.calibrate > 0

    def learning(self, rule):
        """The learning rate of ``rule`` ('gain' or 'slope') in the equations, or None where it is off."""
        if self.calibrating:
            return f"{rule}_learning(t)"
        return "plasticity" if self.plasticity > 0 else None

    def namespace(self, r_score, n_score):
        """The rules' constants (and the calibration's schedule), with units."""
        p = self.parameters
        namespace = {"tau_homeostasis": p.tau_homeostasis * second, "clip_step": p.clip_step,
                     "release_step": p.release_step, "reference_score": p.reference_score,
                     "slope_target_rate": n_score * r_score * np.exp(p.reference_score) * Hz,
                     "transmitting": 0.0 if self.calibrating else 1.0, "plasticity": self.plasticity}
        if self.calibrating:
            namespace.update(schedule(self.calibrate, p), reference_rate=p.reference_rate * Hz)
        return namespace


def calibrating(homeostasis):
    """Whether ``homeostasis`` (a :class:`Homeostasis`, or None for an identical head) is a calibration's."""
    return homeostasis is not None and homeostasis.calibrating


def rules_digest():
    """A short hash of the rules' equations and parameters: a calibrated state made by other rules is another
    network's."""
    text = json.dumps([eq.HETEROGENEOUS_NEURON, eq.INTRINSIC_PLASTICITY, eq.HETEROGENEOUS_DRIVE,
                       eq.HETEROGENEOUS_POISSON_THRESHOLD, eq.HETEROGENEOUS_DENDRITE_MEMBRANE, eq.SCALING_GROWTH,
                       eq.SYNAPTIC_SCALING, str(eq.HETEROGENEOUS_RELEASE), eq.PRESYNAPTIC_HOMEOSTASIS,
                       eq.DRAWN_FACTOR, asdict(HomeostasisParameters()), brian2.__version__])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def schedule(seconds, p):
    """The calibration's TimedArrays: ``gain_learning`` (first half), ``slope_learning`` (second half, after
    the transient) and ``reference`` (1 in the second half); each learning rate is 1 for ``plateau`` of its
    span, then falls linearly to 0."""
    times = np.arange(0.0, seconds, p.schedule_step) + p.schedule_step / 2
    half = seconds / 2

    def annealed(start, stop):
        position = (times - start) / (stop - start)
        ramp = np.clip((1 - position) / (1 - p.plateau), 0, 1)
        return np.where((position >= 0) & (position < 1), ramp, 0.0)

    return {"gain_learning": TimedArray(annealed(0.0, half), dt=p.schedule_step * second),
            "slope_learning": TimedArray(annealed(half + p.transient, seconds), dt=p.schedule_step * second),
            "reference": TimedArray((times >= half).astype(float), dt=p.schedule_step * second)}


def neuron_equations(equations, rate_factor=False):
    """A neuron's equations with its heterogeneity and excitability (``rate_factor``: its r_score is drawn too)."""
    extra = eq.HETEROGENEOUS_NEURON.format(rate_factor="rate_factor" if rate_factor else "1")
    if rate_factor:
        extra += "    rate_factor : 1 (constant)\n"
    return equations + Equations(extra)


def neuron_reset(reset, homeostasis):
    """A neuron's reset, with intrinsic plasticity where the rules are on."""
    learning = homeostasis.learning("gain")
    if learning is None:
        return reset
    plasticity = eq.INTRINSIC_PLASTICITY.format(learning=learning)
    return plasticity if reset is None else f"{reset}\n{plasticity}"


def draw(group, variable, spread):
    """Draw ``group.variable`` = 1 + spread U(-1, 1) in the network (compiled code, from Brian2's seed)."""
    setattr(group, variable, eq.DRAWN_FACTOR.format(spread=repr(float(spread))))


def adapt(group, state, target_rate=None):
    """Set a group's adapted variable from the calibrated state (its initial value where uncalibrated) and its
    set point."""
    variable, initial = ADAPTED[group.name]
    setattr(group, variable, initial if state is None else state[group.name])
    if target_rate is not None:
        group.target_rate = target_rate * Hz
        group.last_spike = -1 * second  # no spike yet


def reference_afferent(dendrites, p, homeostasis):
    """The calibration's reference neuron, and its synapses onto every dendrite: while reference(t) = 1 it
    fires regularly at reference_rate, holding each dendrite at u = Delta_u * reference_score (before the
    dendrite's own slope and scaling)."""
    h = homeostasis.parameters
    reference = NeuronGroup(1, eq.REFERENCE_NEURON, threshold=eq.THRESHOLD, reset=eq.RESET, method="euler",
                            name="reference_neuron")
    synapses = Synapses(reference, dendrites, eq.STATIC_SYNAPSE, on_pre=eq.SCALED_SYNAPSE_ON_PRE,
                        name="reference_synapses")
    synapses.connect(i=np.zeros(len(dendrites), dtype=int), j=np.arange(len(dendrites)))
    synapses.w = p.delta_u * h.reference_score / (h.reference_rate * p.tau_d) * 1e3 * mV
    return [reference, synapses]


def dendrite_membrane(homeostasis):
    """The equations of a dendrite with a drawn slope (its ``{noise}`` left to fill), with synaptic scaling's growth
    where the rules are on."""
    learning = homeostasis.learning("slope")
    log_scaling = eq.SCALING_FROZEN if learning is None else eq.SCALING_GROWTH.format(learning=learning)
    return eq.HETEROGENEOUS_DENDRITE_MEMBRANE.format(log_scaling=log_scaling)


def back_propagation(scores, dendrites, n_score, homeostasis):
    """Synapses that carry each score neuron's spikes back to its dendrite, where synaptic scaling reads them
    (None where the rules are off)."""
    learning = homeostasis.learning("slope")
    if learning is None:
        return None
    synapses = Synapses(scores, dendrites, on_pre=eq.SYNAPTIC_SCALING.format(learning=learning),
                        name="back_propagation")
    synapses.connect(i=np.arange(len(scores)), j=np.arange(len(scores)) // n_score)
    return synapses


def calibrated_state(network):
    """The adapted variables of a network after its calibration: {group name: values}. It reads nothing else."""
    return {obj.name: np.array(getattr(obj, ADAPTED[obj.name][0])[:]) for obj in network.objects
            if obj.name in ADAPTED}
