"""The registry of circuit kinds: network name -> the module that implements it.

Like Brian2's ``all_devices``, the code that looks a kind up never imports an implementation: each
module is imported when its kind is first asked for, and exports its
:class:`~spiking_attn.circuits.base.CircuitKind` as ``KIND``. Adding a circuit is one module and one
line here (docs/developing.md); the first line is the default network.
"""
import importlib

CIRCUITS = {
    "softmax": "spiking_attn.circuits.softmax_head",
    "random-features": "spiking_attn.circuits.random_features",
}
DEFAULT_NETWORK = next(iter(CIRCUITS))


def circuit_names():
    """The registered network names, the default first."""
    return tuple(CIRCUITS)


def circuit_kind(name):
    """The :class:`~spiking_attn.circuits.base.CircuitKind` registered as ``name`` (KeyError if none)."""
    return importlib.import_module(CIRCUITS[name]).KIND


def circuit_kinds():
    """Every registered kind, the default first."""
    return tuple(circuit_kind(name) for name in CIRCUITS)
