"""Attention problems: queries, keys and values, seeded at random or loaded from an ``.npz`` file."""
import os
import tempfile
import zipfile
from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .option import Option
from .output import apply_umask
from .validation import checked_arrays, read_npz

# The options of the seeded random problem (`spiking-attn run` and `spiking-attn problem`); a circuit
# may have its own default score_sd (its kind's ``defaults``).
OPTIONS = (
    Option("tokens", "tokens T of the random problem", "whole", default=16, low=1, metavar="T"),
    Option("key_tokens", "keys and values of the random problem, for cross-attention (default: --tokens)", "whole",
           low=1, metavar="T_K"),
    Option("heads", "make the random problem multi-head: arrays (H, T, D), all heads in one network", "whole", low=1,
           metavar="H"),
    Option("dim", "head size D of the random problem", "whole", default=16, low=1, metavar="D"),
    Option("score_sd", "score s.d. of the random problem", "positive", default=1.0, metavar="X"),
    Option("scale", "multiply the queries by X, so every score scales by X", "number", default=1.0, metavar="X"),
)

# An array in every problem file that `spiking-attn problem` or `extract` writes: it recognises its own files.
PROBLEM_MARKER = "spiking_attn_problem"
# Arrays such a file may hold besides q, k, v and the marker (what `extract` adds).
PROBLEM_EXTRAS = ("tokens", "layer", "head")


@dataclass(frozen=True)
class Problem:
    """The inputs of one attention head, or of H heads.

    Attributes
    ----------
    q : ndarray, shape (T_q, D) or (H, T_q, D)
        Queries (float64).
    k : ndarray, shape (T_k, D) or (H, T_k, D)
        Keys (float64); T_k may differ from T_q (cross-attention).
    v : ndarray, shape (T_k, Dv) or (H, T_k, Dv)
        Values (float64).
    name : str
        Where the problem came from (for tables and titles).
    key_mask : ndarray of bool, shape (T_k,), optional
        Which keys exist (None: all). Masked keys are padding: they take no part in the attention
        (weight exactly 0), as a transformer masks the padding of a batch; see :meth:`padded`.
    """

    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    name: str = "problem"
    key_mask: np.ndarray = None

    @property
    def multi_head(self):
        """Whether the arrays have a leading head axis (results keep it)."""
        return self.q.ndim == 3

    @property
    def heads(self):
        return self.q.shape[0] if self.multi_head else 1

    @property
    def tokens(self):
        """T_q, the number of queries (per head)."""
        return self.q.shape[-2]

    @property
    def key_tokens(self):
        """T_k, the number of keys and values (per head)."""
        return self.k.shape[-2]

    @property
    def dim(self):
        return self.q.shape[-1]

    @property
    def value_dim(self):
        return self.v.shape[-1]

    def per_head(self):
        """q, k, v with a leading head axis (H = 1 for a single head)."""
        return tuple(x if self.multi_head else x[None] for x in (self.q, self.k, self.v))

    def padded(self, query_tokens, key_tokens):
        """The problem padded with zero rows to T_q = ``query_tokens`` and T_k = ``key_tokens``, the
        padding keys masked out: problems of different lengths padded to one shape run on one
        compiled network."""
        if query_tokens < self.tokens or key_tokens < self.key_tokens:
            raise ValueError(f"cannot pad {self.tokens} x {self.key_tokens} to {query_tokens} x {key_tokens}")

        def pad(array, rows):
            widths = [(0, 0)] * array.ndim
            widths[-2] = (0, rows - array.shape[-2])
            return np.pad(array, widths)

        mask = np.zeros(key_tokens, dtype=bool)
        mask[:self.key_tokens] = True if self.key_mask is None else self.key_mask
        return Problem(q=pad(self.q, query_tokens), k=pad(self.k, key_tokens), v=pad(self.v, key_tokens),
                       name=self.name, key_mask=mask)

    def scaled(self, scale):
        """The problem with queries multiplied by ``scale`` (all scores scale by it), validated again
        (the scaled queries must still be finite and representable)."""
        name = f"{self.name} scaled by {scale:g}"
        with np.errstate(over="ignore"):
            q = self.q * float(scale)
        return validate(q, self.k, self.v, name=name)


def validate(q, k, v, name="problem"):
    """Check arrays (:func:`spiking_attn.validation.checked_arrays`) and return a :class:`Problem`
    of float64 copies.

    Raises
    ------
    InputError
        If an array does not hold real numbers, is not 2-D (one head) or 3-D (heads first) or is
        empty, holds NaN or inf, has magnitudes the networks cannot represent, or the shapes do
        not agree (q: T_q x D, k: T_k x D, v: T_k x Dv, the same number of heads).
    """
    q, k, v = checked_arrays(q, k, v, name)
    return Problem(q=q, k=k, v=v, name=name)


