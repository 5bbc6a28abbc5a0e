"""spiking_attn: transformer self-attention from spiking neurons and astrocytes, in Brian2.

Modules
-------
reference   exact softmax attention (NumPy)
problems    seeded random problems and .npz loading
equations   every model equation, with units and documentation
circuits    builders of the Brian2 networks
devices     targets (cpp_standalone, cython, numpy): build, run, record
decoding    spike counts -> attention, output, normaliser
metrics     errors against exact softmax, as pandas tables
figures     heatmaps, rasters, astrocyte traces
experiment  one run end to end, and writing its results
cli         the ``spiking-attn`` command
"""
__version__ = "0.1.0"
