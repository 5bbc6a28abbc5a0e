"""Decoding: spike counts in each query's read window -> attention matrix, output, normaliser.

Every gain is fixed before the run (the circuit's parameters and the encoding gains chosen when
it is built); no row is renormalised here. For query row t with read window of length W:

    A_hat[t, j] = n(attention neuron of (t, j)) / (R_att,t * W)     (0 where (t, j) has no neuron)
    y_hat[t, d] = (n(output (t, d, on)) - n(output (t, d, off))) / (R_att,t * c_t * W)
    Z_hat[t]    = mean response of row t's astrocyte over the window
                  (or 1 / mean, for astrocytes whose response is the inverse of the normaliser)

with R_att,t the row's attention rate (the rate of a neuron carrying attention weight 1) and c_t
the value gain. Rows are flat: with several heads, row r is head r // T_q, query r % T_q. The
softmax head reads all rows at once with its own neurons per row; the random-feature network
reads the rows one after another with the same neurons, each in its own window.
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
    windows : ndarray, shape (R, 2)
        Read window [start, stop) of each query row (s).
    attention_neurons : ndarray of int, shape (R, T_k)
        Index in ``attention`` of the neuron that carries A_tj; -1 where the pair is masked.
    output_neurons : ndarray of int, shape (R, Dv, 2)
        Index in ``output`` of the on (0) and off (1) neurons that carry y_td.
    astrocyte_of_row : ndarray of int, shape (R,)
        Which astrocyte normalises row t.
    attention_rate : float or ndarray, shape (R,)
        R_att (Hz), per row or for all.
    value_gain : float or ndarray, shape (R,)
        c, per row or for all.
    inverse_response : bool
        The astrocytes' response is 1 / normaliser (the softmax head's exp(-c_t) / K_t), so the
        decoded normaliser is 1 / (mean response).
    phases : dict of str -> (float, float)
        Named time intervals for figures (e.g. ``settling``, ``writing``, ``reading``).
    synapses : dict of str -> int
        Number of synapses of each Brian2 Synapses object of the network, by name.
    events : dict of str -> int
        Presynaptic events delivered in the run (spikes times fan-out), by presynaptic population (the
        recorded ones); :attr:`synaptic_events` is their sum.
    population_spikes : dict of str -> int
        Spikes of every recorded population, by Brian2 group name.
    state : dict of str -> ndarray
        Variables the network adapted in the run, by group (a calibration's calibrated state).
    """

    spikes: dict
    sizes: dict
    astrocyte_times: np.ndarray
    astrocyte_response: np.ndarray
    windows: np.ndarray
    attention_neurons: np.ndarray
    output_neurons: np.ndarray
    astrocyte_of_row: np.ndarray
    attention_rate: object
    value_gain: object
    inverse_response: bool = False
    phases: dict = field(default_factory=dict)
    synapses: dict = field(default_factory=dict)
    events: dict = field(default_factory=dict)
    population_spikes: dict = field(default_factory=dict)
    state: dict = field(default_factory=dict)

    @property
    def synaptic_events(self):
        """Presynaptic events delivered in the run, every recorded population's."""
        return int(sum(self.events.values()))

    @property
    def rows(self):
        """Query rows (of every head)."""
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
    """Decoded attention A_hat (R x T_k), output y_hat (R x Dv) and normaliser Z_hat (R), one row
    per query row (of every head)."""

    attention: np.ndarray
    output: np.ndarray
    normaliser: np.ndarray
    window: float

    def in_heads(self, heads):
        """The same, with a leading head axis: (H, T_q, T_k), (H, T_q, Dv) and (H, T_q)."""
        return Decoded(attention=self.attention.reshape(heads, -1, self.attention.shape[-1]),
                       output=self.output.reshape(heads, -1, self.output.shape[-1]),
                       normaliser=self.normaliser.reshape(heads, -1), window=self.window)


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
    rows, Dv = r.output_neurons.shape[:2]
    rate = np.broadcast_to(r.attention_rate, (rows,))
    gain = np.broadcast_to(r.value_gain, (rows,))
    exists = r.attention_neurons >= 0
    attention = np.zeros(r.attention_neurons.shape)
    output = np.empty((rows, Dv))
    normaliser = np.empty(rows)
    counted = {}  # rows read in the same window share one count
    for t, (start, _) in enumerate(r.windows):
        stop = start + window
        if start not in counted:
            counted[start] = tuple(spike_counts(*r.spikes[name], r.sizes[name], start, stop)
                                   for name in ("attention", "output"))
        n_att, n_out = counted[start]
        attention[t, exists[t]] = n_att[r.attention_neurons[t, exists[t]]] / (rate[t] * window)
        on_off = n_out[r.output_neurons[t]]
        output[t] = (on_off[:, 0] - on_off[:, 1]) / (rate[t] * gain[t] * window)
        inside = (r.astrocyte_times >= start) & (r.astrocyte_times < stop)
        response = r.astrocyte_response[r.astrocyte_of_row[t], inside].mean()
        normaliser[t] = 1.0 / response if r.inverse_response else response
    return Decoded(attention=attention, output=output, normaliser=normaliser, window=window)
