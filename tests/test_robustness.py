"""The robustness study's perturbations: heterogeneity spreads, Poisson inputs, Dale's law."""
import numpy as np
from brian2 import mV, prefs

from spiking_attn.api import simulate_problem
from spiking_attn.circuits.softmax_head import Variability, build_softmax_head
from spiking_attn.problems import random_problem


def silent(message):
    pass


DRAWN = {"input_neurons": ("threshold_factor",), "score_neurons": ("rate_factor", "threshold_factor"),
         "dendrites": ("slope_factor",), "attention_neurons": ("threshold_factor",),
         "output_neurons": ("threshold_factor",), "release_to_astrocyte": ("quantum_factor",)}


def drawn_factors(seed, heterogeneity=0.1, heterogeneous="all"):
    """The factors a head of ``seed`` draws in the network (numpy target), and its objects."""
    prefs.codegen.target = "numpy"
    head = build_softmax_head(random_problem(4, 4, seed=5), seed=seed,
                              variability=Variability(heterogeneity=heterogeneity, heterogeneous=heterogeneous))
    objects = {obj.name: obj for obj in head.network.objects}
    return {(group, name): np.asarray(getattr(objects[group], name)[:]) for group, names in DRAWN.items()
            for name in names}, objects


def test_heterogeneity_is_drawn_in_the_network_from_the_seed():
    nominal = {obj.name: obj for obj in build_softmax_head(random_problem(4, 4, seed=5), seed=5).network.objects}
    factors, objects = drawn_factors(5)
    for (group, name), values in factors.items():
        assert values.min() >= 0.9 and values.max() <= 1.1 and np.ptp(values) > 0.1, (group, name)
    again, _ = drawn_factors(5)
    other, _ = drawn_factors(6)
    for key, values in factors.items():
        np.testing.assert_array_equal(values, again[key])  # the seed draws them
        assert not np.array_equal(values, other[key])
    delta_u_only, _ = drawn_factors(5, heterogeneous="delta_u")
    np.testing.assert_array_equal(delta_u_only[("dendrites", "slope_factor")], factors[("dendrites", "slope_factor")])
    assert np.all(delta_u_only[("score_neurons", "threshold_factor")] == 1.0)
    # The weights and the phases are the identical head's: only the drawn factors differ.
    for synapses in ("key_synapses", "tripartite_synapses", "value_synapses"):
        np.testing.assert_array_equal(objects[synapses].w[:], nominal[synapses].w[:])
    np.testing.assert_array_equal(objects["score_neurons"].v[:], nominal["score_neurons"].v[:])


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
