"""The energy estimate: spikes and synaptic events counted by hand on a tiny network, the account's arithmetic,
and the exact attention's multiply-accumulates."""
import pytest
from brian2 import Network, NeuronGroup, SpikeGeneratorGroup, SpikeMonitor, Synapses, ms, prefs

from spiking_attn.devices import activity
from spiking_attn.energy import attention_macs, energy_account


def test_events_are_spikes_times_fan_out_of_recorded_sources():
    """Source neuron 0 fires twice, neuron 1 once; neuron 0 reaches 3 synapses, neuron 1 two (in two Synapses
    objects): 2 x 3 + 1 x 2 = 8 events. The target's own synapses are not counted (it has no monitor)."""
    previous = prefs.codegen.target
    prefs.codegen.target = "numpy"
    try:
        source = SpikeGeneratorGroup(2, [0, 0, 1], [1, 2, 3] * ms, name="source")
        target = NeuronGroup(3, "v : 1", threshold="v > 0.5", reset="v = 0", name="target")
        first = Synapses(source, target, on_pre="v_post += 1", name="first")
        first.connect(i=[0, 0, 0, 1], j=[0, 1, 2, 0])
        second = Synapses(source, target, on_pre="v_post += 1", name="second")
        second.connect(i=[1], j=[2])
        recurrent = Synapses(target, target, on_pre="v_post += 0", name="recurrent")
        recurrent.connect(i=[0], j=[1])
        network = Network(source, target, first, second, recurrent, SpikeMonitor(source, name="source_spikes"))
        network.run(5 * ms)
    finally:
        prefs.codegen.target = previous
    spikes, events = activity(network)
    assert spikes == {"source": 3}
    assert events == {"source": 8}


def test_energy_account_prices_events_and_macs():
    account = energy_account({"a": 600, "b": 400}, {"a": 10, "b": 5}, macs=100)
    assert account["synaptic_events"] == {"total": 1000, "a": 600, "b": 400}
    assert account["spikes"] == {"total": 15, "a": 10, "b": 5}
    assert account["joules_45nm"] == pytest.approx(1000 * 0.9e-12)
    assert account["joules_loihi"] == pytest.approx(1000 * 23.6e-12)
    assert account["ann_joules_45nm"] == pytest.approx(100 * 4.6e-12)
    assert account["ratio_to_ann"] == pytest.approx(900 / 460)
    assert energy_account({}, {}, macs=0)["ratio_to_ann"] is None


def test_attention_macs_count_the_pairs_that_exist():
    assert attention_macs(1, 16, 16, 16, 16) == 2 * 16 ** 3  # Q K^T and A V: 8,192 on the default problem
    assert attention_macs(2, 4, [1, 2, 3, 4], 8, 4) == 2 * 10 * 12  # causal: 1 + 2 + 3 + 4 pairs per head
