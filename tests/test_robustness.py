"""The robustness study's perturbations: heterogeneity spreads, Poisson inputs, Dale's law."""
import numpy as np
from brian2 import mV

from spiking_attn.api import simulate_problem
from spiking_attn.circuits.softmax_head import Variability, build_softmax_head
from spiking_attn.problems import random_problem


def silent(message):
    pass


def test_heterogeneity_spreads_every_factor_within_its_bounds():
    problem = random_problem(4, 4, seed=5)
    nominal = build_softmax_head(problem, seed=5)
    spread = build_softmax_head(problem, seed=5, variability=Variability(heterogeneity=0.1))
    objects = {name: {obj.name: obj for obj in head.network.objects} for name, head in
               (("nominal", nominal), ("spread", spread))}
    gain = objects["spread"]["score_neurons"].gain[:]
    assert np.all(objects["nominal"]["score_neurons"].gain[:] == 1.0)
    assert gain.min() >= 0.9 / 1.1 and gain.max() <= 1.1 / 0.9 and np.ptp(gain) > 0.1
    quantum = objects["spread"]["release_to_astrocyte"].spread[:]
    assert quantum.min() >= 0.9 and quantum.max() <= 1.1 and np.ptp(quantum) > 0.1
    for synapses in ("key_synapses", "tripartite_synapses", "value_synapses"):
        before, after = objects["nominal"][synapses].w[:] / mV, objects["spread"][synapses].w[:] / mV
        ratio = after[before != 0] / before[before != 0]
        assert ratio.min() >= 1 / 1.1 - 1e-12 and ratio.max() <= 1 / 0.9 + 1e-12 and np.ptp(ratio) > 0.05, synapses
    # The phases come from the seed's first stream, untouched by the spread.
    np.testing.assert_array_equal(objects["nominal"]["score_neurons"].v[:], objects["spread"]["score_neurons"].v[:])


def test_poisson_inputs_fire_irregularly_at_the_encoded_rates():
    problem = random_problem(2, 4, seed=6)
    result = simulate_problem(problem, target="numpy", seed=6, input_spikes="poisson", progress=silent)
    indices, times = result.recording.spikes["input"]
    q = problem.q
    rates = 1000.0 / np.abs(q).max() * np.clip(np.stack([q, -q], axis=-1), 0, None).ravel()
    counts = np.bincount(indices, minlength=rates.size)
    expected = rates * result.summary["simulated_seconds"]
    assert np.all(np.abs(counts - expected) <= 4 * np.sqrt(expected) + 1)
    busiest = np.sort(times[indices == rates.argmax()])
    intervals = np.diff(busiest)
    assert 0.9 < intervals.std() / intervals.mean() < 1.1  # Poisson: CV 1 (the regular trains': about 0)
    assert result.metrics["row_tv_mean"] < 0.05


def test_dale_variant_keeps_every_neuron_one_sign_and_the_accuracy():
    problem = random_problem(2, 4, seed=7)
    head = build_softmax_head(problem, seed=7, variability=Variability(dale=True))
    objects = {obj.name: obj for obj in head.network.objects}
    excitatory, inhibitory = objects["key_synapses"], objects["inhibitory_key_synapses"]
    assert np.all(excitatory.w[:] / mV > 0) and np.all(inhibitory.w[:] / mV < 0)
    assert len(objects["inhibitory_neurons"]) == len(objects["input_neurons"])
    # Every signed key weight of the original circuit is made by exactly one of the two pathways.
    assert len(excitatory) + len(inhibitory) == len({obj.name: obj for obj in build_softmax_head(
        problem, seed=7).network.objects}["key_synapses"])
    result = simulate_problem(problem, target="numpy", seed=7, dale=True, progress=silent)
    assert result.metrics["row_sum_error_max"] <= 0.02
    assert result.metrics["row_tv_mean"] <= 0.01
