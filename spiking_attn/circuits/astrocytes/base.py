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
from dataclasses import asdict, fields

import numpy as np
from brian2 import Equations

# What every model's group declares beside its own dynamics (the head sets resting_normaliser).
READOUT = Equations(
    """
    inverse_normaliser = exp(-depression) / resting_normaliser : 1
    resting_normaliser : 1 (constant)
    """
)


def jacobian(derivatives, state, variables=None):
    """The Jacobian of ``derivatives`` (state -> its time derivatives) at ``state``, by central
    differences, among the state's ``variables`` (indices; default all of them)."""
    variables = list(range(len(state)) if variables is None else variables)
    step = 1e-7 * np.maximum(np.abs(state), 1e-3)
    unit = np.eye(len(state))
    return np.column_stack([(derivatives(state + step[i] * unit[i]) - derivatives(state - step[i] * unit[i]))[variables]
                            / (2 * step[i]) for i in variables])


class ScaledRates:
    """A mixin of a calcium model's parameters (a dataclass with a ``time_scale`` field): ``UNITS`` maps
    the model's constants to their Brian2 units, and those named in ``RATES`` are rates, multiplied by
    ``time_scale``."""

    UNITS = {}
    RATES = ()

    def model(self):
        """The model's constants, rates multiplied by ``time_scale`` (plain floats, uM and s)."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name in self.UNITS}
        return {name: value * self.time_scale if name in self.RATES else value for name, value in values.items()}

    def namespace(self):
        """The Brian2 namespace of the model's equations, with units."""
        return {name: value * self.UNITS[name] for name, value in self.model().items()}


class AstrocyteModel(ABC):
    """An astrocyte model of the softmax head (a module of :mod:`spiking_attn.circuits.astrocytes`).

    Attributes
    ----------
    name : str
        The ``--astrocyte-model`` value.
    description : str
        What it is, for ``--help``.
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
    description = ""
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
