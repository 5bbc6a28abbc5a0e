"""spiking_attn: transformer self-attention from spiking neurons and astrocytes, in Brian2.

Layers, bottom to top (imports only go down; ``lint-imports`` checks it, docs/developing.md draws it):

science     errors, option (how run options are declared), validation (array checks), reference
            (exact softmax), problems, equations, decoding, metrics, features, encoder, output
            (result folders), figures
circuits    the circuit kinds and their registry (softmax_head, random_features), the astrocyte
            models and theirs (circuits/astrocytes)
devices     targets (cpp_standalone, cuda_standalone, cython, numpy): build, run, record; cache
experiment  the options of a run, one run end to end, writing its results
front ends  arguments (the `run` flags), workers, server, sweep, report, transformer, api, cli, launch

The science (equations and derivations) is in docs/model.md; every bad input and its message in
docs/errors.md.
"""
from .version import __version__

__all__ = ["__version__", "run_problem", "run_sweep", "simulate_problem"]


def __getattr__(name):
    """The API's functions, imported when first used (importing them imports the simulator)."""
    if name in ("run_problem", "run_sweep", "simulate_problem"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'spiking_attn' has no attribute {name!r}")
