"""The softmax head's astrocyte models: one module each, listed here.

Each module exports its :class:`~spiking_attn.circuits.astrocytes.base.AstrocyteModel` (with its
default parameters) as ``MODEL``; a model is imported when it is first asked for. Adding a model is
one module and one line here (docs/developing.md); the first line is the default.
"""
import importlib

MODELS = {
    "integral": "spiking_attn.circuits.astrocytes.integral",
    "gchi": "spiking_attn.circuits.astrocytes.gchi",
    "li-rinzel": "spiking_attn.circuits.astrocytes.li_rinzel",
}
DEFAULT_MODEL = next(iter(MODELS))


def astrocyte_model(name):
    """The model registered as ``name``, with its default parameters (KeyError if none)."""
    return importlib.import_module(MODELS[name]).MODEL
