"""spiking_attn: transformer self-attention from spiking neurons and astrocytes, in Brian2.

Modules
-------
reference   exact softmax attention (NumPy)
problems    seeded random problems, .npz loading and saving
validation  checks of every array and option a user hands in
equations   every model equation, with units and documentation
circuits    builders of the Brian2 networks
devices     targets (cpp_standalone, cython, numpy): build, run, record
decoding    spike counts -> attention, output, normaliser
metrics     errors against exact softmax, as pandas tables
figures     heatmaps, rasters, astrocyte traces
experiment  one run end to end, and writing its results
output      result folders: staging, the marker that recognises them, strict JSON
sweep       declarative sweeps on Dask, runs.parquet and rows.parquet
report      figures and report.md from a sweep
api         run_problem(q, k, v, ...) and run_sweep(config, out) for notebooks (also spiking_attn.run_problem, ...)
cli         the ``spiking-attn`` command

The science (equations and derivations) is in docs/model.md; every bad input and its message in
docs/errors.md.
"""
__version__ = "0.2.0"

from .api import run_problem, run_sweep  # noqa: E402  (light: they import the simulator when called)

__all__ = ["run_problem", "run_sweep"]
