"""The interface of the softmax head's astrocyte models, and the equations they share.

One astrocyte per query row closes the loop that normalises the row (docs/model.md §3.4): every
release at the row's tripartite synapses reaches it (the release synapse's ``on_pre``, with the
synapse's own ``spread`` of the release quantum), and its ``depression`` c_t shunts every dendrite of
the row. A model is a sensor and an integral controller: c_t is bounded only where the row releases
at its set point R_set,t on average, so at steady state exp(c_t) = Z_t / Z0_t whatever the sensor's
response curve, as long as it is monotonic and does not oscillate. Every model's group has the
variables the head reads::

    depression : 1                          c_t, linked into the row's dendrites
    inverse_normaliser = exp(-depression) / resting_normaliser : 1     recorded (decoded Z_t)
    resting_normaliser : 1 (constant)       Z0_t = R_set,t / (n_score r_score), set by the head
"""
from abc import ABC, abstractmethod
from dataclasses import asdict

from brian2 import Equations

# What every model's group declares beside its own dynamics (the head sets resting_normaliser).
READOUT = Equations(
    """
    inverse_normaliser = exp(-depression) / resting_normaliser : 1
    resting_normaliser : 1 (constant)
    """
)
# The calcium models' gliotransmission: the depression integrates the relative Ca2+ error,
# dc_t/dt = kappa_g (C - C_set) / C_set (C_set: the resting Ca2+ at the sensor's set point).
CALCIUM_INTEGRAL = Equations("ddepression/dt = gliotransmission_rate * (C - C_set) / C_set : 1")


class AstrocyteModel(ABC):
    """An astrocyte model of the softmax head (a module of :mod:`spiking_attn.circuits.astrocytes`).

    Attributes
    ----------
    name : str
        The ``--astrocyte-model`` value.
    title : str
        Its name in progress lines ("G-ChI"); empty for the default.
    blockable : bool
        Whether ``--astrocyte off`` can block it (the ablation: nothing reaches it and its depression
        stays 0); a calcium sensor has no meaning without the loop.
    parameters : frozen dataclass or None
        The model's own parameters (with a ``settle`` field), recorded in summary.json under
        :attr:`summary_key`.
    summary_key : str
        The summary.json key of its parameters.
    """

    name = None
    title = ""
    blockable = False
    summary_key = None

    def __init__(self, parameters=None):
        self.parameters = parameters

    def settle(self, head):
        """Settling time (s) before the read window, given the head's parameters."""
        return self.parameters.settle

    @abstractmethod
    def with_settle(self, settle):
        """The same model with the settling time ``settle`` (s)."""

    @abstractmethod
    def namespace(self, head):
        """The Brian2 namespace of its equations (constants with units)."""

    @abstractmethod
    def group(self, set_point, head, feedback):
        """The astrocytes of rows whose set points R_set,t (Hz, an array) are ``set_point``, at their
        resting state; ``feedback`` False blocks the loop (only if :attr:`blockable`).

        Returns
        -------
        (brian2.NeuronGroup, str)
            The group (named ``astrocytes``) and the ``on_pre`` of the release synapses onto it.
        """

    def summary(self):
        """Its parameters for summary.json and the build cache's key."""
        return {} if self.summary_key is None else {self.summary_key: asdict(self.parameters)}

    def describe(self):
        """Its part of the head's progress line."""
        return f" ({self.title} astrocytes)" if self.title else ""
