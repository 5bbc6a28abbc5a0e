"""Exact softmax attention in NumPy (float64): the target the spiking network is measured against.

For tokens t = 1..T with queries q_t, keys k_j (head size D) and values v_j:

    s_tj = q_t . k_j / sqrt(D)        scores
    Z_t  = sum_j exp(s_tj)            softmax normaliser
    A_tj = exp(s_tj) / Z_t            attention matrix (rows sum to 1)
    y_t  = sum_j A_tj v_j             output

With ``causal=True`` only keys j <= t take part. Queries and keys may have different numbers of
rows (T_q, T_k: cross-attention), and arrays may carry leading axes (heads), over which
everything is computed independently.
"""
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Attention:
    """Exact attention of one head.

    Attributes
    ----------
    scores : ndarray, shape (..., T_q, T_k)
        s_tj; masked entries (causal) are -inf.
    normaliser : ndarray, shape (..., T_q)
        Z_t = sum_j exp(s_tj).
    attention : ndarray, shape (..., T_q, T_k)
        A_tj = exp(s_tj) / Z_t (0 where masked).
    output : ndarray, shape (..., T_q, Dv)
        y_t = sum_j A_tj v_j.
    """

    scores: np.ndarray
    normaliser: np.ndarray
    attention: np.ndarray
    output: np.ndarray


def attention_scores(q, k):
    """Scores s = q k^T / sqrt(D), float64, shape (..., T_q, T_k)."""
    q = np.asarray(q, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    return q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])


def softmax_attention(q, k, v, causal=False, key_mask=None):
    """Exact softmax attention, stable for large scores.

    The row maximum m_t is subtracted before exponentiating, so
    A_tj = exp(s_tj - m_t) / sum_j exp(s_tj - m_t) never overflows, and
    Z_t = exp(m_t) * sum_j exp(s_tj - m_t) is returned as a float64 (it is inf
    only when Z_t itself exceeds the float64 range).

    Parameters
    ----------
    q : array_like, shape (..., T_q, D)
    k : array_like, shape (..., T_k, D)
    v : array_like, shape (..., T_k, Dv)
    causal : bool
        Mask keys j > t (T_q = T_k).
    key_mask : array_like of bool, shape (T_k,), optional
        Keys that exist; the others (padding) are masked.

    Returns
    -------
    Attention
    """
    scores = attention_scores(q, k)
    if causal:
        scores = np.where(np.tril(np.ones(scores.shape[-2:], dtype=bool)), scores, -np.inf)
    if key_mask is not None:
        scores = np.where(np.asarray(key_mask, dtype=bool), scores, -np.inf)
    row_max = scores.max(axis=-1, keepdims=True)
    shifted = np.exp(scores - row_max)
    row_sum = shifted.sum(axis=-1, keepdims=True)
    attention = shifted / row_sum
    with np.errstate(over="ignore"):
        normaliser = (np.exp(row_max) * row_sum)[..., 0]
    output = attention @ np.asarray(v, dtype=np.float64)
    return Attention(scores=scores, normaliser=normaliser, attention=attention, output=output)