# The initial membrane potentials (phases) of every circuit are drawn from the stream (PHASE_STREAM, seed), not from
# default_rng(seed), which draws the random problems: with the same seed the phases would be the queries' draws.
PHASE_STREAM = 0x9A5E


def phase_generator(seed):
    """The random generator of a circuit's initial phases for ``seed`` (a stream of its own)."""
    return np.random.default_rng([PHASE_STREAM, seed])


def random_problem(tokens=16, dim=16, value_dim=None, seed=0, score_sd=1.0, heads=None, key_tokens=None):
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
    heads : int, optional
        H: arrays get a leading head axis of that length (None: one head, 2-D arrays).
    key_tokens : int, optional
        T_k, the number of keys and values; defaults to ``tokens``.
    """
    value_dim = dim if value_dim is None else value_dim
    key_tokens = tokens if key_tokens is None else key_tokens
    for label, number in (("tokens", tokens), ("dim", dim), ("value_dim", value_dim), ("key_tokens", key_tokens),
                          ("heads", 1 if heads is None else heads)):
        if int(number) != number or number < 1:
            raise InputError(f"{label} must be a whole number >= 1, got {number}")
    if not np.isfinite(score_sd) or score_sd <= 0:
        raise InputError(f"score_sd must be a positive number, got {score_sd}")
    rng = np.random.default_rng(seed)
    sigma = np.sqrt(score_sd)
    lead = () if heads is None else (heads,)
    q = rng.normal(0.0, sigma, lead + (tokens, dim))
    k = rng.normal(0.0, sigma, lead + (key_tokens, dim))
    v = rng.normal(0.0, 1.0, lead + (key_tokens, value_dim))
    shape = f"T={tokens}" if key_tokens == tokens else f"T_q={tokens} T_k={key_tokens}"
    return validate(q, k, v, name=f"random {'' if heads is None else f'H={heads} '}{shape} D={dim} seed={seed}")


def load_problem(path):
    """Load a problem from an ``.npz`` file holding arrays ``q`` (T_q x D), ``k`` (T_k x D) and ``v``
    (T_k x Dv), each with a leading head axis (H) for several heads.

    Raises
    ------
    InputError
        If the file is missing, is not an npz archive, lacks one of the arrays,
        or the arrays fail :func:`validate`.
    """
    arrays = read_npz(path, ("q", "k", "v"), "need q (T_q x D), k (T_k x D) and v (T_k x Dv)")
    q, k, v = arrays["q"], arrays["k"], arrays["v"]
    return validate(q, k, v, name=str(path))


def _is_own_problem_file(path):
    """Whether ``path`` is an .npz that :func:`save_problem` wrote (q, k, v, the marker and its extras)."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return PROBLEM_MARKER in archive.files and set(archive.files) <= {"q", "k", "v", PROBLEM_MARKER,
                                                                                *PROBLEM_EXTRAS}
    except (OSError, ValueError, EOFError, AttributeError, TypeError, zipfile.BadZipFile):
        return False


def save_problem(problem, path, overwrite=False, extras=None):
    """Write ``problem`` to an .npz file (arrays q, k, v, a marker naming its origin and ``extras``,
    a dict with keys from :data:`PROBLEM_EXTRAS`).

    An existing file is replaced only with ``overwrite`` and only if it is a problem file written
    here before; the file appears complete or not at all (written beside it, then renamed).

    Raises
    ------
    InputError
        If the name does not end in .npz, the file exists and may not be replaced, or it cannot
        be written.
    """
    path = str(path)
    if not path.endswith(".npz"):
        raise InputError(f"{path}: the problem file name must end in .npz")
    if os.path.lexists(path):
        if not overwrite:
            raise InputError(f"{path} exists; choose another name or pass --overwrite")
        if not _is_own_problem_file(path):
            raise InputError(f"{path} was not written by `spiking-attn problem` or `extract`; --overwrite replaces "
                             "only such files, nothing was changed")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        handle, partial = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.partial-", suffix=".npz", dir=folder)
    except OSError as error:
        raise InputError(f"cannot write {path}: {error.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, q=problem.q, k=problem.k, v=problem.v, **{PROBLEM_MARKER: np.array(problem.name)},
                     **(extras or {}))
        apply_umask(partial, 0o666)
        os.replace(partial, path)
    except OSError as error:  # a write that failed (a full disk): the command's failure, not bad input
        raise OSError(error.errno, error.strerror, path) from None
    finally:
        if os.path.exists(partial):
            os.remove(partial)
