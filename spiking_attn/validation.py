"""One validation layer for everything a user hands in: problem arrays and run options.

Every check raises :class:`~spiking_attn.errors.InputError` with one line that names the
problem; the command line prints it as ``spiking-attn: error: ...`` and exits with code 2 before
any output folder exists. The table of bad-input classes and their messages is in the README.

Arrays (q: T_q x D; k: T_k x D; v: T_k x Dv; or H heads of them, heads first) must hold real
numbers (integers or floats; not complex, bool, strings or objects), be 2-D (or all 3-D) and
non-empty, agree in shape, be finite as float64, and have magnitudes the networks can represent:

- the largest |entry| of each array is 0 or lies in [MIN_LARGEST, MAX_ENTRY]: the encoding gains
  are rate / max|q| and 1 / max|v|, which must be finite, and products of two entries must stay
  finite;
- every score |s_tj| = |q_t . k_j| / sqrt(D) is at most MAX_SCORE, so that exp(s) and a row's
  sum of exponentials stay finite in float64 (exp overflows at 709.8). This check looks at the
  inputs only; nothing computed here enters the network.

Options: see :func:`resolve_options`.
"""
import os
from dataclasses import dataclass

import numpy as np

from .errors import InputError

MAX_ENTRY = 1e100
MIN_LARGEST = 1e-100
MAX_SCORE = 500.0
MAX_SEED = 2 ** 32 - 1
MAX_DURATION = 1e4  # simulated seconds of a read window
MAX_THREADS = 256
# Measured peak of the building process: T=128, D=64 head, 4.3 million synapses, 1.17 GB (270 B each,
# 230 B above the 180 MB of an empty run); T=256, 17.3 million synapses, 2.47 GB (143 B each).
BYTES_PER_SYNAPSE = 250

NETWORKS = ("softmax", "random-features")
ASTROCYTE_MODELS = ("integral", "gchi")
MAX_MEMBRANE_NOISE = 10.0  # mV: one threshold
MAX_HETEROGENEITY = 0.5
# Options of the softmax head's robustness study, with their defaults.
VARIABILITY_OPTIONS = {"membrane_noise": 0.0, "heterogeneity": 0.0, "heterogeneous": "all", "input_spikes": "regular",
                       "dale": False}
# Options of the random-feature network only, with their defaults.
FEATURE_OPTIONS = {"features": 1000, "feature_map": "performer", "write": "plastic", "normaliser": "astrocyte"}


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


@dataclass(frozen=True)
class RunOptions:
    """The settings of one run, complete and checked (see :func:`resolve_options`)."""

    network: str = "softmax"
    duration: float = None
    settle: float = None
    target: str = "cpp_standalone"
    astrocyte: bool = True
    astrocyte_model: str = "integral"
    membrane_noise: float = 0.0
    heterogeneity: float = 0.0
    input_spikes: str = "regular"
    dale: bool = False
    heterogeneous: str = "all"
    seed: int = 0
    features: int = None
    feature_map: str = None
    write: str = None
    normaliser: str = None
    threads: int = None
    cache_dir: str = None
    causal: bool = False


