"""Reading Brian2 monitors into plain arrays for :class:`~spiking_attn.decoding.Recording`."""
import numpy as np
from brian2 import second


def spike_trains(monitors, populations):
    """Spike indices and times (s) of each named SpikeMonitor, and the size of its population.

    Returns
    -------
    spikes : dict of str -> (ndarray of int, ndarray of float)
    sizes : dict of str -> int
    """
    spikes = {name: (np.asarray(monitors[name].i[:], dtype=np.int64), np.asarray(monitors[name].t[:] / second))
              for name in populations}
    sizes = {name: len(monitors[name].source) for name in populations}
    return spikes, sizes
