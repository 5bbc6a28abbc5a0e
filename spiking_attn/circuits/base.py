"""The interface every circuit fills in: a built :class:`Circuit`, and the :class:`CircuitKind` its
module exports as ``KIND``.

The run layer (:mod:`spiking_attn.devices`, :mod:`spiking_attn.experiment`) and the front ends know
a circuit only through its kind, looked up by name in :mod:`spiking_attn.circuits.registry`; no
other module names a network. docs/developing.md has the recipe for adding one.
"""
from abc import ABC, abstractmethod
from dataclasses import dataclass, field


class Circuit(ABC):
    """A built circuit: its Brian2 network and what the run layer reads from it.

    Attributes (fields or properties of the subclass)
    ---------------------------------------------------
    network : brian2.Network
        Every object to simulate, monitors included.
    problem : Problem
    parameters : CommonParameters subclass
    duration : float
        Simulated seconds.
    namespace : dict
        The Brian2 namespace of the circuit's equations (constants with units, TimedArrays).
    monitors : dict
        The Brian2 monitors :meth:`recording` reads.
    encoding_population : str
        The population whose saturation (one spike per time step) biases the result; the run
        warns (``saturated``) when its busiest neuron fires above 1 / (2 dt).
    rate_model : object, optional
        The circuit's own rate model, where it has one (what :meth:`metrics` compares with).
    """

    encoding_population = None

    @abstractmethod
    def structure(self):
        """A JSON-able dict of everything that shapes the generated code (the build cache's key);
        values that the network reads from arrays (weights, gains, drives) do not belong in it."""

    @abstractmethod
    def summary(self):
        """Settings of the run for ``summary.json`` (network, phases, parameters)."""

    @abstractmethod
    def describe(self):
        """One line for the progress output: sizes and phases."""

    @abstractmethod
    def recording(self):
        """The monitors' contents as a :class:`~spiking_attn.decoding.Recording`."""

    def metrics(self, exact, decoded):
        """Metrics of this circuit beside the attention metrics every run has (a dict of floats)."""
        return {}

    def arrays(self):
        """Arrays of this circuit saved in ``attention.npz`` beside the exact and decoded ones."""
        return {}


@dataclass(frozen=True)
class Calibrator:
    """How a circuit calibrates itself (:mod:`spiking_attn.calibration`).

    Attributes
    ----------
    identity : callable
        (problem, options, parameters) -> a JSON-able dict of what a calibrated state belongs to: the network
        (shape, seed, heterogeneity...), never the problem's arrays.
    build : callable
        (problem, options, parameters) -> the calibration, a :class:`Circuit` built on the network of
        ``problem``'s shape and driven by no problem; its recording's ``state`` is the calibrated state.
    """

    identity: object
    build: object


@dataclass(frozen=True)
class CircuitKind:
    """What the run layer and the front ends know of a circuit.

    Attributes
    ----------
    name : str
        The ``--network`` value.
    description : str
        One line for ``--help``.
    options : tuple of Option
        The run options only this circuit takes (declared in its module); given with another
        circuit they are refused.
    defaults : dict
        This circuit's own defaults of options every run has (``duration``, ``score_sd``).
    parameters : callable
        (options, parameters or None) -> the parameters to build with.
    check_options : callable
        (options) -> None, or InputError for a combination of options the circuit cannot take.
    check_shape : callable
        (heads, T_q, T_k) -> None, or InputError for a problem shape it cannot take.
    calibration : Calibrator or None
        How the circuit calibrates itself, where it can (``--calibrate``).
    size : callable
        (options, heads, T_q, T_k, D, Dv, parameters) -> (synapse count, a label for the error).
    build : callable
        (problem, options, parameters) -> a built :class:`Circuit`; with a calibrator also
        ``calibration=`` the calibrated state to load.
    figure : callable
        (result) -> the matplotlib figure of ``attention.png``.
    """

    name: str
    description: str
    parameters: object
    build: object
    size: object
    figure: object
    options: tuple = ()
    defaults: dict = field(default_factory=dict)
    check_options: object = lambda options: None
    check_shape: object = lambda heads, tokens, key_tokens: None
    calibration: Calibrator = None
