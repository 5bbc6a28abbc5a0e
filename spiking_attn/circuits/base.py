"""The interface every circuit fills in.

A circuit builder is a function ``build_<name>(problem, ..., seed) -> Circuit``; the run layer
(:mod:`spiking_attn.devices`, :mod:`spiking_attn.experiment`) needs nothing else from it. To add
a circuit: write the equations in :mod:`spiking_attn.equations`, a frozen parameters dataclass
derived from :class:`~spiking_attn.circuits.parameters.CommonParameters`, a subclass of
:class:`Circuit` that fills in the members below, a ``synapse_count`` function (for the memory
check before anything is built) and a builder; then register it: a
:class:`~spiking_attn.experiment.NetworkKind` in ``experiment.NETWORK_KINDS`` and its name in
``validation.NETWORKS``.
"""
from abc import ABC, abstractmethod


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
