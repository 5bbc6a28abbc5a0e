"""The command line: what the README documents runs as it says (the bad-input table is tested in
test_bad_input.py)."""
import json
import os
import sys

import numpy as np

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


def test_cuda_target_without_brian2cuda_is_reported(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "brian2cuda", None)  # makes `import brian2cuda` fail
    out = tmp_path / "out"
    code, captured = run_cli(capsys, "run", "--target", "cuda_standalone", "--out", str(out))
    assert_one_line_error(code, captured, "needs brian2cuda")
    assert not out.exists()


def test_scale_multiplies_the_scores(tmp_path, capsys):
    out = tmp_path / "out"
    code, captured = run_cli(capsys, "run", "--tokens", "4", "--dim", "4", "--scale", "0.5", "--duration", "0.5",
                             "--target", "numpy", "--out", str(out))
    assert code == 0, captured.err
    problem = random_problem(4, 4)
    with np.load(out / "attention.npz") as saved:
        np.testing.assert_allclose(saved["q"], 0.5 * problem.q)
        np.testing.assert_allclose(saved["scores"], 0.5 * problem.q @ problem.k.T / 2)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["problem"].endswith("scaled by 0.5")
    assert summary["row_tv_mean"] <= 0.015


def test_score_sd_sets_the_random_problem(tmp_path, capsys):
    out = tmp_path / "out"
    code, captured = run_cli(capsys, "run", "--tokens", "3", "--dim", "5", "--seed", "4", "--score-sd", "0.3",
                             "--duration", "0.5", "--target", "numpy", "--out", str(out))
    assert code == 0, captured.err
    expected = random_problem(3, 5, seed=4, score_sd=0.3)
    with np.load(out / "attention.npz") as saved:
        np.testing.assert_array_equal(saved["q"], expected.q)
        np.testing.assert_array_equal(saved["k"], expected.k)
    assert np.std(expected.q) < 0.8  # entries of s.d. sqrt(0.3), not 1
    assert (out / "attention.png").is_file()


def test_no_figure_writes_everything_but_the_figure(tmp_path, capsys):
    out = tmp_path / "out"
    code, captured = run_cli(capsys, "run", "--tokens", "3", "--dim", "5", "--duration", "0.2", "--target", "numpy",
                             "--no-figure", "--out", str(out))
    assert code == 0, captured.err
    assert sorted(path.name for path in out.iterdir() if not path.name.startswith(".")) == [
        "attention.npz", "metrics.csv", "rows.csv", "summary.json"]
    assert "rows.csv, attention.npz)\n" in captured.out and "x the exact attention's 90 MACs" in captured.out


def test_a_folder_as_input_runs_each_problem(tmp_path, capsys):
    folder = tmp_path / "problems"
    folder.mkdir()
    for seed in (1, 2):
        assert main(["problem", str(folder / f"p{seed}.npz"), "--tokens", "2", "--dim", "2", "--seed", str(seed)]) == 0
    (folder / "readme.txt").write_text("not a problem")  # only the .npz files are taken
    out = tmp_path / "out"
    code, captured = run_cli(capsys, "run", "--input", str(folder), "--duration", "0.2", "--target", "numpy",
                             "--out", str(out))
    assert code == 0, captured.err
    rows = (out / "batch.csv").read_text().splitlines()
    assert len(rows) == 3 and "p1.npz" in rows[1] and "p2.npz" in rows[2]
    for seed in (1, 2):
        with np.load(out / f"p{seed}" / "attention.npz") as saved:
            np.testing.assert_array_equal(saved["q"], random_problem(2, 2, seed=seed).q)


def test_ctrl_c_exits_130_and_leaves_no_result(tmp_path):
    import signal
    import subprocess

    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "spiking_attn.cli", "run", "--tokens", "2", "--dim", "2",
                                "--duration", "60", "--target", "numpy", "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stderr:  # wait until the simulation runs
        if "running" in line:
            break
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130
    assert err.strip().splitlines()[-1] == "spiking-attn: interrupted; no results written"
    assert "Traceback" not in err
    assert os.listdir(tmp_path) == []  # neither --out nor the staging folder


def test_saturated_scores_warn_and_are_reported(tmp_path, capsys):
    """A score of 9: with the astrocytes' feedback the score neurons stay below 1 / (2 dt); with it
    blocked they would fire at r_score exp(9), above it, and the run warns."""
    path = save(tmp_path / "p.npz", q=np.array([[3.0], [0.0]]), k=np.array([[3.0], [0.0]]), v=np.eye(2))
    for astrocyte, saturated in (("on", False), ("off", True)):
        out = tmp_path / f"astrocyte-{astrocyte}"
        code, captured = run_cli(capsys, "run", "--input", path, "--duration", "0.5", "--target", "numpy",
                                 "--astrocyte", astrocyte, "--out", str(out))
        assert code == 0, captured.err
        assert ("warning: score neurons fired at up to" in captured.err) is saturated
        summary = json.loads((out / "summary.json").read_text())
        assert summary["saturated"] is saturated and (summary["score_rate_max_hz"] > 5000) is saturated
