"""The associative memory: its rate models (energy, the dense-associative-memory limit), the Hopfield baseline,
the spiking memory's retrieval against them (`spiking-attn memory`), and memory sweeps."""
import json

import numpy as np
import pandas as pd
import pytest

from spiking_attn import associative_memory as am
from spiking_attn.cli import main
from spiking_attn.reference import softmax_attention
from spiking_attn.report import write_report
from spiking_attn.sweep import execute, load_config


@pytest.fixture(scope="module")
def stored():
    """8 random +-1 patterns of 32 and 12 cues with 10 % of their entries flipped (seed 0)."""
    rng = np.random.default_rng(0)
    patterns = am.random_patterns(8, 32, rng)
    cues, sources = am.make_cues(patterns, 12, 0.1, rng)
    return patterns, cues, sources


def test_neuron_astrocyte_energy_never_increases(stored):
    patterns, cues, sources = stored
    memory = am.NeuronAstrocyteMemory(patterns[:3, :10], beta=2.0)
    _, energies = memory.run(cues[0, :10], dt=0.01, steps=1500)
    assert np.diff(energies).max() <= 1e-9 * np.abs(energies).max()
    assert energies[-1] < energies[0] - 1.0  # it descends, not only stays flat


@pytest.mark.parametrize("tau_state", [0.0, 5e-3])
def test_dense_memory_energy_never_increases_along_the_loop(stored, tau_state):
    patterns, cues, _ = stored
    memory = am.DenseMemory(patterns, am.inverse_temperature(1.0, 32), tau_state=tau_state)
    _, _, energies = memory.run(cues, cue_seconds=0.05, loop_seconds=0.5, dt=2e-4, record_every=1)
    assert np.diff(energies, axis=0).max() <= 1e-9


def test_dense_update_is_attention_with_keys_and_values_the_patterns(stored):
    patterns, cues, _ = stored
    beta = am.inverse_temperature(4.0, 32)
    attention = softmax_attention(cues, beta * np.sqrt(32) * patterns, patterns)
    np.testing.assert_allclose(am.dense_update(patterns, cues, beta), attention.output, rtol=0, atol=1e-12)


def test_fast_process_limit_is_softmax_retrieval(stored):
    """With tau_p << tau_x the memory's fixed point is that of x <- Xi^T softmax(beta Xi x), to 1e-6."""
    patterns, cues, _ = stored
    beta = am.inverse_temperature(1.0, 32)
    fast = am.DenseMemory(patterns, beta, tau_memory=1e-4, tau_state=0.02)
    _, states, _ = fast.run(cues, cue_seconds=0.0, loop_seconds=0.8, dt=2e-5, record_every=1000)
    np.testing.assert_allclose(states[-1], am.dense_retrieve(patterns, cues, beta), rtol=0, atol=1e-6)


def test_dense_energy_falls_at_each_update(stored):
    patterns, cues, _ = stored
    beta = am.inverse_temperature(1.0, 32)
    x = cues
    for _ in range(5):
        new = am.dense_update(patterns, x, beta)
        assert np.all(am.dense_energy(patterns, new, beta) <= am.dense_energy(patterns, x, beta) + 1e-12)
        x = new


def test_hopfield_retrieves_few_patterns_and_fails_with_many():
    rng = np.random.default_rng(1)
    few = am.random_patterns(3, 64, rng)
    cues, sources = am.make_cues(few, 20, 0.1, rng)
    assert am.accuracy(am.hopfield_retrieve(few, cues, rng), few, sources) == 1.0
    many = am.random_patterns(32, 64, rng)  # 0.5 N, far above 0.138 N
    cues, sources = am.make_cues(many, 20, 0.1, rng)
    assert am.accuracy(am.hopfield_retrieve(many, cues, rng), many, sources) <= 0.2


def test_cues_flip_the_asked_fraction(stored):
    patterns, cues, sources = stored
    flipped = (cues != patterns[sources]).sum(axis=1)
    assert np.all(flipped == round(0.1 * 32))


