import numpy as np
import pytest

from spiking_attn.reference import softmax_attention

LN2 = np.log(2.0)
# D = 4, so sqrt(D) = 2: s_00 = 2 * ln2 / 2 = ln 2, every other score is 0.
Q = np.array([[2.0, 0, 0, 0], [0, 0, 0, 0]])
K = np.array([[LN2, 0, 0, 0], [0, 0, 0, 0]])
V = np.array([[1.0, 0.0], [0.0, 3.0]])


def test_hand_computed_case():
    exact = softmax_attention(Q, K, V)
    # Row 0: exp(ln 2) = 2 and exp(0) = 1, so Z = 3 and A = [2/3, 1/3]; row 1: uniform, Z = 2.
    np.testing.assert_allclose(exact.scores, [[LN2, 0], [0, 0]], atol=1e-15)
    np.testing.assert_allclose(exact.normaliser, [3.0, 2.0], rtol=1e-14)
    np.testing.assert_allclose(exact.attention, [[2 / 3, 1 / 3], [0.5, 0.5]], rtol=1e-14)
    np.testing.assert_allclose(exact.output, [[2 / 3, 1.0], [0.5, 1.5]], rtol=1e-14)


def test_causal_mask_drops_later_keys():
    exact = softmax_attention(Q, K, V, causal=True)
    # Row 0 sees key 0 only (Z = exp(ln 2) = 2); row 1 sees both.
    np.testing.assert_allclose(exact.attention, [[1.0, 0.0], [0.5, 0.5]], rtol=1e-14)
    np.testing.assert_allclose(exact.normaliser, [2.0, 2.0], rtol=1e-14)
    np.testing.assert_allclose(exact.output, [[1.0, 0.0], [0.5, 1.5]], rtol=1e-14)


@pytest.mark.parametrize("size", [300.0, 3000.0])
def test_large_scores_stay_finite(size):
    q = np.array([[size, 0.0], [-size, 0.0]])
    k = np.array([[1.0, 0.0], [0.0, 1.0]])
    exact = softmax_attention(q, k, np.eye(2))
    # s = +-size / sqrt(2): the attention is one-hot even where exp(s) overflows.
    np.testing.assert_allclose(exact.attention, [[1.0, 0.0], [0.0, 1.0]], atol=1e-12)
    assert np.all(np.isfinite(exact.attention))
    assert np.isfinite(exact.normaliser[1])
