"""Valid edge inputs run and are right: zero queries, zero values, T=1, D=1, Dv=1, constant scores;
summary.json is strict JSON (numpy target, short read windows)."""
import json

import numpy as np
import pytest

from spiking_attn.api import simulate_problem
from spiking_attn.cli import main
from spiking_attn.problems import random_problem, validate


def silent(message):
    pass


def run(problem, **options):
    return simulate_problem(problem, target="numpy", duration=0.5, progress=silent, **options)


def strict_json(path):
    """Load JSON refusing NaN, Infinity and -Infinity (which most JSON readers cannot parse)."""
    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    with open(path) as handle:
        return json.load(handle, parse_constant=refuse)


def mean_row_tv(a, b):
    return 0.5 * np.abs(a - b).sum(axis=1).mean()


def test_zero_queries_give_uniform_attention():
    base = random_problem(4, 3, seed=5)
    result = run(validate(np.zeros((4, 3)), base.k, base.v))
    np.testing.assert_array_equal(result.exact.attention, np.full((4, 4), 0.25))
    assert mean_row_tv(result.decoded.attention, result.exact.attention) <= 0.01
    assert result.metrics["row_sum_error_max"] <= 0.02


def test_constant_scores_give_uniform_attention():
    """Every key the same: each row's scores are equal (but differ between rows)."""
    base = random_problem(4, 3, seed=6)
    result = run(validate(base.q, np.tile(base.k[:1], (4, 1)), base.v))
    assert np.ptp(result.exact.scores, axis=1).max() == pytest.approx(0, abs=1e-12)
    assert mean_row_tv(result.decoded.attention, np.full((4, 4), 0.25)) <= 0.015  # measured 0.008


def test_zero_values_give_zero_output():
    base = random_problem(4, 3, seed=7)
    result = run(validate(base.q, base.k, np.zeros((4, 3))))
    np.testing.assert_array_equal(result.decoded.output, 0.0)
    assert result.metrics["output_rel_error"] == 0.0  # the absolute error, as y = 0
    assert result.metrics["row_tv_mean"] <= 0.01


def test_one_dimension_and_one_value():
    problem = random_problem(4, 1, value_dim=1, seed=8)
    result = run(problem)
    assert result.decoded.attention.shape == (4, 4) and result.decoded.output.shape == (4, 1)
    assert result.metrics["row_tv_mean"] <= 0.01
    assert result.metrics["output_rel_error"] <= 0.05


@pytest.mark.parametrize("network", ["softmax", "random-features"])
def test_single_token_writes_strict_json(network, tmp_path, capsys):
    """T = 1: the attention is [[1]]; a correlation across tokens is undefined and written as null."""
    out = tmp_path / "out"
    extra = ["--features", "20", "--duration", "0.1"] if network == "random-features" else ["--duration", "0.5"]
    code = main(["run", "--network", network, "--tokens", "1", "--dim", "2", "--target", "numpy",
                 "--out", str(out), *extra])
    assert code == 0, capsys.readouterr().err
    summary = strict_json(out / "summary.json")
    assert summary["tokens"] == 1
    assert summary["row_sum_error_max"] <= 0.05
    with np.load(out / "attention.npz") as saved:
        np.testing.assert_array_equal(saved["attention"], [[1.0]])
    if network == "random-features":
        assert summary["z_corr"] is None and summary["astrocyte_rate_model_corr"] is None
    assert summary["threads"] is None  # --threads does not apply to numpy
