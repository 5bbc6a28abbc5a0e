"""Checks of the arrays a user hands in, and of the size of the network they make.

Every check raises :class:`~spiking_attn.errors.InputError` with one line that names the
problem; the command line prints it as ``spiking-attn: error: ...`` and exits with code 2 before
any output folder exists. The table of bad-input classes and their messages is docs/errors.md.

Arrays (q: T_q x D; k: T_k x D; v: T_k x Dv; or H heads of them, heads first) must hold real
numbers (integers or floats; not complex, bool, strings or objects), be 2-D (or all 3-D) and
non-empty, agree in shape, be finite as float64, and have magnitudes the networks can represent:

- the largest |entry| of each array is 0 or lies in [MIN_LARGEST, MAX_ENTRY]: the encoding gains
  are rate / max|q| and 1 / max|v|, which must be finite, and products of two entries must stay
  finite;
- every score |s_tj| = |q_t . k_j| / sqrt(D) is at most MAX_SCORE, so that exp(s) and a row's
  sum of exponentials stay finite in float64 (exp overflows at 709.8). This check looks at the
  inputs only; nothing computed here enters the network.

Run options are declared and checked by :mod:`spiking_attn.option`.
"""
import os
import zipfile

import numpy as np

from .errors import InputError

MAX_ENTRY = 1e100
MIN_LARGEST = 1e-100
MAX_SCORE = 500.0
# Measured peak of the building process: T=128, D=64 head, 4.3 million synapses, 1.17 GB (270 B each,
# 230 B above the 180 MB of an empty run); T=256, 17.3 million synapses, 2.47 GB (143 B each).
BYTES_PER_SYNAPSE = 250


def real_array(array, label, name):
    """``array`` as a 2-D or 3-D, non-empty, finite float64 array of real numbers, or InputError."""
    try:
        array = np.asarray(array)
    except (TypeError, ValueError):  # ragged nested sequences
        raise InputError(f"{name}: array '{label}' is not a rectangular array of numbers") from None
    if array.dtype.kind not in "iuf":
        kind = {"c": "complex numbers", "b": "booleans", "U": "strings", "S": "bytes", "O": "Python objects",
                "V": "records", "M": "dates", "m": "time intervals"}.get(array.dtype.kind, str(array.dtype))
        raise InputError(f"{name}: array '{label}' holds {kind}; it must hold real numbers (int or float)")
    if array.ndim not in (2, 3):
        raise InputError(f"{name}: array '{label}' must be 2-D (tokens x features) or 3-D (heads x tokens x "
                         f"features), got shape {array.shape}")
    if min(array.shape) < 1:
        raise InputError(f"{name}: array '{label}' is empty (shape {array.shape}); need at least 1 token and 1 feature")
    with np.errstate(over="ignore"):
        array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise InputError(f"{name}: array '{label}' contains NaN or inf (after conversion to float64)")
    largest = float(np.abs(array).max())
    if largest > MAX_ENTRY:
        raise InputError(f"{name}: array '{label}' has an entry of magnitude {largest:.3g}, above {MAX_ENTRY:g}; "
                         "rescale the problem")
    if 0 < largest < MIN_LARGEST:
        raise InputError(f"{name}: array '{label}' is too small to encode (largest magnitude {largest:.3g}, "
                         f"below {MIN_LARGEST:g}); rescale it or use zeros")
    return array


def checked_arrays(q, k, v, name="problem"):
    """Validate a problem's arrays (see the module docstring) and return float64 copies of q, k, v."""
    q, k, v = (real_array(array, label, name) for array, label in ((q, "q"), (k, "k"), (v, "v")))
    if not q.ndim == k.ndim == v.ndim:
        raise InputError(f"{name}: q, k and v must all be 2-D (one head) or all 3-D (heads first), got "
                         f"{q.ndim}-D, {k.ndim}-D and {v.ndim}-D")
    if q.ndim == 3 and not q.shape[0] == k.shape[0] == v.shape[0]:
        raise InputError(f"{name}: q, k and v must have the same number of heads, got {q.shape[0]}, {k.shape[0]} "
                         f"and {v.shape[0]}")
    if q.shape[-1] != k.shape[-1]:
        raise InputError(f"{name}: q and k must have the same head size D, got {q.shape[-1]} and {k.shape[-1]}")
    if v.shape[-2] != k.shape[-2]:
        raise InputError(f"{name}: v must have one row per key ({k.shape[-2]}), got shape {v.shape}")
    largest_score = max(_largest_score(q_h, k_h) for q_h, k_h in zip(q.reshape(-1, *q.shape[-2:]),
                                                                        k.reshape(-1, *k.shape[-2:])))
    if largest_score > MAX_SCORE:
        raise InputError(f"{name}: a score q.k/sqrt(D) reaches {largest_score:.3g}, above {MAX_SCORE:g}, "
                         "where exp(score) cannot be represented; rescale q or k")
    return q, k, v


def _largest_score(q, k):
    """max |q_t . k_j| / sqrt(D): the Cauchy-Schwarz bound max|q_t| max|k_j| / sqrt(D) when that is
    already below MAX_SCORE, else computed a block of query rows at a time (T x T never held)."""
    root_d = np.sqrt(q.shape[1])
    bound = float(np.linalg.norm(q, axis=1).max() * np.linalg.norm(k, axis=1).max()) / root_d
    if bound <= MAX_SCORE:
        return bound
    rows = max(1, 10 ** 7 // k.shape[0])
    largest = max(float(np.abs(q[start:start + rows] @ k.T).max()) for start in range(0, q.shape[0], rows))
    return largest / root_d


def check_size(synapses, label):
    """Refuse a network whose synapses would not fit in this machine's memory."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return
    needed = synapses * BYTES_PER_SYNAPSE
    if needed > memory:
        raise InputError(f"{label} needs {synapses:.3g} synapses, about {needed / 1e9:.0f} GB, more than this "
                         f"machine's {memory / 1e9:.0f} GB of memory; use a smaller problem")


def require_finite(label, *values):
    """Raise InputError if a gain or weight derived from the inputs is not finite."""
    for value in values:
        if not np.all(np.isfinite(value)):
            raise InputError(f"{label} is not finite for these inputs; rescale the problem")


def read_npz(path, labels, hint):
    """The arrays ``labels`` of the ``.npz`` file ``path`` (a dict), or InputError naming what is wrong
    (missing or unreadable file, not an archive, a missing array: ``hint`` says what is needed)."""
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
        missing = [label for label in labels if label not in archive.files]
        if missing:
            raise InputError(f"{path}: missing array(s) {', '.join(missing)}; {hint}")
        try:
            return {label: archive[label] for label in labels}
        except ValueError as error:
            if "allow_pickle" in str(error):  # an object array: rows of mixed sizes, or anything not numbers
                raise InputError(f"{path}: an array holds Python objects (rows of mixed sizes?); it must be a "
                                 "rectangular array of numbers") from None
            raise InputError(f"{path}: an array cannot be read (ValueError)") from None
        except (OSError, zipfile.BadZipFile, EOFError) as error:
            raise InputError(f"{path}: an array cannot be read ({error.__class__.__name__})") from None
