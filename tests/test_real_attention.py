"""Real attention in spikes: wide score ranges, causal masks, cross-attention and many heads (seeded
problems; the numpy target where compiled code is not the point, cpp_standalone where a build's reuse is)."""
import json
import subprocess
import sys

import numpy as np
import pytest

from spiking_attn.api import simulate_problem
from spiking_attn.circuits.softmax_head import pair_count, synapse_count
from spiking_attn.cli import main
from spiking_attn.problems import random_problem, validate


def silent(message):
    pass


def row_tv(decoded, exact):
    return 0.5 * np.abs(decoded - exact).sum(axis=-1)


def summary_of(folder):
    with open(folder / "summary.json") as stream:
        return json.load(stream)


def test_scores_of_sd_4_decode_as_well_as_sd_1(tmp_path, default_run):
    """`spiking-attn run --scale 4`: the default problem's scores times 4 (largest 18), on the
    default run's binary."""
    out = tmp_path / "scale4"
    assert main(["run", "--scale", "4", "--out", str(out)]) == 0
    summary = summary_of(out)
    assert summary["reused_build"]
    assert summary["row_tv_mean"] <= 0.01
    assert summary["row_sum_error_max"] <= 0.03
    assert summary["simulated_seconds"] <= 2.0
    assert not summary["saturated"]


def sink_problem():
    """A head like a pretrained encoder's attention sinks: every query puts almost all its weight
    on key 0 (score about 40) and the rest of each row spans 60 in score."""
    rng = np.random.default_rng(5)
    T, D = 8, 8
    q = rng.normal(0, 1, (T, D))
    q[:, 0] = 8.0
    k = rng.normal(0, 1.2, (T, D))
    k[:, 0] = np.linspace(-7.0, 0.0, T)
    k[0, 0] = 14.0
    return validate(q, k, rng.normal(0, 1, (T, 4)), name="sinks")


def test_attention_sinks_with_scores_up_to_40():
    problem = sink_problem()
    result = simulate_problem(problem, target="numpy", progress=silent)
    scores = result.exact.scores
    assert scores.max() > 38 and (scores.max(axis=1) - scores.min(axis=1)).max() > 55
    assert result.exact.attention[:, 0].min() > 0.9
    assert result.metrics["row_tv_mean"] <= 0.01
    assert result.metrics["row_sum_error_max"] <= 0.03
    assert not result.summary["saturated"]


def test_causal_attention_has_exactly_zero_weight_above_the_diagonal():
    problem = random_problem(8, 8, seed=3)
    result = simulate_problem(problem, causal=True, target="numpy", progress=silent)
    decoded = result.decoded.attention
    assert np.all(np.triu(decoded, 1) == 0)
    assert np.all(decoded[np.tril_indices(8)] > 0)
    assert result.metrics["row_tv_mean"] <= 0.01
    assert result.metrics["row_sum_error_max"] <= 0.03
    assert sum(result.summary["synapses"].values()) == synapse_count(pair_count(1, 8, 8, causal=True), 8, 8)
    assert result.summary["causal"]


def test_cross_attention_with_more_keys_than_queries():
    problem = random_problem(6, 8, seed=4, key_tokens=20)
    result = simulate_problem(problem, target="numpy", progress=silent)
    assert result.decoded.attention.shape == (6, 20)
    assert result.decoded.output.shape == (6, 8)
    assert result.metrics["row_tv_mean"] <= 0.01
    assert result.summary["key_tokens"] == 20


def test_three_heads_in_one_network_and_its_reuse(tmp_path):
    """--heads 3: arrays (H, T, T) in attention.npz, per-head TV, and a second problem of the same
    shape runs on the same binary (in a process of its own, as a batch's problems do)."""
    first, second = tmp_path / "seed1", tmp_path / "seed2"
    assert main(["run", "--heads", "3", "--tokens", "6", "--dim", "8", "--seed", "1", "--out", str(first)]) == 0
    rerun = subprocess.run([sys.executable, "-m", "spiking_attn.cli", "run", "--heads", "3", "--tokens", "6",
                            "--dim", "8", "--seed", "2", "--out", str(second)], capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    summary = summary_of(first)
    assert summary["heads"] == 3 and not summary_of(first)["reused_build"] and summary_of(second)["reused_build"]
    with np.load(first / "attention.npz") as saved:
        assert saved["attention_decoded"].shape == saved["attention"].shape == (3, 6, 6)
        assert saved["output_decoded"].shape == (3, 6, 8)
        assert saved["normaliser_decoded"].shape == (3, 6)
        per_head = row_tv(saved["attention_decoded"], saved["attention"]).mean(axis=1)
    assert per_head.max() <= 0.01
    assert summary["head_tv_max"] == pytest.approx(per_head.max())
    assert summary["row_tv_mean"] == pytest.approx(per_head.mean())
