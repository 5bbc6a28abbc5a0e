"""The self-calibrating head: heterogeneity drawn inside the network, homeostatic rules that calibrate it
from its own activity, and calibrated states stored, reused and refused (docs/model.md §7.2)."""
import json

import numpy as np
import pytest
from brian2.core.variables import VariableView

from spiking_attn.api import simulate_problem
from spiking_attn.calibration import STATE_PREFIX
from spiking_attn.circuits.homeostasis import ADAPTED
from spiking_attn.circuits.softmax_head import KIND, HeadParameters
from spiking_attn.cli import main
from spiking_attn.devices import simulate
from spiking_attn.experiment import resolve_options
from spiking_attn.problems import random_problem

SHAPE = ["--tokens", "8", "--dim", "8"]
SPREAD = 0.2  # every factor of every neuron and synapse spread by 1 + 0.2 U(-1, 1)
CALIBRATE = 4.0  # simulated seconds


def silent(message):
    pass


def summary_of(folder):
    with open(folder / "summary.json") as handle:
        return json.load(handle)


class DrawnValueSpy:
    """Records the name of every variable Python code reads from a Brian2 group (``group.x[:]``)."""

    def __init__(self, monkeypatch):
        self.read = []
        original = VariableView.get_item

        def get_item(view, item, level=0, namespace=None):
            self.read.append(view.name)
            return original(view, item, level=level + 1, namespace=namespace)

        monkeypatch.setattr(VariableView, "get_item", get_item)

    @property
    def drawn(self):
        return sorted({name for name in self.read if name.endswith("_factor")})


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    """`run` on the numpy target with every factor spread by 20 %, calibrated for 4 s in the same run; and the
    calibration's own simulation (circuit and recording), kept for the test to read its drawn values."""
    import spiking_attn.calibration

    simulations = []

    def kept(*args, **kwargs):
        simulations.append(simulate(*args, **kwargs))
        return simulations[-1]

    out = tmp_path_factory.mktemp("calibrated") / "run"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spiking_attn.calibration, "simulate", kept)
        assert main(["run", "--target", "numpy", *SHAPE, "--heterogeneity", str(SPREAD), "--calibrate",
                     str(CALIBRATE), "--out", str(out)]) == 0
    (calibration,) = simulations
    return out, summary_of(out), calibration


def test_the_rules_converge(calibrated):
    """After the calibration every neuron's gain, dendrite's slope and synapse's quantum is back at its
    nominal value: what the rules adapted cancels what was drawn (read here by the test, never by the rules)."""
    circuit, recording, _ = calibrated[2]
    groups = {obj.name: obj for obj in circuit.network.objects}
    for name in ("input_neurons", "score_neurons", "attention_neurons", "output_neurons"):
        gain = np.asarray(groups[name].gain[:])
        drawn = np.asarray(groups[name].threshold_factor[:])
        assert np.ptp(drawn) > SPREAD, name  # the factors were spread
        # within 2 %: the attention neurons' gains converge last (their few spikes per control period; on this
        # T = 8 network, seed 0, the largest is 1.5 % off after 4 s, the output neurons' 0.9 %, the others' 0.6 %)
        np.testing.assert_allclose(gain, 1.0, atol=0.02 if name == "attention_neurons" else 0.01, err_msg=name)
    slope = np.asarray(groups["dendrites"].slope_factor[:])
    np.testing.assert_allclose(np.exp(recording.state["dendrites"]) / slope, 1.0, atol=0.01)
    quantum = np.asarray(groups["release_to_astrocyte"].quantum_factor[:])
    np.testing.assert_allclose(recording.state["release_to_astrocyte"] * quantum, 1.0, atol=1e-3)


def test_calibration_restores_the_accuracy(calibrated):
    _, summary, _ = calibrated
    assert summary["calibration"]["state"] == "calibrated in this run"
    assert summary["calibration"]["seconds"] == CALIBRATE
    assert summary["row_tv_mean"] <= 0.005  # identical neurons: 0.0016 on this problem
    assert summary["row_sum_error_max"] <= 0.01
    uncalibrated = simulate_problem(random_problem(8, 8), target="numpy", heterogeneity=SPREAD, duration=0.5,
                                    progress=silent)
    assert uncalibrated.metrics["row_tv_mean"] > 0.05


