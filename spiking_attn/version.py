"""The version of spiking_attn (written into result markers, cache keys and sweep folders)."""
__version__ = "0.3.0"
