"""Every class of bad input in docs/errors.md: one line ``spiking-attn: error: ...``, exit code 2,
no traceback and no output folder. One test per row of that table (and the table lists every case)."""
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from spiking_attn.cli import main
from spiking_attn.problems import random_problem, save_problem

ERRORS_PAGE = Path(__file__).resolve().parent.parent / "docs" / "errors.md"


def npz(folder, name="p.npz", **arrays):
    """A problem file with the given arrays (defaults: a valid 2 x 2 problem)."""
    arrays = {"q": np.ones((2, 2)), "k": np.ones((2, 2)), "v": np.ones((2, 2)), **arrays}
    path = folder / name
    np.savez(path, **arrays)
    return str(path)


def user_folder(folder):
    """A folder holding a user's own file."""
    folder.mkdir(exist_ok=True)
    (folder / "notes.txt").write_text("mine")
    return str(folder)


def only_q(folder):
    path = folder / "q_only.npz"
    np.savez(path, q=np.ones((2, 2)))
    return str(path)


def other_calibration(folder):
    """A calibration file of another network (the default problem's network, but D = 4)."""
    from spiking_attn.calibration import Calibration, save_calibration
    from spiking_attn.circuits.softmax_head import KIND, HeadParameters
    from spiking_attn.experiment import resolve_options

    identity = KIND.calibration.identity(random_problem(16, 4), resolve_options(), HeadParameters())
    path = folder / "calibration.npz"
    save_calibration(path, Calibration(identity=identity, seconds=1.0, state={}, origin="calibrated", file=str(path)))
    return str(path)


def text_file(folder):
    path = folder / "notes.npz"
    path.write_text("not an archive")
    return str(path)


def empty_file(folder):
    path = folder / "texts.txt"
    path.write_text("\n  \n")
    return str(path)


def gpt_folder(folder):
    """A model folder of a model type the encoder does not support."""
    model = folder / "gpt"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "gpt2"}')
    for name in ("model.safetensors", "tokenizer.json"):
        (model / name).write_text("")
    return str(model)


def texts_file(folder, data):
    path = folder / "texts.txt"
    path.write_bytes(data)
    return str(path)