def test_the_calibration_never_reads_the_drawn_values(tmp_path, monkeypatch):
    """A run that calibrates and solves reads no drawn factor from the network: only the adapted
    variables leave it (the spy sees a read of a drawn value where there is one)."""
    spy = DrawnValueSpy(monkeypatch)
    out = tmp_path / "run"
    assert main(["run", "--target", "numpy", "--tokens", "2", "--dim", "2", "--heterogeneity", "0.1", "--calibrate",
                 "0.5", "--duration", "0.05", "--out", str(out)]) == 0
    assert spy.drawn == []
    assert set(spy.read) >= {variable for variable, _ in ADAPTED.values()}  # what the calibration leaves
    with np.load(out / "calibration.npz") as saved:
        stored = {name[len(STATE_PREFIX):] for name in saved.files if name.startswith(STATE_PREFIX)}
    assert stored == set(ADAPTED) - {"inhibitory_neurons"}
    options = resolve_options(target="numpy", heterogeneity=0.1, calibrate=0.5)
    circuit, _, _ = simulate(lambda: KIND.calibration.build(random_problem(2, 2), options, HeadParameters()),
                             target="numpy", progress=silent)
    np.asarray({obj.name: obj for obj in circuit.network.objects}["score_neurons"].threshold_factor[:])
    assert spy.drawn == ["threshold_factor"]  # the spy sees such a read


def test_a_saved_calibration_serves_another_problem_and_is_refused_elsewhere(calibrated, tmp_path, capsys):
    folder, _, _ = calibrated
    other = tmp_path / "other.npz"
    assert main(["problem", str(other), *SHAPE, "--seed", "3"]) == 0  # new q, k, v; the network of seed 0
    reused = tmp_path / "reused"
    assert main(["run", "--target", "numpy", "--input", str(other), "--heterogeneity", str(SPREAD), "--calibrate",
                 str(CALIBRATE), "--duration", "1", "--out", str(reused)]) == 0
    summary = summary_of(reused)
    assert summary["calibration"]["state"] == "reused (stored for this network)"
    assert summary["row_tv_mean"] <= 0.005 and summary["row_sum_error_max"] <= 0.01
    loaded = tmp_path / "loaded"
    assert main(["run", "--target", "numpy", "--input", str(other), "--heterogeneity", str(SPREAD), "--calibration",
                 str(folder / "calibration.npz"), "--duration", "1", "--out", str(loaded)]) == 0
    assert summary_of(loaded)["calibration"]["state"] == "loaded from --calibration"
    assert summary_of(loaded)["row_tv_mean"] == summary["row_tv_mean"]  # the same state, the same network
    capsys.readouterr()
    refused = tmp_path / "refused"
    assert main(["run", "--target", "numpy", "--input", str(other), "--heterogeneity", str(SPREAD), "--seed", "1",
                 "--calibration", str(folder / "calibration.npz"), "--out", str(refused)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0
    assert error.endswith("the calibration belongs to another network (seed 0 there, 1 here)")
    assert not refused.exists()


def test_the_calibration_serves_dale_causal_masks_and_heads(tmp_path):
    """Dale's law (whose inhibitory pathway the calibration, with no keys, leaves empty), a causal mask and two
    heads: calibrated, a 20 % spread reads close to the identical head (uncalibrated: TV 0.066)."""
    out = tmp_path / "run"
    assert main(["run", "--target", "numpy", "--tokens", "3", "--dim", "2", "--heads", "2", "--causal", "--dale",
                 "--heterogeneity", str(SPREAD), "--calibrate", "2", "--out", str(out)]) == 0
    summary = summary_of(out)
    assert summary["row_tv_mean"] <= 0.015 and summary["row_sum_error_max"] <= 0.04
