"""Circuit builders: functions that turn a problem and parameters into Brian2 networks.

Each circuit is one module exporting its :class:`~spiking_attn.circuits.base.CircuitKind` as
``KIND``, listed in :mod:`spiking_attn.circuits.registry`; the astrocyte models of the softmax head
are modules of :mod:`spiking_attn.circuits.astrocytes`, listed in its registry.
"""
from .registry import circuit_kind, circuit_kinds, circuit_names

__all__ = ["circuit_kind", "circuit_kinds", "circuit_names"]
