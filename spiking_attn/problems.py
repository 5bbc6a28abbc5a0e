"""Attention problems: queries, keys and values, seeded at random or loaded from an ``.npz`` file."""
from dataclasses import dataclass, replace
import zipfile

import numpy as np

from .errors import InputError


@dataclass(frozen=True)
class Problem:
    """One attention head's inputs.

    Attributes
    ----------
    q, k : ndarray, shape (T, D)
        Queries and keys (float64).
    v : ndarray, shape (T, Dv)
        Values (float64).
    name : str
        Where the problem came from (for tables and titles).
    """

    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    name: str = "problem"

    @property
    def tokens(self):
        return self.q.shape[0]

    @property
    def dim(self):
        return self.q.shape[1]

    @property
    def value_dim(self):
        return self.v.shape[1]

    def scaled(self, scale):
        """The problem with queries multiplied by ``scale`` (all scores scale by it)."""
        return replace(self, q=self.q * float(scale), name=f"{self.name} x{scale:g}")


def validate(q, k, v, name="problem"):
    """Check shapes and values and return a :class:`Problem` of float64 copies.

    Raises
    ------
    InputError
        If an array is not 2-D, holds NaN or inf, or the shapes do not agree
        (q and k must both be T x D, v must be T x Dv, T >= 1, D >= 1, Dv >= 1).
    """
    arrays = {}
    for label, array in (("q", q), ("k", k), ("v", v)):
        try:
            array = np.array(array, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"{name}: array '{label}' is not numeric") from None
        if array.ndim != 2:
            raise InputError(f"{name}: array '{label}' must be 2-D (tokens x features), got shape {array.shape}")
        if array.shape[0] < 1 or array.shape[1] < 1:
            raise InputError(f"{name}: array '{label}' is empty (shape {array.shape}); need at least 1 token and 1 feature")
        if not np.all(np.isfinite(array)):
            raise InputError(f"{name}: array '{label}' contains NaN or inf")
        arrays[label] = array
    q, k, v = arrays["q"], arrays["k"], arrays["v"]
    if q.shape != k.shape:
        raise InputError(f"{name}: q and k must have the same shape (T x D), got {q.shape} and {k.shape}")
    if v.shape[0] != q.shape[0]:
        raise InputError(f"{name}: v must have one row per token ({q.shape[0]}), got shape {v.shape}")
    return Problem(q=q, k=k, v=v, name=name)


def random_problem(tokens=16, dim=16, value_dim=None, seed=0, score_sd=1.0):
    """A seeded random problem whose scores have standard deviation about ``score_sd``.

    Entries of q and k are N(0, sigma^2) with sigma = sqrt(score_sd), so that
    s = q . k / sqrt(D) has variance sigma^4 = score_sd^2; values are N(0, 1).

    Parameters
    ----------
    tokens, dim : int
        T and D (both >= 1).
    value_dim : int, optional
        Dv; defaults to ``dim``.
    seed : int
        Seed of NumPy's default generator.
    score_sd : float
        Standard deviation of the scores (> 0).
    """
    value_dim = dim if value_dim is None else value_dim
    for label, number in (("tokens", tokens), ("dim", dim), ("value_dim", value_dim)):
        if int(number) != number or number < 1:
            raise InputError(f"{label} must be a whole number >= 1, got {number}")
    if not np.isfinite(score_sd) or score_sd <= 0:
        raise InputError(f"score_sd must be a positive number, got {score_sd}")
    rng = np.random.default_rng(seed)
    sigma = np.sqrt(score_sd)
    q = rng.normal(0.0, sigma, (tokens, dim))
    k = rng.normal(0.0, sigma, (tokens, dim))
    v = rng.normal(0.0, 1.0, (tokens, value_dim))
    return validate(q, k, v, name=f"random T={tokens} D={dim} seed={seed}")


def load_problem(path):
    """Load a problem from an ``.npz`` file holding arrays ``q``, ``k`` (T x D) and ``v`` (T x Dv).

    Raises
    ------
    InputError
        If the file is missing, is not an npz archive, lacks one of the arrays,
        or the arrays fail :func:`validate`.
    """
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not an .npz file") from None
    except (ValueError, OSError, EOFError) as error:
        raise InputError(f"{path}: not a readable .npz file ({error.__class__.__name__})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise InputError(f"{path}: not an .npz archive (it holds a single array)")
    with archive:
        missing = [label for label in ("q", "k", "v") if label not in archive.files]
        if missing:
            raise InputError(f"{path}: missing array(s) {', '.join(missing)}; need q, k (T x D) and v (T x Dv)")
        try:
            q, k, v = archive["q"], archive["k"], archive["v"]
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as error:
            raise InputError(f"{path}: an array cannot be read ({error.__class__.__name__})") from None
    return validate(q, k, v, name=str(path))