def tiny_model(folder, damage=None):
    """A BERT model folder of 1 layer and hidden size 4 (the installed model's tokenizer), its weights damaged by
    ``damage(weights)``; "truncated" cuts model.safetensors in half."""
    from safetensors.numpy import save_file

    from spiking_attn.encoder import default_model_folder, expected_shapes

    model = folder / "tiny"
    model.mkdir()
    sizes = {"hidden_size": 4, "num_attention_heads": 2, "num_hidden_layers": 1, "intermediate_size": 8,
             "vocab_size": 40000, "max_position_embeddings": 16, "type_vocab_size": 2}
    (model / "config.json").write_text(json.dumps({"model_type": "bert", **sizes}))
    os.symlink(os.path.join(default_model_folder(), "tokenizer.json"), model / "tokenizer.json")
    weights = {name: np.zeros(shape, dtype=np.float32) for name, shape in expected_shapes(sizes).items()}
    if callable(damage):
        damage(weights)
    save_file(weights, str(model / "model.safetensors"))
    if damage == "truncated":
        os.truncate(model / "model.safetensors", os.path.getsize(model / "model.safetensors") // 2)
    if damage == "no tokenizer":
        os.remove(model / "tokenizer.json")
    return str(model)


def narrow_query(weights):
    weights["encoder.layer.0.attention.self.query.weight"] = np.zeros((4, 3), dtype=np.float32)


def nan_key(weights):
    weights["encoder.layer.0.attention.self.key.weight"][1, 2] = np.nan


HELD = []  # lock files held open by a case (the folder in use by "another" command)


def sweep_folder_in_use(folder):
    import fcntl

    from spiking_attn.output import FOLDER_LOCK

    out = folder / "busy"
    out.mkdir()
    (out / "sweep.json").write_text('{"tool": "spiking-attn"}')
    lock = open(out / FOLDER_LOCK, "a+")
    lock.write("12345\n")
    lock.flush()
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    HELD.append(lock)
    return str(out)


def half_written_sweep(folder):
    out = folder / "half"
    out.mkdir()
    (out / "sweep.json").write_text('{"tool": "spiking-attn", "metrics": ["row_tv_mean"], "grid_options": ["seed"]}')
    (out / "runs.parquet").write_bytes(b"PAR1 half a table")
    return str(out)


def damaged_calibration(folder, how):
    path = other_calibration(folder)
    if how == "truncated":
        os.truncate(path, os.path.getsize(path) // 2)
    else:
        with np.load(path) as saved:
            arrays = dict(saved)
        arrays["state__v"] = np.array([np.nan])
        np.savez(path, **arrays)
    return path


def far_apart_tokens(folder):
    """Queries along one axis and keys along another (all scores 0) with |x|^2 / 2 = 1250."""
    q = np.zeros((2, 16))
    q[:, 0] = 100.0
    k = np.zeros((2, 16))
    k[:, 1] = 100.0
    return npz(folder, q=q, k=k)


def patterns_file(folder, patterns):
    path = folder / "patterns.npz"
    np.savez(path, patterns=patterns)
    return str(path)


def mixed_patterns(folder):
    """Patterns of 3 and 4 entries: a ragged (object) array."""
    return patterns_file(folder, np.array([np.ones(3), np.ones(4)], dtype=object))


def sweep_config(folder, text="[grid]\nseed = [0, 1]\n"):
    path = folder / "s.toml"
    path.write_text(text)
    return str(path)


# case: (arguments of `spiking-attn`, given the test's tmp_path; a fragment of the message)
CASES = {
    "seed-negative": (lambda d: ["run", "--seed", "-1"], "seed must be a whole number from 0 to 4294967295"),
    "seed-not-a-number": (lambda d: ["run", "--seed", "x"], "argument --seed: invalid int value"),
    "tokens-zero": (lambda d: ["run", "--tokens", "0"], "argument --tokens: must be at least 1"),
    "duration-negative": (lambda d: ["run", "--duration", "-1"], "argument --duration: must be positive"),
    "duration-too-long": (lambda d: ["run", "--duration", "1e6"], "above the limit of 10000 s"),
    "duration-too-short": (lambda d: ["run", "--duration", "1e-5"], "shorter than 1 ms"),
    "duration-off-step": (lambda d: ["run", "--network", "random-features", "--duration", "0.105"],
                          "must be a whole multiple of step"),
    "scale-not-finite": (lambda d: ["run", "--scale", "nan"], "argument --scale: must be finite"),
    "scale-overflow": (lambda d: ["run", "--scale", "1e300"], "has an entry of magnitude"),
    "score-sd-zero": (lambda d: ["run", "--score-sd", "0"], "argument --score-sd: must be positive"),
    "target-unknown": (lambda d: ["run", "--target", "gpu"], "argument --target: invalid choice"),
    "network-unknown": (lambda d: ["run", "--network", "transformer"], "argument --network: invalid choice"),
    "feature-option-with-softmax": (lambda d: ["run", "--features", "100", "--write", "direct"],
                                    "--features, --write apply to --network random-features only"),
    "threads-with-runtime-target": (lambda d: ["run", "--target", "numpy", "--threads", "2"],
                                    "--threads applies to --target cpp_standalone only"),
    "threads-too-many": (lambda d: ["run", "--threads", "100000"], "threads must be a whole number from 1 to 256"),
    "cache-dir-unusable": (lambda d: ["run", "--cache-dir", "/proc/spiking-attn-cache"], "cannot use the build cache"),
    "random-options-with-input": (lambda d: ["run", "--input", npz(d), "--tokens", "4"],
                                  "cannot be used with --input"),
    "too-large-for-memory": (lambda d: ["run", "--tokens", "100000"], "more than this machine's"),
    "causal-cross-attention": (lambda d: ["run", "--causal", "--tokens", "4", "--key-tokens", "6"],
                               "--causal needs as many queries as keys"),
    "settle-with-random-features": (lambda d: ["run", "--network", "random-features", "--settle", "1"],
                                    "--settle applies to --network softmax only"),
    "gchi-with-random-features": (lambda d: ["run", "--network", "random-features", "--astrocyte-model", "gchi"],
                                  "--astrocyte-model gchi applies to --network softmax only"),
    "gchi-astrocyte-off": (lambda d: ["run", "--astrocyte-model", "gchi", "--astrocyte", "off"],
                           "--astrocyte-model gchi needs --astrocyte on"),
    "membrane-noise-out-of-range": (lambda d: ["run", "--membrane-noise", "-1"],
                                    "membrane noise (mV) must be a number from 0 to 10, got -1.0"),
    "heterogeneity-out-of-range": (lambda d: ["run", "--heterogeneity", "0.8"],
                                   "heterogeneity must be a number from 0 to 0.5, got 0.8"),
    "calibrate-and-calibration": (lambda d: ["run", "--calibrate", "4", "--calibration", npz(d)],
                                  "--calibrate and --calibration exclude each other"),
    "calibrate-with-random-features": (lambda d: ["run", "--network", "random-features", "--calibrate", "4"],
                                       "--calibrate applies to --network softmax only"),
    "calibration-not-a-calibration": (lambda d: ["run", "--calibration", npz(d)], "not a calibration file"),
    "calibration-other-network": (lambda d: ["run", "--calibration", other_calibration(d)],
                                  "the calibration belongs to another network (dim 4 there, 16 here; value_dim 4 "
                                  "there, 16 here)"),
    "variability-with-random-features": (lambda d: ["run", "--network", "random-features", "--input-spikes", "poisson"],
                                         "--input-spikes applies to --network softmax only"),
    "random-features-heads": (lambda d: ["run", "--network", "random-features", "--heads", "2"],
                              "the random-feature network takes one head"),
    "causal-direct-write": (lambda d: ["run", "--network", "random-features", "--write", "direct", "--causal"],
                            "--causal needs --write plastic"),
    "out-is-a-file": (lambda d: ["run", "--out", npz(d)], "is an existing file or link, not a folder"),
    "path-empty": (lambda d: ["memory", "--out", ""], "argument --out: expected a path, got an empty string"),
    "out-not-empty": (lambda d: ["run", "--out", user_folder(d / "mine")], "is not empty; choose another --out"),
    "overwrite-foreign-folder": (lambda d: ["run", "--out", user_folder(d / "mine"), "--overwrite"],
                                 "holds files spiking-attn did not write (notes.txt)"),
    "out-unwritable": (lambda d: ["run", "--out", npz(d) + "/out"], "cannot write output directory"),
    "array-nan": (lambda d: ["run", "--input", npz(d, q=np.full((2, 2), np.nan))], "contains NaN or inf"),
    "array-complex": (lambda d: ["run", "--input", npz(d, q=np.ones((2, 2)) * 1j)], "holds complex numbers"),
    "array-strings": (lambda d: ["run", "--input", npz(d, k=np.array([["a", "b"], ["c", "d"]]))], "holds strings"),
    "array-booleans": (lambda d: ["run", "--input", npz(d, v=np.ones((2, 2), dtype=bool))], "holds booleans"),
    "array-not-2d-or-3d": (lambda d: ["run", "--input", npz(d, q=np.ones((2, 2, 2, 2)))],
                           "must be 2-D (tokens x features) or 3-D"),
    "arrays-mixed-2d-3d": (lambda d: ["run", "--input", npz(d, q=np.ones((2, 2, 2)))], "must all be 2-D (one head)"),
    "heads-disagree": (lambda d: ["run", "--input", npz(d, q=np.ones((2, 2, 2)), k=np.ones((3, 2, 2)),
                                                         v=np.ones((3, 2, 2)))], "the same number of heads"),
    "array-empty": (lambda d: ["run", "--input", npz(d, q=np.ones((0, 2)), k=np.ones((0, 2)), v=np.ones((0, 2)))],
                    "is empty"),
    "shapes-q-k": (lambda d: ["run", "--input", npz(d, k=np.ones((2, 3)))], "q and k must have the same head size"),
    "shapes-v": (lambda d: ["run", "--input", npz(d, v=np.ones((3, 2)))], "v must have one row per key"),
    "entry-too-large": (lambda d: ["run", "--input", npz(d, q=np.full((2, 2), 1e200))], "above 1e+100"),
    "entries-too-small": (lambda d: ["run", "--input", npz(d, q=np.full((2, 2), 1e-310))], "too small to encode"),
    "score-too-large": (lambda d: ["run", "--input", npz(d, q=np.full((2, 2), 30.0), k=np.full((2, 2), 30.0))],
                        "where exp(score) cannot be represented"),
    "feature-map-not-finite": (lambda d: ["run", "--network", "random-features", "--feature-map", "cosine",
                                          "--input", far_apart_tokens(d)], "feature map is not finite"),
    "feature-map-zero": (lambda d: ["run", "--network", "random-features", "--input", far_apart_tokens(d)],
                         "feature map is 0 for every token"),
    "array-missing": (lambda d: ["run", "--input", only_q(d)], "missing array(s) k, v"),
    "not-an-npz": (lambda d: ["run", "--input", text_file(d)], "not a readable .npz file"),
    "no-such-file": (lambda d: ["run", "--input", str(d / "absent.npz")], "no such file"),
    "folder-without-npz": (lambda d: ["run", "--input", user_folder(d / "mine")], "folder holds no .npz files"),
    "input-names-collide": (lambda d: ["run", "--input", npz(d), npz(Path(user_folder(d / "mine")))],
                            "two input files share a name"),
    "extract-not-a-model": (lambda d: ["extract", "--model", user_folder(d / "mine"), "--text", "A text.",
                                       "--out", str(d / "e.npz")], "not a model folder (missing config.json"),
    "extract-unsupported-model": (lambda d: ["extract", "--model", gpt_folder(d), "--text", "A text.",
                                             "--out", str(d / "e.npz")], "not a supported model (model_type 'gpt2'"),
    "extract-empty-text": (lambda d: ["extract", "--text", "  ", "--out", str(d / "e.npz")], "the text is empty"),
    "extract-text-too-long": (lambda d: ["extract", "--text", "word " * 600, "--out", str(d / "e.npz")],
                              "more than the model's 512 positions"),
    "extract-layer-out-of-range": (lambda d: ["extract", "--text", "A text.", "--layer", "6", "--out",
                                              str(d / "e.npz")], "layer 6 is out of range"),
    "extract-head-out-of-range": (lambda d: ["extract", "--text", "A text.", "--head", "12", "--out",
                                             str(d / "e.npz")], "head 12 is out of range"),
    "extract-overwrite-foreign": (lambda d: ["extract", "--text", "A text.", "--out", npz(d), "--overwrite"],
                                  "was not written by `spiking-attn problem` or `extract`"),
    "transformer-layer-out-of-range": (lambda d: ["transformer", "--text", "A text.", "--layers", "0,9"],
                                       "layer 9 is out of range"),
    "transformer-layers-not-numbers": (lambda d: ["transformer", "--text", "A text.", "--layers", "first"],
                                       "--layers must be 'all' or layers such as 0,3"),
    "transformer-empty-text": (lambda d: ["transformer", "--text", "A text.", ""], "the text is empty"),
    "transformer-no-texts-file": (lambda d: ["transformer", "--texts", str(d / "absent.txt")],
                                  "absent.txt: cannot read the texts (No such file or directory)"),
    "transformer-texts-file-empty": (lambda d: ["transformer", "--texts", empty_file(d)], "holds no text"),
    "sweep-no-config": (lambda d: ["sweep", str(d / "absent.toml"), "--out", str(d / "out")],
                        "cannot read the sweep config (No such file or directory)"),
    "sweep-not-toml": (lambda d: ["sweep", sweep_config(d, "[grid]\nseed = [1\n"), "--out", str(d / "out")],
                       "not valid TOML"),
    "sweep-unknown-option": (lambda d: ["sweep", sweep_config(d, "[grid]\nsed = [1, 2]\n"), "--out", str(d / "out")],
                             "unknown option 'sed' in [grid] (did you mean 'seed'?)"),
    "sweep-empty-grid": (lambda d: ["sweep", sweep_config(d, "[grid]\n"), "--out", str(d / "out")],
                         "the grid is empty"),
    "sweep-bad-value": (lambda d: ["sweep", sweep_config(d, "[grid]\ntokens = [4, 0]\n"), "--out", str(d / "out")],
                        "point tokens=0: argument --tokens: must be at least 1, got 0"),
    "sweep-unreachable-scheduler": (lambda d: ["sweep", sweep_config(d), "--out", str(d / "out"), "--scheduler",
                                               "tcp://127.0.0.1:9"], "cannot reach the Dask scheduler at"),
    "sweep-out-foreign": (lambda d: ["sweep", sweep_config(d), "--out", user_folder(d / "mine")],
                          "is not empty and holds no sweep.json"),
    "sweep-command-unknown": (lambda d: ["sweep", sweep_config(d, 'command = "train"\n[grid]\nseed = [1]\n'), "--out",
                                         str(d / "out")], "command must be one of run, memory, got 'train'"),
    "sweep-memory-run-option": (lambda d: ["sweep", sweep_config(d, 'command = "memory"\n[grid]\ntokens = [4]\n'),
                                           "--out", str(d / "out")],
                                "unknown option 'tokens' in [grid]; the options are those of `spiking-attn memory`"),
    "memory-patterns-not-2d": (lambda d: ["memory", "--patterns", patterns_file(d, np.ones((2, 3, 4)))],
                               "the patterns must be a 2-D array (P patterns x N entries), got shape (2, 3, 4)"),
    "memory-patterns-not-finite": (lambda d: ["memory", "--patterns", patterns_file(d, np.array([[1, np.nan]]))],
                                   "the patterns contain NaN or inf"),
    "memory-patterns-mixed-sizes": (lambda d: ["memory", "--patterns", mixed_patterns(d)],
                                    "an array holds Python objects (rows of mixed sizes?)"),
    "memory-patterns-none": (lambda d: ["memory", "--patterns", patterns_file(d, np.ones((0, 8)))],
                             "no patterns (P = 0); store at least one"),
    "memory-patterns-not-binary": (lambda d: ["memory", "--patterns", patterns_file(d, np.array([[1, 0.5]]))],
                                   "the patterns must hold only +1 and -1"),
    "memory-patterns-missing": (lambda d: ["memory", "--patterns", only_q(d)], "missing array(s) patterns"),
    "memory-count-zero": (lambda d: ["memory", "--count", "0"], "argument --count: must be at least 1, got 0"),
    "memory-count-above-file": (lambda d: ["memory", "--patterns", patterns_file(d, np.ones((2, 8))), "--count", "3"],
                                "holds only 2 patterns; --count takes at most that many"),
    "memory-count-above-digits": (lambda d: ["memory", "--patterns", "digits", "--count", "5000"],
                                  "--count 5000: there are only 1797 digit images"),
    "memory-cue-noise-one": (lambda d: ["memory", "--cue-noise", "1"], "--cue-noise must be below 1"),
    "memory-cue-noise-negative": (lambda d: ["memory", "--cue-noise", "-0.1"],
                                  "cue noise must be a number from 0 to 1, got -0.1"),
    "memory-size-with-file": (lambda d: ["memory", "--patterns", "digits", "--size", "16"],
                              "--size applies to --patterns random only"),
    "memory-beta-gain-zero": (lambda d: ["memory", "--beta-gain", "0"], "argument --beta-gain: must be positive"),
    "memory-size-one": (lambda d: ["memory", "--size", "1"], "size must be a whole number from 2 to 4096, got 1"),
    "report-not-a-sweep": (lambda d: ["report", user_folder(d / "mine")], "is not a sweep folder (no sweep.json)"),
    "transformer-retry-without-cluster": (lambda d: ["transformer", "--text", "A text.", "--retry-failed"],
                                          "--retry-failed applies with --workers or --scheduler only"),
    "transformer-overwrite-with-cluster": (lambda d: ["transformer", "--text", "A text.", "--workers", "1",
                                                      "--overwrite"],
                                           "--overwrite does not apply with --workers or --scheduler"),
    "n-score-with-random-features": (lambda d: ["run", "--network", "random-features", "--n-score", "2"],
                                     "--n-score applies to --network softmax only, not to --network random-features"),
    "dt-too-large": (lambda d: ["run", "--dt", "0.01"], "dt must be a number from 1e-06 to 0.0005, got 0.01"),
    "texts-not-utf8": (lambda d: ["transformer", "--texts", texts_file(d, b"A text.\ncaf\xe9\n")],
                       "texts.txt: not UTF-8 text (byte 0xe9 on line 2)"),
    "texts-control-character": (lambda d: ["transformer", "--texts", texts_file(d, b"A text.\n\nBad \x01 one\n")],
                                "texts.txt line 3: control character U+0001 in the text; texts are plain text"),
    "texts-line-too-long": (lambda d: ["transformer", "--texts", texts_file(d, b"word " * 2000)],
                            "texts.txt line 1: the text has 2002 tokens, more than the model's 512 positions"),
    "model-no-tokenizer": (lambda d: ["transformer", "--text", "A text.", "--model", tiny_model(d, "no tokenizer")],
                           "tiny: not a model folder (missing tokenizer.json)"),
    "model-truncated-weights": (lambda d: ["transformer", "--text", "A text.", "--model", tiny_model(d, "truncated")],
                                "tiny: model.safetensors or tokenizer.json cannot be read"),
    "model-weight-shape": (lambda d: ["transformer", "--text", "A text.", "--model", tiny_model(d, narrow_query)],
                           "weight encoder.layer.0.attention.self.query.weight has shape (4, 3), but config.json "
                           "makes it (4, 4)"),
    "model-weight-nan": (lambda d: ["extract", "--text", "A text.", "--model", tiny_model(d, nan_key), "--out",
                                    str(d / "e.npz")], "weight encoder.layer.0.attention.self.key.weight contains NaN"),
    "sweep-too-many-points": (lambda d: ["sweep", sweep_config(d, "[grid]\nseed = [" + ", ".join(map(str, range(200)))
                                                      + "]\nscale = [" + ", ".join(map(str, range(1, 101))) + "]\n"),
                                         "--out", str(d / "out")],
                              "the grid has 20,000 points, more than 10,000; split the sweep"),
    "sweep-value-a-list": (lambda d: ["sweep", sweep_config(d, "[grid]\nseed = [[1, 2]]\n"), "--out", str(d / "out")],
                           "bad value [1, 2] for option 'seed'; give a number or a string"),
    "sweep-folder-in-use": (lambda d: ["sweep", sweep_config(d), "--out", sweep_folder_in_use(d)],
                            "is in use by another spiking-attn command (process 12345)"),
    "report-half-written": (lambda d: ["report", half_written_sweep(d)],
                            "runs.parquet cannot be read (ArrowInvalid); run `spiking-attn sweep` on the folder"),
    "calibration-truncated": (lambda d: ["run", "--calibration", damaged_calibration(d, "truncated")],
                              "calibration.npz: cannot read a calibration (BadZipFile"),
    "calibration-not-finite": (lambda d: ["run", "--calibration", damaged_calibration(d, "nan")],
                               "the calibration's state v is not all finite numbers; calibrate again"),
    "problem-name": (lambda d: ["problem", str(d / "p.txt")], "must end in .npz"),
    "problem-exists": (lambda d: ["problem", npz(d)], "exists; choose another name or pass --overwrite"),
    "problem-overwrite-foreign": (lambda d: ["problem", npz(d), "--overwrite"],
                                  "was not written by `spiking-attn problem` or `extract`"),
}


def documented_cases():
    """Case names in the first column of the table in docs/errors.md."""
    return re.findall(r"^\| `([a-z0-9-]+)` \|", ERRORS_PAGE.read_text(), flags=re.MULTILINE)


def test_every_documented_case_is_tested():
    assert sorted(documented_cases()) == sorted(CASES)


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gets_one_line(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    arguments, fragment = CASES[case]
    argv = arguments(tmp_path)
    if "--out" not in argv and argv[0] in ("run", "transformer", "memory"):
        argv += ["--out", str(tmp_path / "out")]
    before = sorted(os.listdir(tmp_path))
    code = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, captured.err
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("spiking-attn: error: ")
    assert fragment in lines[0]
    assert "Traceback" not in captured.err
    assert sorted(os.listdir(tmp_path)) == before  # no output folder, no staging folder left behind
    documented = ERRORS_PAGE.read_text()
    assert f"`{case}`" in documented and fragment in documented


def test_problem_overwrite_replaces_its_own_file(tmp_path, capsys):
    path = tmp_path / "p.npz"
    assert main(["problem", str(path), "--seed", "1"]) == 0
    assert main(["problem", str(path), "--seed", "2", "--overwrite"]) == 0
    with np.load(path) as saved:
        np.testing.assert_array_equal(saved["q"], random_problem(16, 16, seed=2).q)


def test_saved_problem_is_replaced_only_when_it_is_ours(tmp_path):
    from spiking_attn.errors import InputError

    users = tmp_path / "users.npz"
    np.savez(users, q=np.zeros((1, 1)), k=np.zeros((1, 1)), v=np.zeros((1, 1)))
    with pytest.raises(InputError, match="not written by"):
        save_problem(random_problem(2, 2), users, overwrite=True)
    with np.load(users) as saved:
        assert saved["q"].shape == (1, 1)


def test_texts_in_every_script_are_text_and_blank_lines_are_skipped(tmp_path):
    """Emoji, CJK, Arabic and a tab are text; a --texts file's blank and whitespace-only lines are skipped."""
    from argparse import Namespace

    from spiking_attn.cli import _texts
    from spiking_attn.encoder import Encoder, default_model_folder

    lines = ["Emoji 😀 and 日本語 text.", "", "   ", "مرحبا بالعالم", "a\ttab"]
    path = texts_file(tmp_path, "\n".join(lines).encode())
    assert _texts(Namespace(texts=path, text=None), Encoder(default_model_folder())) == \
        ["Emoji 😀 and 日本語 text.", "مرحبا بالعالم", "a\ttab"]