def test_digits_are_binarised_images():
    patterns, labels = am.digit_patterns(10, np.random.default_rng(0))
    assert patterns.shape == (10, 64) and set(np.unique(patterns)) == {-1.0, 1.0}
    assert set(labels) <= set(range(10))


@pytest.fixture(scope="module")
def default_memory(tmp_path_factory, build_cache):
    """`spiking-attn memory` with its defaults (32 random patterns of 64, 20 cues with 10 % flipped), on numpy."""
    out = tmp_path_factory.mktemp("memory") / "run"
    code = main(["memory", "--target", "numpy", "--out", str(out)])
    with open(out / "summary.json") as stream:
        return code, out, json.load(stream)


def test_spiking_memory_retrieves_where_hopfield_fails(default_memory):
    """The acceptance: N = 64, P = 32, 10 % flipped."""
    code, _, summary = default_memory
    assert code == 0
    assert summary["retrieval_accuracy"] >= 0.9
    assert summary["hopfield_accuracy"] <= 0.2
    assert summary["rate_model_accuracy"] >= 0.9 and summary["rate_model_agreement"] >= 0.95
    assert summary["simulated_seconds_per_cue"] <= 2.0


def test_spiking_memory_settles_at_the_rate_models_fixed_point(default_memory):
    _, out, summary = default_memory
    arrays = np.load(out / "memory.npz")
    np.testing.assert_allclose(arrays["spiking_states"], arrays["rate_model_states"], atol=0.1)
    times, energy = arrays["trajectory_times"], arrays["trajectory_spiking_energy"]
    loop = times > summary["cue_seconds"] + 0.1
    rate_energy = arrays["trajectory_rate_energy"][-1]
    assert np.abs(energy[loop].mean(axis=0) - rate_energy).max() <= 0.05 * np.abs(rate_energy).max()
    rows = pd.read_csv(out / "rows.csv")
    assert len(rows) == 20 and (rows.spiking_retrieved == rows.pattern).mean() == summary["retrieval_accuracy"]
    for name in ("retrieval.png", "energy.png"):
        assert (out / name).stat().st_size > 10_000


def test_memory_sweep_runs_memory_points_and_its_report_plots_the_accuracies(tmp_path):
    config = {"command": "memory", "run": {"spiking": False, "size": 32, "cues": 10, "beta_gain": 1.0},
              "grid": {"count": [4, 64]}}
    sweep = load_config(config)
    assert sweep.command == "memory" and [point.options["count"] for point in sweep.points] == [4, 64]
    runs = execute(sweep, str(tmp_path / "sweep"), workers=1)
    assert list(runs.status) == ["done", "done"]
    assert runs.rate_model_accuracy.iloc[0] == 1.0 and runs.rate_model_accuracy.iloc[1] < 0.5
    assert runs.retrieval_accuracy.isna().all()  # no spiking run
    report_path, _ = write_report(str(tmp_path / "sweep"))  # a memory sweep's own metrics, without [report]
    table = next(line for line in open(report_path) if line.startswith("| count"))
    assert "rate_model_accuracy" in table and "hopfield_accuracy" in table and "row_tv" not in table
    assert (tmp_path / "sweep" / "report-count.png").stat().st_size > 10_000


def test_capacity_interpolates_where_the_accuracy_falls_below_the_level():
    value, bound = am.capacity([8, 16, 32, 64], [1.0, 1.0, 0.7, 0.0], 0.9)
    assert bound == "measured" and value == pytest.approx(np.exp(np.log(16) + (0.1 / 0.3) * np.log(2)))
    assert am.capacity([8, 16], [1.0, 0.95], 0.9) == (16.0, "lower")
    assert am.capacity([8, 16], [0.5, 0.0], 0.9) == (8.0, "upper")
    exponent, _ = am.growth_exponent([16, 32, 64], [2.0, 8.0, 32.0])
    assert exponent == pytest.approx(2.0)
