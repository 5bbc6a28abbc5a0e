"""What a spike costs: the energy estimate of a run against the exact attention it replaces.

The convention of spiking-network papers (docs/model.md §9): count operations and price them.

- A synaptic event (one presynaptic spike reaching one synapse) is one add: 0.9 pJ at 45 nm (Horowitz, ISSCC
  2014, 32-bit float add), or 23.6 pJ per synaptic operation on Loihi (Davies et al., IEEE Micro 2018).
- The exact attention's multiply-accumulates, H (T_q K D + T_q K Dv) for rows of K keys (Q K^T and A V; the
  softmax's exponentials and divisions are not counted), at 4.6 pJ each (a 45 nm float multiply, 3.7 pJ, plus an
  add).

Memory access, which dominates real hardware on both sides (Dampfhoffer et al. 2023), is not counted; neither
are the neurons' state updates (every neuron every time step) nor the spikes themselves. The figures are an
estimate of arithmetic energy, not of a chip.
"""
import numpy as np

PJ_PER_SYNAPTIC_EVENT_45NM = 0.9
PJ_PER_SYNAPTIC_EVENT_LOIHI = 23.6
PJ_PER_MAC_45NM = 4.6
PICO = 1e-12


def attention_macs(heads, query_tokens, keys_per_row, dim, value_dim):
    """Multiply-accumulates of exact attention: sum over rows of K (D + Dv), times the heads.

    Parameters
    ----------
    keys_per_row : int or array of int
        The keys each query row sees (T_k, or t + 1 when causal, fewer where keys are masked): one number for
        every row alike, or one per row of a head.
    """
    keys = np.broadcast_to(np.asarray(keys_per_row, dtype=np.int64), (query_tokens,))
    return int(heads * keys.sum() * (dim + value_dim))


def energy_account(events_by_population, spikes_by_population, macs):
    """The ``energy`` object of a summary.

    Parameters
    ----------
    events_by_population : dict of str -> int
        Synaptic events delivered, by presynaptic population.
    spikes_by_population : dict of str -> int
        Spikes, by population.
    macs : int
        The exact attention's multiply-accumulates for the same problem (:func:`attention_macs`).

    Returns
    -------
    dict
        ``synaptic_events`` and ``spikes`` (``total`` and by population), ``joules_45nm``, ``joules_loihi``,
        ``ann_macs``, ``ann_joules_45nm``, ``ratio_to_ann`` (joules_45nm / ann_joules_45nm; null without MACs) and
        ``convention`` (one line).
    """
    events = int(sum(events_by_population.values()))
    joules = events * PJ_PER_SYNAPTIC_EVENT_45NM * PICO
    ann_joules = macs * PJ_PER_MAC_45NM * PICO
    return {
        "synaptic_events": {"total": events, **{name: int(n) for name, n in events_by_population.items()}},
        "spikes": {"total": int(sum(spikes_by_population.values())),
                   **{name: int(n) for name, n in spikes_by_population.items()}},
        "joules_45nm": joules,
        "joules_loihi": events * PJ_PER_SYNAPTIC_EVENT_LOIHI * PICO,
        "ann_macs": int(macs),
        "ann_joules_45nm": ann_joules,
        "ratio_to_ann": joules / ann_joules if ann_joules > 0 else None,
        "convention": f"{PJ_PER_SYNAPTIC_EVENT_45NM} pJ per synaptic event (45 nm add), {PJ_PER_SYNAPTIC_EVENT_LOIHI} "
                      f"pJ on Loihi, {PJ_PER_MAC_45NM} pJ per MAC; memory access and neuron updates not counted",
    }
