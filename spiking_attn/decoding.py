"""Decoding: spike counts in each query's read window -> attention matrix, output, normaliser.

Every gain is fixed before the run (the circuit's parameters and the encoding gains chosen when
it is built); no row is renormalised here. For query row t with read window of length W:

    A_hat[t, j] = n(attention neuron of (t, j)) / (R_att * W)
    y_hat[t, d] = (n(output (t, d, on)) - n(output (t, d, off))) / (R_att * c * W)
    Z_hat[t]    = mean response of row t's astrocyte over the window

with R_att the attention rate (the rate of a neuron carrying attention weight 1) and c the value
gain. The softmax head reads all rows at once with its own neurons per row; the random-feature
network reads the rows one after another with the same neurons, each in its own window.
"""
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Recording:
    """What a run leaves behind, as plain arrays (seconds, dimensionless).

    Attributes
    ----------
    spikes : dict of str -> (ndarray of int, ndarray of float)
        Neuron indices and spike times (s) of each recorded population (``attention`` and
        ``output`` always, others for rasters).
    sizes : dict of str -> int
        Number of neurons in each recorded population.
    astrocyte_times : ndarray, shape (n,)
    astrocyte_response : ndarray, shape (n_astrocytes, n)
        The astrocytes' state a(t), sampled every millisecond.
    windows : ndarray, shape (T, 2)
        Read window [start, stop) of each query row (s).
    attention_neurons : ndarray of int, shape (T, T)
        Index in ``attention`` of the neuron that carries A_tj.
    output_neurons : ndarray of int, shape (T, Dv, 2)
        Index in ``output`` of the on (0) and off (1) neurons that carry y_td.
    astrocyte_of_row : ndarray of int, shape (T,)
        Which astrocyte normalises row t.
    attention_rate : float
        R_att (Hz).
    value_gain : float
        c.
    phases : dict of str -> (float, float)
        Named time intervals for figures (e.g. ``settling``, ``writing``, ``reading``).
    synapses : dict of str -> int
        Number of synapses of each Brian2 Synapses object of the network, by name.
    """

    spikes: dict
    sizes: dict
    astrocyte_times: np.ndarray
    astrocyte_response: np.ndarray
    windows: np.ndarray
    attention_neurons: np.ndarray
    output_neurons: np.ndarray
    astrocyte_of_row: np.ndarray
    attention_rate: float
    value_gain: float
    phases: dict = field(default_factory=dict)
    synapses: dict = field(default_factory=dict)

    @property
    def tokens(self):
        return self.windows.shape[0]

    @property
    def read_seconds(self):
        """The shortest read window (s)."""
        return float(np.min(self.windows[:, 1] - self.windows[:, 0]))

    @property
    def end(self):
        """End of the simulation (s)."""
        return float(max(self.windows[:, 1].max(), max((stop for _, stop in self.phases.values()), default=0)))


@dataclass(frozen=True)
class Decoded:
    """Decoded attention matrix A_hat (T x T), output y_hat (T x Dv) and normaliser Z_hat (T)."""

    attention: np.ndarray
    output: np.ndarray
    normaliser: np.ndarray
    window: float


def trace_every_millisecond(times, values, dt):
    """Keep one sample per millisecond of a trace recorded every time step (monitors share the
    default clock: a second clock would make Brian2's generated code vary from build to build)."""
    step = max(1, int(round(1e-3 / dt)))
    return np.asarray(times)[::step], np.asarray(values)[:, ::step]


def spike_counts(indices, times, size, start, stop):
    """Spikes of each of ``size`` neurons with start <= time < stop."""
    inside = (times >= start) & (times < stop)
    return np.bincount(indices[inside], minlength=size)


def decode(recording, window=None):
    """Decode a recording over the first ``window`` seconds of each row's read window.

    Parameters
    ----------
    recording : Recording
    window : float, optional
        Length of the counting window (s); defaults to the whole read window.

    Returns
    -------
    Decoded
    """
    r = recording
    window = r.read_seconds if window is None else window
    if not 0 < window <= r.read_seconds + 1e-12:
        raise ValueError(f"window must lie in (0, {r.read_seconds}] s, got {window}")
    T, Dv = r.output_neurons.shape[:2]
    attention = np.empty((T, T))
    output = np.empty((T, Dv))
    normaliser = np.empty(T)
    for t, (start, _) in enumerate(r.windows):
        stop = start + window
        n_att = spike_counts(*r.spikes["attention"], r.sizes["attention"], start, stop)
        n_out = spike_counts(*r.spikes["output"], r.sizes["output"], start, stop)
        attention[t] = n_att[r.attention_neurons[t]] / (r.attention_rate * window)
        on_off = n_out[r.output_neurons[t]]
        output[t] = (on_off[:, 0] - on_off[:, 1]) / (r.attention_rate * r.value_gain * window)
        inside = (r.astrocyte_times >= start) & (r.astrocyte_times < stop)
        normaliser[t] = r.astrocyte_response[r.astrocyte_of_row[t], inside].mean()
    return Decoded(attention=attention, output=output, normaliser=normaliser, window=window)
