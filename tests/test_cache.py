"""The build cache: same-shaped problems reuse the compiled binary; interrupted and concurrent
builds are safe. Runs go through the command line in fresh processes, as a user's would."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np

from spiking_attn.cache import list_entries


def cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "spiking_attn.cli", *args], capture_output=True, text=True,
                          **kwargs)


def compiled_files(folder):
    """Modification times of the objects and the binary of a cached build."""
    stamps = {}
    for directory, _, files in os.walk(folder):
        for name in files:
            if name.endswith(".o") or name == "main":
                path = os.path.join(directory, name)
                stamps[path] = os.path.getmtime(path)
    return stamps


def test_same_shaped_problem_reuses_the_binary(default_run, build_cache, tmp_path):
    _, _, first = default_run
    assert first["reused_build"] is False
    (entry,) = [e for e in list_entries(build_cache) if e["network"] == "softmax" and "tokens=16" in e["shape"]]
    before = compiled_files(build_cache / entry["key"])
    result = cli("run", "--seed", "1", "--out", str(tmp_path / "second"))
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "second" / "summary.json").read_text())
    assert summary["reused_build"] is True
    assert summary["row_tv_mean"] <= 0.01
    assert compiled_files(build_cache / entry["key"]) == before  # nothing was compiled


def test_batch_runs_every_problem_with_one_build(default_run, tmp_path):
    for seed in (3, 4):
        assert cli("problem", str(tmp_path / f"p{seed}.npz"), "--seed", str(seed)).returncode == 0
    result = cli("run", "--input", str(tmp_path / "p3.npz"), str(tmp_path / "p4.npz"), "--out", str(tmp_path / "b"))
    assert result.returncode == 0, result.stderr
    table = (tmp_path / "b" / "batch.csv").read_text().splitlines()
    assert len(table) == 3 and "p3.npz" in table[1] and "p4.npz" in table[2]
    for stem in ("p3", "p4"):
        summary = json.loads((tmp_path / "b" / stem / "summary.json").read_text())
        assert summary["reused_build"] is True
    with np.load(tmp_path / "b" / "p4" / "attention.npz") as saved, np.load(tmp_path / "p4.npz") as problem:
        np.testing.assert_array_equal(saved["q"], problem["q"])


def test_killed_build_is_rebuilt_and_concurrent_runs_succeed(tmp_path):
    cache = tmp_path / "cache"
    args = ["run", "--tokens", "2", "--dim", "2", "--duration", "0.2", "--cache-dir", str(cache)]
    victim = subprocess.Popen([sys.executable, "-m", "spiking_attn.cli", *args, "--out", str(tmp_path / "killed")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and not any(name.endswith(".o") for _, _, files in os.walk(cache) for name in files):
        time.sleep(0.2)  # wait until the compiler has started
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert not (tmp_path / "killed").exists()
    assert [entry["complete"] for entry in list_entries(cache)] == [False]
    # Two runs at once on the broken entry: one rebuilds it, the other waits and reuses it.
    runs = [subprocess.Popen([sys.executable, "-m", "spiking_attn.cli", *args, "--seed", str(seed),
                              "--out", str(tmp_path / f"run{seed}")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for seed in (1, 2)]
    for run in runs:
        _, err = run.communicate(timeout=600)
        assert run.returncode == 0, err
    reused = sorted(json.loads((tmp_path / f"run{seed}" / "summary.json").read_text())["reused_build"]
                    for seed in (1, 2))
    assert reused == [False, True]
    assert [entry["complete"] for entry in list_entries(cache)] == [True]


def test_cache_list_and_clear(tmp_path):
    cache = tmp_path / "cache"
    (cache / "0123456789abcdef").mkdir(parents=True)
    listed = cli("cache", "list", "--cache-dir", str(cache))
    assert listed.returncode == 0 and "0123456789abcdef" in listed.stdout
    cleared = cli("cache", "clear", "--cache-dir", str(cache))
    assert cleared.returncode == 0 and "removed 1" in cleared.stdout
    assert "is empty" in cli("cache", "list", "--cache-dir", str(cache)).stdout


def test_random_feature_network_reuses_the_binary_for_a_new_problem(tmp_path):
    """The random-feature network's problem-dependent gains are state variables, not constants."""
    cache = tmp_path / "cache"
    args = ["run", "--network", "random-features", "--tokens", "2", "--dim", "2", "--features", "20",
            "--duration", "0.1", "--cache-dir", str(cache)]
    first = cli(*args, "--seed", "0", "--out", str(tmp_path / "first"))
    assert first.returncode == 0, first.stderr
    (entry,) = list_entries(cache)
    before = compiled_files(cache / entry["key"])
    second = cli(*args, "--seed", "1", "--out", str(tmp_path / "second"))
    assert second.returncode == 0, second.stderr
    summaries = [json.loads((tmp_path / name / "summary.json").read_text()) for name in ("first", "second")]
    assert [summary["reused_build"] for summary in summaries] == [False, True]
    assert summaries[0]["rate_model_output_rel_error"] != summaries[1]["rate_model_output_rel_error"]
    assert compiled_files(cache / entry["key"]) == before
