"""Random-feature attention, the paper's construction, as a rate model (NumPy, float64).

Kozachkov, Kastanenka & Krotov (PNAS 2023) write exp(q.k) as a dot product of m random features,
exp(q.k) ~ phi(q) . phi(k). With queries and keys scaled by D^(-1/4) the kernel approximates
exp(q.k / sqrt(D)). W is an m x D matrix of N(0, 1) entries and b is uniform on [0, 2 pi):

    performer            phi(x) = exp(W x - |x|^2 / 2) / sqrt(m)                 (default; unbiased)
    cosine               phi(x) = sqrt(2/m) cos(W x + b) exp(|x|^2 / 2)           (unbiased)
    linear               phi(x) = 1 + (W x - |x|^2 / 2 - ln(m) / 2)               (Taylor, first order)
    truncated-performer  phi(x) = min(exp(W x), exp(clip)) exp(-|x|^2 / 2) / sqrt(m)
    rectified-cosine     phi(x) = max(0, cosine phi(x))
    clipped-sine         phi(x) = sqrt(2/m) sin(clip(W x + b, -pi/2, pi/2)) exp(|x|^2 / 2)

Writing stores H = sum_j v_j phi(k_j)^T and p = sum_j phi(k_j); reading gives the astrocyte
response a_t = p . phi(q_t) (which approximates Z_t) and the output y_t = H phi(q_t) / a_t.
This is linear attention with kernel phi(q) . phi(k): A_tj = phi(q_t) . phi(k_j) / a_t.

Neurons fire at non-negative rates, so the spiking network carries a signed feature by an on/off
pair of neurons, [max(phi, 0), max(-phi, 0)] (:func:`split_features`). A local Hebbian circuit then
realises the kernel of the pair features, phi+ . phi+ + phi- . phi-, which equals phi . phi only for
non-negative maps (performer, truncated-performer, rectified-cosine).
"""
from dataclasses import dataclass

import numpy as np

FEATURE_MAPS = ("performer", "cosine", "linear", "truncated-performer", "rectified-cosine", "clipped-sine")
SIGNED_MAPS = ("cosine", "linear", "clipped-sine")
TRUNCATION = 3.0  # truncated-performer clips W x at this value (exp(W x) <= e^3)


@dataclass(frozen=True)
class FeatureMap:
    """A seeded random feature map phi: R^D -> R^m.

    Attributes
    ----------
    name : str
        One of FEATURE_MAPS.
    W : ndarray, shape (m, D)
        N(0, 1) projections.
    b : ndarray, shape (m,)
        Phases, uniform on [0, 2 pi).
    """

    name: str
    W: np.ndarray
    b: np.ndarray

    @property
    def features(self):
        return self.W.shape[0]

    def __call__(self, x):
        """phi(x) for the rows of ``x`` (already scaled by D^(-1/4)), shape (n, m)."""
        x = np.asarray(x, dtype=np.float64)
        m = self.features
        z = x @ self.W.T
        half_norm = 0.5 * np.sum(x ** 2, axis=1, keepdims=True)
        if self.name == "performer":
            return np.exp(z - half_norm) / np.sqrt(m)
        if self.name == "truncated-performer":
            return np.exp(np.minimum(z, TRUNCATION) - half_norm) / np.sqrt(m)
        if self.name == "linear":
            return 1.0 + z - half_norm - 0.5 * np.log(m)
        if self.name in ("cosine", "rectified-cosine"):
            phi = np.sqrt(2.0 / m) * np.cos(z + self.b) * np.exp(half_norm)
            return np.maximum(phi, 0.0) if self.name == "rectified-cosine" else phi
        if self.name == "clipped-sine":
            return np.sqrt(2.0 / m) * np.sin(np.clip(z + self.b, -np.pi / 2, np.pi / 2)) * np.exp(half_norm)
        raise ValueError(f"unknown feature map {self.name!r}; choose one of {', '.join(FEATURE_MAPS)}")


# W and b are drawn from the stream (FEATURE_MAP_STREAM, seed), not from default_rng(seed), which draws
# the random problems: with the same seed, W's first rows would be the problem's queries (times 1/sd).
FEATURE_MAP_STREAM = 0x5EA7


def random_feature_map(name, features, dim, seed=0):
    """A feature map with W ~ N(0, 1)^(m x D) and b ~ U[0, 2 pi)^m drawn from ``seed`` (a stream of
    its own, independent of the problem :func:`spiking_attn.problems.random_problem` draws from the
    same seed)."""
    if name not in FEATURE_MAPS:
        raise ValueError(f"unknown feature map {name!r}; choose one of {', '.join(FEATURE_MAPS)}")
    if int(features) != features or features < 1:
        raise ValueError(f"the number of features must be a whole number >= 1, got {features}")
    rng = np.random.default_rng([FEATURE_MAP_STREAM, seed])
    W = rng.normal(0.0, 1.0, (int(features), dim))
    b = rng.uniform(0.0, 2 * np.pi, int(features))
    return FeatureMap(name=name, W=W, b=b)


def split_features(phi):
    """On/off pair features [max(phi, 0), max(-phi, 0)], shape (n, 2m), all non-negative."""
    return np.concatenate([np.maximum(phi, 0.0), np.maximum(-phi, 0.0)], axis=1)


@dataclass(frozen=True)
class RateModel:
    """The paper's construction in continuous values.

    Attributes
    ----------
    memory : ndarray, shape (Dv, m)
        H = sum_j v_j phi(k_j)^T, written into hidden -> output synapses.
    presynaptic : ndarray, shape (m,)
        p = sum_j phi(k_j), integrated by the astrocyte processes.
    query_features : ndarray, shape (T, m)
        phi(q_t).
    astrocyte : ndarray, shape (T,)
        a_t = p . phi(q_t), the astrocyte response (approximates Z_t).
    attention : ndarray, shape (T, T)
        phi(q_t) . phi(k_j) / a_t.
    output : ndarray, shape (T, Dv)
        y_t = H phi(q_t) / a_t.
    """

    memory: np.ndarray
    presynaptic: np.ndarray
    query_features: np.ndarray
    astrocyte: np.ndarray
    attention: np.ndarray
    output: np.ndarray


def random_feature_attention(q, k, v, feature_map, pairs=False, causal=False):
    """Run the rate model: write (H, p) from keys and values, then read every query (causal: read
    query t after writing keys 1..t, so H and p are prefix sums).

    Parameters
    ----------
    q, k : array_like, shape (T, D)
        Queries and keys; they are scaled by D^(-1/4) here.
    v : array_like, shape (T, Dv)
    feature_map : FeatureMap
    pairs : bool
        Use the on/off pair features of :func:`split_features` (what the spiking network realises).
    causal : bool
        Query t sees keys j <= t only; ``memory`` and ``presynaptic`` are then those after all T keys.

    Returns
    -------
    RateModel
    """
    q = np.asarray(q, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    scale = q.shape[1] ** -0.25
    phi_q, phi_k = feature_map(q * scale), feature_map(k * scale)
    if pairs:
        phi_q, phi_k = split_features(phi_q), split_features(phi_k)
    v = np.asarray(v, dtype=np.float64)
    similarity = phi_q @ phi_k.T
    if causal:
        similarity = np.tril(similarity)
    astrocyte = similarity.sum(axis=1)
    return RateModel(memory=v.T @ phi_k, presynaptic=phi_k.sum(axis=0), query_features=phi_q, astrocyte=astrocyte,
                     attention=similarity / astrocyte[:, None], output=(similarity @ v) / astrocyte[:, None])