def _whole_number(value, label, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise InputError(f"{label} must be a whole number from {low} to {high}, got {value!r}")
    return int(value)


def check_seed(seed):
    """The seed as an int, or InputError unless it is a whole number from 0 to MAX_SEED."""
    return _whole_number(seed, "seed", 0, MAX_SEED)


def _choice(value, label, choices):
    if value not in choices:
        raise InputError(f"unknown {label} {value!r}; choose one of {', '.join(choices)}")
    return value


def _positive_seconds(value, label):
    """``value`` as a float, or InputError unless it is a positive number of seconds up to MAX_DURATION."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not np.isfinite(value) or value <= 0:
        raise InputError(f"{label} must be a positive number of seconds, got {value!r}")
    if value > MAX_DURATION:
        raise InputError(f"{label} {value:g} s is above the limit of {MAX_DURATION:g} s")
    return float(value)


def _check_duration(duration, network):
    if duration is None:
        return None
    duration = _positive_seconds(duration, "duration")
    if network == "random-features":
        from .circuits import FeatureParameters

        try:
            FeatureParameters(read_window=float(duration))
        except ValueError as error:
            raise InputError(f"--duration: {error}") from None
    elif duration < 1e-3:
        raise InputError(f"duration {duration:g} s is shorter than 1 ms; nothing could be counted")
    return float(duration)


def _check_settle(settle, network):
    """The softmax head's settling time (s), or None for its default."""
    if settle is None:
        return None
    if network != "softmax":
        raise InputError("--settle applies to --network softmax only (the random-feature network settles each "
                         "query for a fixed 0.4 s)")
    return _positive_seconds(settle, "settle")


def _check_cache_dir(cache_dir, target, warn):
    from .devices import STANDALONE

    if cache_dir is None:
        return None
    if target not in STANDALONE:
        warn(f"warning: --cache-dir is ignored: target {target} keeps no build cache")
        return None
    from .cache import cache_root, check_usable

    check_usable(cache_root(cache_dir))
    return cache_dir


def _check_astrocyte_model(model, network, astrocyte):
    _choice(model, "astrocyte model", ASTROCYTE_MODELS)
    if model == "gchi" and network != "softmax":
        raise InputError("--astrocyte-model gchi applies to --network softmax only: the random-feature network's "
                         "astrocyte must report the linear sum p.phi(q) as its divisor, which a saturating Ca2+ "
                         "response cannot")
    if model == "gchi" and not astrocyte:
        raise InputError("--astrocyte-model gchi needs --astrocyte on: with the astrocytes off there is no loop "
                         "for it to sense")
    return model


def _flag(value, label):
    if not isinstance(value, (bool, np.bool_)):
        raise InputError(f"{label} must be True or False, got {value!r}")
    return bool(value)


def _fraction(value, label, high):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not 0 <= value <= high:
        raise InputError(f"{label} must be a number from 0 to {high:g}, got {value!r}")
    return float(value)


def _check_variability(given, network):
    """The robustness study's options, defaults filled in; any other value is refused for a network
    other than the softmax head."""
    misplaced = [name for name, value in given.items() if value is not None and value != VARIABILITY_OPTIONS[name]]
    if misplaced and network != "softmax":
        flags = ", ".join("--" + name.replace("_", "-") for name in misplaced)
        raise InputError(f"{flags} {'applies' if len(misplaced) == 1 else 'apply'} to --network softmax only")
    values = {name: default if given[name] is None else given[name] for name, default in VARIABILITY_OPTIONS.items()}
    from .circuits.softmax_head import HETEROGENEOUS, INPUT_SPIKES

    return {"membrane_noise": _fraction(values["membrane_noise"], "membrane noise (mV)", MAX_MEMBRANE_NOISE),
            "heterogeneity": _fraction(values["heterogeneity"], "heterogeneity", MAX_HETEROGENEITY),
            "heterogeneous": _choice(values["heterogeneous"], "heterogeneous factor", HETEROGENEOUS),
            "input_spikes": _choice(values["input_spikes"], "input spikes", INPUT_SPIKES),
            "dale": _flag(values["dale"], "dale")}


def resolve_options(warn=print, **given):
    """Check the options of a run and fill in the defaults.

    Options that do not apply to the chosen network or target are refused with one line (they
    would otherwise be recorded as if they applied): ``features``, ``feature_map``, ``write``
    and ``normaliser`` apply to ``network='random-features'`` only, ``threads`` to
    ``target='cpp_standalone'`` only. ``cache_dir`` with a runtime target is harmless and only
    warned about.

    Parameters
    ----------
    warn : callable
        Receives one-line warnings.
    **given
        Fields of :class:`RunOptions`; None (or absent) means "not given".

    Returns
    -------
    RunOptions
        With the defaults of the chosen network and target filled in (``threads`` stays None
        for the targets it does not apply to).
    """
    from .devices import TARGETS, check_target

    unknown = set(given) - set(RunOptions.__dataclass_fields__)
    if unknown:
        raise InputError(f"unknown option(s): {', '.join(sorted(unknown))}")
    given = {name: value for name, value in given.items() if value is not None}
    network = _choice(given.get("network", "softmax"), "network", NETWORKS)
    target = _choice(given.get("target", "cpp_standalone"), "target", TARGETS)
    feature_options = {name: given.get(name) for name in FEATURE_OPTIONS}
    if network != "random-features":
        misplaced = [name for name, value in feature_options.items() if value is not None]
        if misplaced:
            flags = ", ".join("--" + name.replace("_", "-") for name in misplaced)
            verb = "applies" if len(misplaced) == 1 else "apply"
            raise InputError(f"{flags} {verb} to --network random-features only, not to --network {network}")
    else:
        from .circuits.random_features import NORMALISERS, WRITE_MODES
        from .features import FEATURE_MAPS

        feature_options = {name: default if feature_options[name] is None else feature_options[name]
                           for name, default in FEATURE_OPTIONS.items()}
        _whole_number(feature_options["features"], "the number of features", 1, 10 ** 7)
        _choice(feature_options["feature_map"], "feature map", FEATURE_MAPS)
        _choice(feature_options["write"], "write mode", WRITE_MODES)
        _choice(feature_options["normaliser"], "normaliser", NORMALISERS)
        if given.get("causal") and feature_options["write"] == "direct":
            raise InputError("--causal needs --write plastic: directly written H and p cannot grow key by key")
    threads = given.get("threads")
    if threads is not None and target != "cpp_standalone":
        raise InputError(f"--threads applies to --target cpp_standalone only, not to {target}")
    if target == "cpp_standalone":
        threads = _whole_number(1 if threads is None else threads, "threads", 1, MAX_THREADS)
    astrocyte, causal = given.get("astrocyte", True), given.get("causal", False)
    for label, flag in (("astrocyte", astrocyte), ("causal", causal)):
        _flag(flag, label)
    astrocyte_model = _check_astrocyte_model(given.get("astrocyte_model", "integral"), network, astrocyte)
    variability = _check_variability({name: given.get(name) for name in VARIABILITY_OPTIONS}, network)
    check_target(target)
    return RunOptions(network=network, duration=_check_duration(given.get("duration"), network),
                      settle=_check_settle(given.get("settle"), network), target=target,
                      astrocyte=bool(astrocyte), astrocyte_model=astrocyte_model, causal=bool(causal), seed=check_seed(given.get("seed", 0)),
                      threads=threads, cache_dir=_check_cache_dir(given.get("cache_dir"), target, warn),
                      **variability, **feature_options)


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
