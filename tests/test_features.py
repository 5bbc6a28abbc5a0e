"""The rate model of the paper's random-feature construction."""
import numpy as np
import pytest

from spiking_attn.features import (
    FEATURE_MAPS,
    SIGNED_MAPS,
    random_feature_attention,
    random_feature_map,
    split_features,
)
from spiking_attn.problems import random_problem
from spiking_attn.reference import softmax_attention


def linear_attention(q, k, v, phi):
    """Linear attention written out directly: rows of phi(Q) phi(K)^T, normalised, times V."""
    scale = q.shape[1] ** -0.25
    kernel = phi(q * scale) @ phi(k * scale).T
    weights = kernel / kernel.sum(axis=1, keepdims=True)
    return weights, weights @ v


@pytest.mark.parametrize("name", FEATURE_MAPS)
def test_rate_model_is_linear_attention(name):
    problem = random_problem(12, 8, value_dim=5, seed=3, score_sd=0.25)
    phi = random_feature_map(name, 500, 8, seed=4)
    model = random_feature_attention(problem.q, problem.k, problem.v, phi)
    weights, output = linear_attention(problem.q, problem.k, problem.v, phi)
    np.testing.assert_allclose(model.attention, weights, rtol=1e-10)
    np.testing.assert_allclose(model.output, output, rtol=1e-10, atol=1e-12)


def test_performer_normaliser_error_falls_as_inverse_square_root_of_m():
    """Entries of q and k with s.d. 0.5 (docs/model.md §5), five seeds, m = 1e2, 1e3, 1e4."""
    ms = np.array([100, 1000, 10000])
    errors = []
    for m in ms:
        per_seed = []
        for seed in range(5):
            p = random_problem(16, 16, seed=seed, score_sd=0.25)
            exact = softmax_attention(p.q, p.k, p.v)
            model = random_feature_attention(p.q, p.k, p.v, random_feature_map("performer", m, 16, seed=100 + seed))
            per_seed.append(np.mean(np.abs(model.astrocyte / exact.normaliser - 1)))
        errors.append(np.mean(per_seed))
    slope = np.polyfit(np.log(ms), np.log(errors), 1)[0]
    assert -0.6 <= slope <= -0.4


def test_performer_is_unbiased_for_exp():
    """E[phi(q) . phi(k)] = exp(q . k): averaged over many features the kernel converges."""
    q = np.array([[0.3, -0.2, 0.1, 0.4]])
    k = np.array([[0.1, 0.5, -0.3, 0.2]])
    phi = random_feature_map("performer", 400_000, 4, seed=0)
    kernel = (phi(q) @ phi(k).T)[0, 0]
    assert kernel == pytest.approx(np.exp(q @ k.T)[0, 0], rel=0.01)


def test_a_per_query_factor_cancels_and_a_per_key_factor_does_not():
    problem = random_problem(10, 8, seed=1, score_sd=0.25)
    phi = random_feature_map("performer", 300, 8, seed=2)
    base = random_feature_attention(problem.q, problem.k, problem.v, phi)
    # A positive factor c_t on every feature of query t scales H phi(q_t) and a_t alike.
    factors = np.linspace(0.1, 30, 10)[:, None]
    scaled_query = base.query_features * factors
    output = (scaled_query @ base.memory.T) / (scaled_query @ base.presynaptic)[:, None]
    np.testing.assert_allclose(output, base.output, rtol=1e-12)
    # A factor on key j changes its weight in every row.
    key_factors = np.linspace(0.1, 30, 10)
    scale = problem.dim ** -0.25
    phi_k = phi(problem.k * scale) * key_factors[:, None]
    memory, presynaptic = problem.v.T @ phi_k, phi_k.sum(axis=0)
    skewed = (base.query_features @ memory.T) / (base.query_features @ presynaptic)[:, None]
    assert np.abs(skewed - base.output).max() > 0.1


def test_without_the_astrocyte_the_output_grows_with_T():
    phi = random_feature_map("performer", 2000, 8, seed=0)
    unnormalised, normalised = [], []
    for tokens in (4, 16, 64):
        problem = random_problem(tokens, 8, seed=5, score_sd=0.25)
        model = random_feature_attention(problem.q, problem.k, problem.v + 1, phi)  # values of mean 1
        unnormalised.append(np.abs(model.query_features @ model.memory.T).mean())  # a = 1: y = H phi(q)
        normalised.append(np.abs(model.output).mean())
    assert unnormalised[1] > 3 * unnormalised[0] and unnormalised[2] > 3 * unnormalised[1]
    assert max(normalised) < 1.5 * min(normalised)


def test_split_features_keep_the_kernel_of_non_negative_maps_only():
    x = random_problem(6, 4, seed=0, score_sd=0.25).q * 4 ** -0.25
    for name in FEATURE_MAPS:
        phi = random_feature_map(name, 200, 4, seed=1)(x)
        pairs = split_features(phi)
        assert pairs.shape == (6, 400) and pairs.min() >= 0
        same = np.allclose(pairs @ pairs.T, phi @ phi.T)
        assert same == (name not in SIGNED_MAPS)
