"""Decoding: spike counts in the read window -> attention matrix, output and normaliser.

Every gain is fixed before the run (:class:`~spiking_attn.circuits.HeadParameters` and the
encoding gains chosen when the head is built); no row is renormalised here.

    A_hat[t, j] = n_att[t, j] / (R_att * W)
    y_hat[t, d] = (n_out[t, d, on] - n_out[t, d, off]) / (R_att * c * W)
    Z_hat[t]    = mean of the astrocyte response a_t over the window

with W the length of the read window, R_att the attention rate and c the value gain.
"""
from dataclasses import dataclass

import numpy as np


@dataclass
class Recording:
    """What a run of the head leaves behind, as plain arrays (seconds, dimensionless).

    Attributes
    ----------
    spikes : dict of str -> (ndarray of int, ndarray of float)
        Neuron indices and spike times (s) of the populations ``input``, ``score``,
        ``attention`` and ``output``.
    sizes : dict of str -> int
        Number of neurons in each population.
    astrocyte_times : ndarray, shape (n,)
    astrocyte_response : ndarray, shape (T, n)
        The astrocytes' state a_t(t), sampled every millisecond.
    tokens, value_dim : int
        T and Dv.
    attention_rate : float
        R_att (Hz).
    value_gain : float
        c.
    settle : float
        Start of the read window (s).
    duration : float
        Length of the read window (s).
    """

    spikes: dict
    sizes: dict
    astrocyte_times: np.ndarray
    astrocyte_response: np.ndarray
    tokens: int
    value_dim: int
    attention_rate: float
    value_gain: float
    settle: float
    duration: float


@dataclass(frozen=True)
class Decoded:
    """Decoded attention matrix A_hat (T x T), output y_hat (T x Dv) and normaliser Z_hat (T)."""

    attention: np.ndarray
    output: np.ndarray
    normaliser: np.ndarray
    window: float


def spike_counts(indices, times, size, start, stop):
    """Spikes of each of ``size`` neurons with start <= time < stop."""
    inside = (times >= start) & (times < stop)
    return np.bincount(indices[inside], minlength=size)


def decode(recording, window=None):
    """Decode a recording over the first ``window`` seconds of its read window.

    Parameters
    ----------
    recording : Recording
    window : float, optional
        Length of the counting window in seconds, starting at ``recording.settle``;
        defaults to the whole read window.

    Returns
    -------
    Decoded
    """
    r = recording
    window = r.duration if window is None else window
    if not 0 < window <= r.duration + 1e-12:
        raise ValueError(f"window must lie in (0, {r.duration}] s, got {window}")
    start, stop = r.settle, r.settle + window
    T, Dv = r.tokens, r.value_dim
    n_att = spike_counts(*r.spikes["attention"], r.sizes["attention"], start, stop).reshape(T, T)
    n_out = spike_counts(*r.spikes["output"], r.sizes["output"], start, stop).reshape(T, Dv, 2)
    attention = n_att / (r.attention_rate * window)
    output = (n_out[..., 0] - n_out[..., 1]) / (r.attention_rate * r.value_gain * window)
    in_window = (r.astrocyte_times >= start) & (r.astrocyte_times < stop)
    normaliser = r.astrocyte_response[:, in_window].mean(axis=1)
    return Decoded(attention=attention, output=output, normaliser=normaliser, window=window)
