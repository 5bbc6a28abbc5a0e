"""Property-based tests of the validation layer: generated malformed arrays and option values must
get an InputError (a one-line message) and nothing else; what it accepts must be usable."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from spiking_attn.arguments import run_options, run_problems
from spiking_attn.cli import build_parser
from spiking_attn.errors import InputError
from spiking_attn.experiment import resolve_options
from spiking_attn.problems import validate
from spiking_attn.validation import MAX_ENTRY, MAX_SCORE, MIN_LARGEST

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DTYPES = st.sampled_from([np.float64, np.float32, np.float16, np.int64, np.int8, np.uint16, np.complex128,
                          np.bool_, "U3", "S2", object])
SPECIAL = st.sampled_from([0.0, 1.0, -2.5, np.nan, np.inf, -np.inf, 1e200, -1e120, 1e-310, 5e-324, 1e-90, 40.0])


@st.composite
def arrays(draw, shape=None):
    """Any array: a dtype, 0 to 3 dimensions of 0 to 4, values mixing ordinary and special numbers."""
    dtype = np.dtype(draw(DTYPES))
    shape = shape or draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    values = draw(st.lists(st.one_of(st.floats(-10, 10), SPECIAL), min_size=int(np.prod(shape)),
                           max_size=int(np.prod(shape))))
    floats = np.array(values, dtype=np.float64).reshape(shape)
    if dtype.kind == "O":
        return floats.astype(object)
    if dtype.kind in "iub":
        floats = np.clip(np.nan_to_num(floats, posinf=0, neginf=0), 0 if dtype.kind in "ub" else -100, 100)
    with np.errstate(all="ignore"):
        return floats.astype(dtype)


def acceptable(q, k, v):
    """The documented rules, written out independently of the validator."""
    for array in (q, k, v):
        if array.dtype.kind not in "iuf" or array.ndim not in (2, 3) or 0 in array.shape:
            return False
        with np.errstate(all="ignore"):
            values = array.astype(np.float64)
        if not np.all(np.isfinite(values)):
            return False
        largest = np.abs(values).max()
        if largest > MAX_ENTRY or 0 < largest < MIN_LARGEST:
            return False
    if not q.ndim == k.ndim == v.ndim or (q.ndim == 3 and not q.shape[0] == k.shape[0] == v.shape[0]):
        return False
    if q.shape[-1] != k.shape[-1] or v.shape[-2] != k.shape[-2]:
        return False
    with np.errstate(all="ignore"):
        scores = q.astype(np.float64) @ np.swapaxes(k.astype(np.float64), -1, -2) / np.sqrt(q.shape[-1])
    return bool(np.abs(scores).max() <= MAX_SCORE)


@FAST
@given(arrays(), arrays(), arrays())
def test_any_arrays_are_accepted_exactly_when_the_rules_allow(q, k, v):
    try:
        problem = validate(q, k, v)
    except InputError as error:
        assert "\n" not in str(error)
        assert not acceptable(q, k, v)
        return
    assert acceptable(q, k, v)
    for array in (problem.q, problem.k, problem.v):
        assert array.dtype == np.float64 and np.all(np.isfinite(array))


@FAST
@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), st.integers(1, 4), st.one_of(st.none(),
       st.integers(1, 3)), st.data())
def test_well_formed_arrays_are_accepted(tokens, key_tokens, dim, value_dim, heads, data):
    """One head (2-D) or H heads (3-D), T_q queries and T_k keys."""
    entries = st.floats(-3, 3).map(lambda x: x if abs(x) > 1e-6 else 0.0)  # documented range: 0 or >= 1e-100
    lead = () if heads is None else (heads,)
    q = data.draw(hnp.arrays(np.float64, lead + (tokens, dim), elements=entries))
    k = data.draw(hnp.arrays(np.float64, lead + (key_tokens, dim), elements=entries))
    v = data.draw(hnp.arrays(np.float64, lead + (key_tokens, value_dim), elements=entries))
    problem = validate(q, k, v)
    assert (problem.heads, problem.tokens, problem.key_tokens, problem.dim, problem.value_dim) == (
        heads or 1, tokens, key_tokens, dim, value_dim)
    assert problem.multi_head == (heads is not None)
    np.testing.assert_array_equal(problem.q, q)


WORDS = st.sampled_from(["", "x", "-1", "0", "1", "2", "0.105", "0.4", "1e300", "-0.0", "nan", "inf", "1e-5",
                         "4294967296", "100000", "softmax", "random-features", "numpy", "cython", "performer",
                         "cosine", "direct", "neurons", "on", "off", "/proc/none"])
OPTIONS = ["--tokens", "--key-tokens", "--heads", "--causal", "--dim", "--seed", "--scale", "--score-sd", "--duration",
           "--network", "--features", "--feature-map", "--write", "--normaliser", "--target", "--astrocyte",
           "--threads", "--cache-dir"]


@FAST
@given(st.lists(st.tuples(st.sampled_from(OPTIONS), WORDS), max_size=5))
def test_any_option_values_are_checked_or_refused_in_one_line(pairs):
    """Parse and validate generated command lines (everything a run checks before it simulates)."""
    argv = ["run", "--target", "numpy"] + [item for pair in pairs for item in pair]
    try:
        args = build_parser().parse_args(argv)
        options = run_options(args)
        problems = run_problems(args, options)
    except InputError as error:
        assert "\n" not in str(error) and str(error)
        return
    assert options.network in ("softmax", "random-features")
    assert 0 <= options.seed < 2 ** 32
    assert options.duration is None or 1e-3 <= options.duration <= 1e4
    if options.network == "softmax":
        assert options.features is options.feature_map is options.write is options.normaliser is None
    else:
        assert options.features >= 1
    assert options.threads is None or options.target == "cpp_standalone"
    for problem in problems:
        assert np.all(np.isfinite(problem.q)) and np.all(np.isfinite(problem.k))


@FAST
@given(st.fixed_dictionaries({}, optional={
    "network": st.sampled_from(["softmax", "random-features", "other", 3]),
    "duration": st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5), st.text(max_size=2)),
    "target": st.sampled_from(["numpy", "cython", "cpp_standalone", "gpu"]),
    "astrocyte": st.sampled_from([True, False, 1, "on", None]),
    "causal": st.sampled_from([True, False, 0, "yes", None]),
    "seed": st.one_of(st.integers(-2, 2 ** 33), st.floats(0, 3), st.booleans()),
    "features": st.one_of(st.integers(-3, 2000), st.floats(0, 10)),
    "feature_map": st.sampled_from(["performer", "linear", "gaussian"]),
    "write": st.sampled_from(["plastic", "direct", "both"]),
    "normaliser": st.sampled_from(["astrocyte", "neurons", "glia"]),
    "threads": st.one_of(st.integers(-1, 300), st.floats(0, 4)),
}))
def test_python_api_options_are_checked(given_options):
    try:
        options = resolve_options(warn=lambda message: None, **given_options)
    except InputError as error:
        assert "\n" not in str(error)
        return
    assert isinstance(options.seed, int) and isinstance(options.astrocyte, bool) and isinstance(options.causal, bool)
    assert not (options.causal and options.write == "direct")
    assert options.threads is None or (isinstance(options.threads, int) and 1 <= options.threads <= 256)
    if options.network == "random-features":
        assert isinstance(options.features, int) and options.features >= 1


def test_scale_is_checked_after_it_is_applied():
    problem = validate(np.full((2, 2), 1e60), np.full((2, 2), 1e-70), np.ones((2, 2)))
    with pytest.raises(InputError, match="above 1e\\+100"):
        problem.scaled(1e50)
    assert problem.scaled(0).q.max() == 0  # zero queries are valid: uniform attention
