import numpy as np
import pytest

from spiking_attn.errors import InputError
from spiking_attn.problems import load_problem, random_problem, validate
from spiking_attn.reference import attention_scores


def test_random_problem_is_seeded_and_has_unit_score_spread():
    a, b = random_problem(16, 16, seed=3), random_problem(16, 16, seed=3)
    np.testing.assert_array_equal(a.q, b.q)
    assert not np.array_equal(a.q, random_problem(16, 16, seed=4).q)
    sds = [attention_scores(p.q, p.k).std() for p in (random_problem(64, 64, seed=s) for s in range(5))]
    assert 0.85 < np.mean(sds) < 1.15


def test_scaled_multiplies_the_scores():
    problem = random_problem(4, 4, seed=0)
    np.testing.assert_allclose(attention_scores(problem.scaled(2).q, problem.k),
                               2 * attention_scores(problem.q, problem.k))


def test_load_round_trip(tmp_path):
    problem = random_problem(5, 3, value_dim=2, seed=1)
    path = tmp_path / "p.npz"
    np.savez(path, q=problem.q, k=problem.k, v=problem.v)
    loaded = load_problem(path)
    assert (loaded.tokens, loaded.dim, loaded.value_dim) == (5, 3, 2)
    np.testing.assert_array_equal(loaded.v, problem.v)


@pytest.mark.parametrize("arrays, message", [
    (dict(q=np.full((2, 2), np.nan), k=np.ones((2, 2)), v=np.ones((2, 2))), "NaN or inf"),
    (dict(q=np.ones((2, 2)), k=np.array([[1, np.inf], [0, 0]]), v=np.ones((2, 2))), "NaN or inf"),
    (dict(q=np.ones((2, 2)), k=np.ones((2, 3)), v=np.ones((2, 2))), "same head size"),
    (dict(q=np.ones((2, 2)), k=np.ones((2, 2)), v=np.ones((3, 2))), "one row per key"),
    (dict(q=np.ones((0, 2)), k=np.ones((0, 2)), v=np.ones((0, 2))), "empty"),
    (dict(q=np.ones(2), k=np.ones(2), v=np.ones(2)), "2-D"),
])
def test_validation_names_the_problem(arrays, message):
    with pytest.raises(InputError, match=message):
        validate(**arrays)


def test_bad_files(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("not an archive")
    with pytest.raises(InputError, match="not a readable .npz"):
        load_problem(text)
    single = tmp_path / "single.npy"
    np.save(single, np.ones(3))
    with pytest.raises(InputError, match="not an .npz archive"):
        load_problem(single)
    partial = tmp_path / "partial.npz"
    np.savez(partial, q=np.ones((2, 2)))
    with pytest.raises(InputError, match="missing array.*k, v"):
        load_problem(partial)
    with pytest.raises(InputError, match="no such file"):
        load_problem(tmp_path / "absent.npz")


def test_random_problem_rejects_zero_tokens():
    with pytest.raises(InputError, match="tokens"):
        random_problem(0, 4)
