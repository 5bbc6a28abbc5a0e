"""The command line: bad input gets one line and exit code 2, and leaves no result behind."""
import json
import sys

import numpy as np
import pytest

from spiking_attn.cli import main
from spiking_attn.problems import random_problem


def run_cli(capsys, *args):
    code = main(list(args))
    return code, capsys.readouterr()


def assert_one_line_error(code, captured, fragment):
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("spiking-attn: error:")
    assert fragment in lines[0]
    assert "Traceback" not in captured.err


def save(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


@pytest.mark.parametrize("arrays, fragment", [
    (dict(q=np.full((3, 2), np.nan), k=np.ones((3, 2)), v=np.ones((3, 2))), "NaN or inf"),
    (dict(q=np.ones((3, 2)), k=np.ones((3, 2)), v=np.array([[1, np.inf]] * 3)), "NaN or inf"),
    (dict(q=np.ones((3, 2)), k=np.ones((3, 4)), v=np.ones((3, 2))), "same shape"),
    (dict(q=np.ones((3, 2)), k=np.ones((3, 2))), "missing array(s) v"),
    (dict(q=np.ones((0, 2)), k=np.ones((0, 2)), v=np.ones((0, 2))), "empty"),
])
def test_bad_problem_files(tmp_path, capsys, arrays, fragment):
    out = tmp_path / "out"
    code, captured = run_cli(capsys, "run", "--input", save(tmp_path / "p.npz", **arrays), "--out", str(out))
    assert_one_line_error(code, captured, fragment)
    assert not out.exists()
    assert not list(tmp_path.glob(".out.partial-*"))


@pytest.mark.parametrize("args, fragment", [
    (["--tokens", "0"], "at least 1"),
    (["--dim", "-3"], "at least 1"),
    (["--duration", "-1"], "must be positive"),
    (["--scale", "nan"], "must be finite"),
    (["--target", "gpu"], "invalid choice"),
    (["--astrocyte", "maybe"], "invalid choice"),
])
def test_bad_options(tmp_path, capsys, args, fragment):
    out = tmp_path / "out"
    code, captured = run_cli(capsys, "run", *args, "--out", str(out))
    assert_one_line_error(code, captured, fragment)
    assert not out.exists()


def test_not_an_npz_file(tmp_path, capsys):
    path = tmp_path / "notes.txt"
    path.write_text("q, k, v")
    code, captured = run_cli(capsys, "run", "--input", str(path), "--out", str(tmp_path / "out"))
    assert_one_line_error(code, captured, "not a readable .npz file")


def test_tokens_with_input_file(tmp_path, capsys):
    problem = random_problem(2, 2)
    path = save(tmp_path / "p.npz", q=problem.q, k=problem.k, v=problem.v)
    code, captured = run_cli(capsys, "run", "--input", path, "--tokens", "4", "--out", str(tmp_path / "out"))
    assert_one_line_error(code, captured, "cannot be used with --input")


def test_unwritable_output_directory(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code, captured = run_cli(capsys, "run", "--out", str(blocker / "out"))
    assert_one_line_error(code, captured, "cannot write output directory")


def test_existing_results_are_not_overwritten(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text(json.dumps({"mine": True}))
    code, captured = run_cli(capsys, "run", "--out", str(out))
    assert_one_line_error(code, captured, "not empty")
    assert json.loads((out / "summary.json").read_text()) == {"mine": True}


def test_problem_command_writes_the_generated_problem(tmp_path, capsys):
    path = tmp_path / "p.npz"
    code, _ = run_cli(capsys, "problem", str(path), "--tokens", "5", "--dim", "3", "--seed", "7")
    assert code == 0
    expected = random_problem(5, 3, seed=7)
    with np.load(path) as saved:
        np.testing.assert_array_equal(saved["q"], expected.q)
        np.testing.assert_array_equal(saved["v"], expected.v)
    code, captured = run_cli(capsys, "problem", str(path))
    assert_one_line_error(code, captured, "exists")


def test_larger_problem_from_file(tmp_path, capsys):
    path = tmp_path / "t32.npz"
    assert main(["problem", str(path), "--tokens", "32", "--dim", "32", "--seed", "5"]) == 0
    out = tmp_path / "out"
    code, captured = run_cli(capsys, "run", "--input", str(path), "--target", "numpy", "--out", str(out))
    assert code == 0, captured.err
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["tokens"], summary["dim"]) == (32, 32)
    assert summary["row_tv_mean"] <= 0.01
    assert summary["row_sum_error_max"] <= 0.03
    assert "row_tv_mean" in captured.out


def test_missing_compiler_is_reported(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("spiking_attn.devices.shutil.which", lambda name: None)
    out = tmp_path / "out"
    code, captured = run_cli(capsys, "run", "--tokens", "2", "--dim", "2", "--out", str(out))
    assert_one_line_error(code, captured, "needs a C++ compiler")
    assert not out.exists()


@pytest.mark.parametrize("args, fragment", [
    (["--network", "random-features", "--duration", "0.105"], "multiple of step"),
    (["--network", "random-features", "--features", "0"], "at least 1"),
    (["--network", "transformer"], "invalid choice"),
    (["--feature-map", "gaussian"], "invalid choice"),
])
def test_bad_random_feature_options(tmp_path, capsys, args, fragment):
    out = tmp_path / "out"
    code, captured = run_cli(capsys, "run", *args, "--target", "numpy", "--out", str(out))
    assert_one_line_error(code, captured, fragment)
    assert not out.exists()


def test_cuda_target_without_brian2cuda_is_reported(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "brian2cuda", None)  # makes `import brian2cuda` fail
    out = tmp_path / "out"
    code, captured = run_cli(capsys, "run", "--target", "cuda_standalone", "--out", str(out))
    assert_one_line_error(code, captured, "needs brian2cuda")
    assert not out.exists()
