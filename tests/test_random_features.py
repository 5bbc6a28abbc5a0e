"""The spiking random-feature network against its rate model (numpy target, small problems)."""
import numpy as np
import pytest
from brian2 import Hz, Network, NeuronGroup, SpikeMonitor, defaultclock, linked_var, ms, mV, prefs, second

from spiking_attn import equations as eq
from spiking_attn.api import simulate_problem
from spiking_attn.circuits.random_features import FeatureParameters, synapse_count
from spiking_attn.features import FEATURE_MAPS, SIGNED_MAPS, TRUNCATION, random_feature_map
from spiking_attn.problems import random_problem


def silent(message):
    pass


@pytest.mark.parametrize("name", FEATURE_MAPS)
def test_feature_neurons_fire_at_the_feature_map(name):
    """The Brian2 expression of each map gives the NumPy map's value as a rate (dendrites held fixed)."""
    prefs.codegen.target = "numpy"
    defaultclock.dt = 0.1 * ms
    m, delta_u, gain = 12, 2.0, 400.0
    phi = random_feature_map(name, m, 4, seed=7)
    x = np.array([[0.4, -0.3, 0.2, 0.1]])
    values = phi(x)[0]
    polarities = np.array([1.0, -1.0]) if name in SIGNED_MAPS else np.array([1.0])
    dendrites = NeuronGroup(m, "u : volt\nn : volt")
    dendrites.u = (x @ phi.W.T)[0] * delta_u * mV
    dendrites.n = 0.5 * np.sum(x ** 2) * delta_u * mV
    neurons = NeuronGroup(m * polarities.size, eq.feature_neuron(name), threshold=eq.THRESHOLD, reset=eq.RESET,
                          method="euler")
    index = np.arange(len(neurons)) % m
    neurons.u = linked_var(dendrites, "u", index=index)
    neurons.n = linked_var(dendrites, "n", index=index)
    neurons.b = phi.b[index]
    neurons.polarity = np.repeat(polarities, m)
    neurons.r_feature = gain * Hz
    monitor = SpikeMonitor(neurons)
    namespace = {"v_theta": 10 * mV, "delta_u": delta_u * mV, "m_features": m,
                 "z_clip": TRUNCATION}
    Network(dendrites, neurons, monitor).run(2 * second, namespace=namespace)
    expected = gain * np.clip(np.concatenate([p * values for p in polarities]), 0, None) * 2
    np.testing.assert_allclose(monitor.count[:], expected, atol=1.0)


# The plastic (written) network's accuracy against its rate model is tested compiled, on cpp_standalone
# (tests/test_cache.py); here the other variants, on numpy, at T = 2 or 3, each query read in 0.2 s of settling
# and 0.2 s of counting (half the defaults): each key and query costs 0.4 s of simulated time (20-50 s of wall time
# each here).
SHORT_READ = FeatureParameters(read_settle=0.2, read_window=0.2)


def simulate_variant(tokens, **options):
    """The random-feature network of 300 features on a seeded problem of ``tokens`` tokens (D = 16), on numpy."""
    return simulate_problem(random_problem(tokens, 16, seed=0, score_sd=0.25), network="random-features",
                            features=300, parameters=SHORT_READ, target="numpy", progress=silent, **options)


def test_directly_written_network_matches_its_rate_model():
    result = simulate_variant(2, write="direct")
    assert result.metrics["rate_model_output_rel_error"] <= 0.03
    assert result.metrics["astrocyte_rate_model_rel_error"] <= 0.01
    assert "writing" not in result.recording.phases


def test_normaliser_neurons_divide_too():
    """The non-astrocytic alternative, after a simulated writing phase."""
    result = simulate_variant(2, normaliser="neurons")
    assert result.metrics["rate_model_output_rel_error"] <= 0.05
    assert result.metrics["row_sum_error_max"] <= 0.05
    assert sum(result.summary["synapses"].values()) == synapse_count(2, 16, 16, 300, "performer", "neurons")


def test_read_window_must_fit_the_protocol_step():
    with pytest.raises(ValueError, match="multiple of step"):
        FeatureParameters(read_window=0.105)


def test_causal_protocol_reads_each_query_after_its_own_key():
    """--causal: key t is written, then query t read, so H and p are prefix sums; the readout of a
    key not yet written has no weight, so its decoded attention is exactly 0."""
    result = simulate_variant(3, causal=True)
    decoded = result.decoded.attention
    assert np.all(np.triu(decoded, 1) == 0)
    np.testing.assert_allclose(np.triu(result.rate_model.attention, 1), 0)
    m = result.metrics
    assert m["rate_model_attention_tv"] <= 0.02
    assert m["astrocyte_rate_model_rel_error"] <= 0.02
    assert m["row_sum_error_max"] <= 0.03
    assert result.summary["write_seconds"] == pytest.approx(3 * 0.4)
