"""The build cache: same-shaped problems reuse the compiled binary; interrupted and concurrent
builds are safe. Runs go through the command line in fresh processes, as a user's would."""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import brian2
import numpy as np
import pytest

import spiking_attn
from spiking_attn import devices
from spiking_attn.cache import cache_entry, compiler_identity, list_entries, structure_key
from spiking_attn.circuits.random_features import synapse_count
from spiking_attn.errors import InputError


def cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "spiking_attn.cli", *args], capture_output=True, text=True,
                          **kwargs)


def compiled_files(folder):
    """Modification times of the objects and the binary of a cached build (never empty)."""
    stamps = devices.compiled_files(folder)
    assert os.path.join(folder, "main") in stamps and len(stamps) > 1
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


def test_cache_list_and_clear_touch_only_cache_entries(tmp_path):
    cache = tmp_path / "cache"
    (cache / "0123456789abcdef").mkdir(parents=True)
    (cache / "0123456789abcdef" / "meta.json").write_text("{}")
    (cache / "fedcba9876543210").mkdir()  # named like an entry, but not one (no meta.json)
    (cache / "photos").mkdir()
    (cache / "photos" / "cat.jpg").write_text("mine")
    (cache / "notes.txt").write_text("mine")
    (cache / "calibrations").mkdir()
    (cache / "calibrations" / "0123456789abcdef.npz").write_bytes(b"a stored calibration")
    (cache / "calibrations" / "mine.npz").write_text("mine")
    listed = cli("cache", "list", "--cache-dir", str(cache))
    assert listed.returncode == 0 and "0123456789abcdef" in listed.stdout
    assert "photos" not in listed.stdout and "fedcba9876543210" not in listed.stdout
    assert "1 stored calibration(s)" in listed.stdout
    cleared = cli("cache", "clear", "--cache-dir", str(cache))
    assert cleared.returncode == 0 and "removed 1 build(s) and 1 calibration(s)" in cleared.stdout
    assert "is empty" in cli("cache", "list", "--cache-dir", str(cache)).stdout
    assert sorted(os.listdir(cache)) == ["calibrations", "fedcba9876543210", "notes.txt", "photos"]
    assert os.listdir(cache / "calibrations") == ["mine.npz"]
    assert (cache / "photos" / "cat.jpg").read_text() == "mine"


def test_a_different_compiler_gets_a_different_entry(tmp_path, monkeypatch):
    """The key holds the compiler's identity (path, version) and the CPU it compiles for."""
    wrapper = tmp_path / "my-c++"
    wrapper.write_text('#!/bin/sh\nexec g++ "$@"\n')
    wrapper.chmod(0o755)
    structure = {"network": "softmax", "tokens": 2}
    compiler_identity.cache_clear()
    try:
        gcc = compiler_identity()
        monkeypatch.setenv("CXX", str(wrapper))
        compiler_identity.cache_clear()
        other = compiler_identity()
    finally:
        compiler_identity.cache_clear()
    assert gcc["compiler_version"] and gcc["native_target"]
    assert other["compiler"] == str(wrapper) and gcc["compiler"] != other["compiler"]
    assert structure_key({**structure, **gcc}) != structure_key({**structure, **other})


def test_two_installations_share_builds(default_run, build_cache, tmp_path):
    """A second installation (its own virtual environment and its own copy of the package) reuses
    the builds of the first without recompiling them, and the first then still reuses them."""
    other = tmp_path / "other-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(other)], check=True)
    package_copy = tmp_path / "other-source"
    shutil.copytree(os.path.dirname(spiking_attn.__file__), package_copy / "spiking_attn",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (site_packages,) = glob.glob(str(other / "lib" / "python*" / "site-packages"))
    dependencies = os.path.dirname(os.path.dirname(brian2.__file__))
    with open(os.path.join(site_packages, "installation.pth"), "w") as handle:
        handle.write(f"{package_copy}\n{dependencies}\n")
    probe = subprocess.run([str(other / "bin" / "python"), "-c", "import sys, spiking_attn; "
                            "print(sys.prefix); print(spiking_attn.__file__)"], capture_output=True, text=True,
                           cwd=tmp_path, check=True).stdout.split()
    assert probe == [str(other), str(package_copy / "spiking_attn" / "__init__.py")]
    (entry,) = [e for e in list_entries(build_cache) if e["network"] == "softmax" and "tokens=16" in e["shape"]]
    before = compiled_files(build_cache / entry["key"])
    for python, name in ((str(other / "bin" / "python"), "other"), (sys.executable, "first")):
        result = subprocess.run([python, "-m", "spiking_attn.cli", "run", "--seed", "2", "--out", str(tmp_path / name)],
                                capture_output=True, text=True, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert json.loads((tmp_path / name / "summary.json").read_text())["reused_build"] is True
        assert compiled_files(build_cache / entry["key"]) == before
    assert len([e for e in list_entries(build_cache) if e["network"] == "softmax" and "tokens=16" in e["shape"]]) == 1


def test_random_feature_network_is_accurate_and_reuses_the_binary_on_cpp_standalone(tmp_path):
    """The paper's network compiled: it matches its rate model (as on numpy, tests/test_random_features.py)
    and a new problem of the same shape reuses the binary (its gains are state variables)."""
    cache = tmp_path / "cache"
    args = ["run", "--network", "random-features", "--tokens", "4", "--dim", "16", "--features", "300",
            "--cache-dir", str(cache)]
    first = cli(*args, "--seed", "0", "--out", str(tmp_path / "first"))
    assert first.returncode == 0, first.stderr
    (entry,) = list_entries(cache)
    before = compiled_files(cache / entry["key"])
    second = cli(*args, "--seed", "1", "--out", str(tmp_path / "second"))
    assert second.returncode == 0, second.stderr
    summaries = [json.loads((tmp_path / name / "summary.json").read_text()) for name in ("first", "second")]
    assert [summary["reused_build"] for summary in summaries] == [False, True]
    assert compiled_files(cache / entry["key"]) == before
    for summary in summaries:
        assert summary["target"] == "cpp_standalone"
        assert summary["rate_model_output_rel_error"] <= 0.05
        assert summary["astrocyte_rate_model_corr"] >= 0.99
        assert summary["astrocyte_rate_model_rel_error"] <= 0.02
        assert summary["row_sum_error_max"] <= 0.03
        assert summary["write_seconds"] == pytest.approx(4 * 0.4)  # a simulated writing phase of 0.4 s per key
        assert sum(summary["synapses"].values()) == synapse_count(4, 16, 16, 300, "performer")
    assert summaries[0]["rate_model_output_rel_error"] != summaries[1]["rate_model_output_rel_error"]


def test_a_folder_in_the_way_of_an_entry_is_refused_not_deleted(tmp_path):
    """Only an interrupted build of ours (meta.json inside) or an empty folder is removed."""
    structure = {"network": "softmax", "tokens": 2}
    in_the_way = tmp_path / structure_key(structure)
    in_the_way.mkdir()
    (in_the_way / "thesis.tex").write_text("mine")
    with pytest.raises(InputError, match="in the way of a build cache entry"):
        with cache_entry(str(tmp_path), structure):
            pass
    assert (in_the_way / "thesis.tex").read_text() == "mine"
    (in_the_way / "thesis.tex").unlink()
    with cache_entry(str(tmp_path), structure) as (folder, complete):  # empty: taken over
        assert folder == str(in_the_way) and not complete and (in_the_way / "meta.json").exists()


def test_an_interrupted_build_whose_compiler_still_runs_is_moved_aside(tmp_path):
    """A killed run's `make` goes on writing into its entry: the next build moves that folder out of the
    way (the orphan's working folder moves with it) and starts afresh, so the orphan's files never land
    in the new entry; stale builds it could not remove are removed by a later build, nothing else."""
    structure = {"network": "softmax", "tokens": 3}
    folder = tmp_path / structure_key(structure)
    folder.mkdir()
    (folder / "meta.json").write_text("{}")  # an interrupted build of ours: no COMPLETE
    orphan = subprocess.Popen([sys.executable, "-c", "import time\nend = time.time() + 1.5\nn = 0\n"
                               "while time.time() < end:\n    open(f'object{n}.o', 'w').close(); n += 1"], cwd=folder,
                              stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    with cache_entry(str(tmp_path), structure) as (entry, complete):
        assert entry == str(folder) and not complete
        time.sleep(0.6)  # the orphan writes on, if at all, elsewhere
        assert sorted(os.listdir(entry)) == ["meta.json"]
    orphan.wait()
    stale, mine = tmp_path / f"{structure_key(structure)}.stale-abc123", tmp_path / "stale-notes"
    (stale / "build").mkdir(parents=True)
    mine.mkdir()
    with cache_entry(str(tmp_path), structure):
        pass
    assert not stale.exists() and mine.is_dir()


def test_new_values_run_the_cached_binary_without_code_generation(default_run, build_cache, tmp_path):
    """A new problem of the default shape runs the cached binary with its values on the command line, and gives
    exactly what generating the code again gives."""
    (entry,) = [e for e in list_entries(build_cache) if e["network"] == "softmax" and "tokens=16" in e["shape"]]
    quick = cli("run", "--seed", "5", "--out", str(tmp_path / "quick"))
    assert quick.returncode == 0, quick.stderr
    assert "no code generated" in quick.stderr
    os.remove(build_cache / entry["key"] / devices.VALUES_MANIFEST)  # the entry no longer says what it takes
    regenerated = cli("run", "--seed", "5", "--out", str(tmp_path / "regenerated"))
    assert regenerated.returncode == 0, regenerated.stderr
    summaries = [json.loads((tmp_path / name / "summary.json").read_text()) for name in ("quick", "regenerated")]
    assert [(s["reused_build"], s["code_generated"]) for s in summaries] == [(True, False), (True, True)]
    assert (build_cache / entry["key"] / devices.VALUES_MANIFEST).exists()  # written again by the regeneration
    with np.load(tmp_path / "quick" / "attention.npz") as a, np.load(tmp_path / "regenerated" / "attention.npz") as b:
        for name in ("attention_decoded", "output_decoded", "normaliser_decoded"):
            np.testing.assert_array_equal(a[name], b[name])
    assert summaries[0]["energy"] == summaries[1]["energy"]


def test_values_on_the_command_line_only_where_everything_else_is_the_same():
    """What a build takes on its command line: the arrays assigned from Python; connectivity (Dale's law: the
    keys' signs choose the synapses) and TimedArrays send a build the long way."""
    from brian2 import set_device
    from brian2.devices.device import device, reset_device

    from spiking_attn.circuits.memory import build_memory
    from spiking_attn.circuits.softmax_head import Variability, build_softmax_head
    from spiking_attn.problems import random_problem

    def manifest(build):
        with devices.recorded_assignments() as assignments:
            circuit = build()
        devices.ran_as_compiled_code(circuit.network)  # built, never run: no warning when deleted
        return assignments.manifest(), assignments, devices.takes_values_on_command_line(circuit)

    set_device("cpp_standalone", build_on_run=False)
    try:
        first, values, plain = manifest(lambda: build_softmax_head(random_problem(4, 4, seed=0)))
        second, _, _ = manifest(lambda: build_softmax_head(random_problem(4, 4, seed=1)))
        assert plain and first == second
        assert {"key_synapses.w", "value_synapses.w", "input_neurons.v_drive"} <= set(values.values)
        assert "key_synapses.sources" in values.static and "key_synapses.sources" not in values.values
        dale = [manifest(lambda seed=seed: build_softmax_head(random_problem(4, 4, seed=seed),
                                                              variability=Variability(dale=True)))[0]
                for seed in (0, 1)]
        assert dale[0]["values"] == dale[1]["values"] and dale[0]["static"] != dale[1]["static"]
        patterns = np.sign(np.random.default_rng(0).normal(size=(3, 8)))
        assert not manifest(lambda: build_memory(patterns, patterns[:1], beta=1.0))[2]  # its loop is a TimedArray
    finally:
        device.reinit()
        reset_device("runtime")


def ours(folder):
    """The names in ``folder`` of spiking-attn's kind (Brian2 leaves its own log files there too)."""
    return sorted(name for name in os.listdir(folder) if name.startswith("spiking-attn"))


def killed_with_a_run_folder(environment):
    """The pid of a process that made its private run folder, as a run does before its binary runs
    (devices.private_copy), and was then killed with SIGKILL."""
    code = ("import os, signal; from spiking_attn.cache import private_temporary; "
            "open(os.path.join(private_temporary('run'), 'main'), 'w').close(); os.kill(os.getpid(), signal.SIGKILL)")
    process = subprocess.run([sys.executable, "-c", code], env=environment)
    assert process.returncode == -signal.SIGKILL
    return process


def test_a_run_killed_with_sigkill_leaves_a_run_folder_that_the_next_run_removes(default_run, tmp_path):
    """The binary runs in a private folder of the temporary directory; a run killed with SIGKILL cannot remove it,
    so the next run (or `cache clear`) removes the folders whose process is gone, and only those."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    environment = {**os.environ, "TMPDIR": str(temporary)}
    killed = killed_with_a_run_folder(environment)
    (left,) = glob.glob(str(temporary / "spiking-attn-run-*"))
    live = temporary / f"spiking-attn-run-{os.getpid()}-abcdefgh"  # a run of a live process: kept
    live.mkdir()
    mine = temporary / "spiking-attn-run-notes"  # a user's own folder of a similar name: kept
    mine.mkdir()
    result = cli("run", "--no-figure", "--out", str(tmp_path / "next"), env=environment)
    assert result.returncode == 0, result.stderr
    assert not os.path.exists(left) and killed.returncode == -signal.SIGKILL
    assert ours(temporary) == sorted([live.name, mine.name])
    os.rmdir(live)
    killed_with_a_run_folder(environment)
    assert len(ours(temporary)) == 2
    result = cli("cache", "clear", "--cache-dir", str(tmp_path / "other_cache"), env=environment)
    assert result.returncode == 0, result.stderr
    assert ours(temporary) == [mine.name]


def test_a_damaged_cache_entry_is_detected_and_built_again_never_run(default_run, build_cache, tmp_path):
    """A build's binary, object files and data files have checksums in meta.json: a truncated binary or an altered
    object or data file is found, and the run builds the entry again instead of running it."""
    from spiking_attn.cache import damaged

    (entry,) = [e for e in list_entries(build_cache) if e["network"] == "softmax" and "tokens=16" in e["shape"]]
    folder = build_cache / entry["key"]
    assert damaged(folder) == []
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    with open(copy / "main", "r+b") as binary:
        binary.truncate(os.path.getsize(copy / "main") // 2)
    assert damaged(copy) == ["main"]
    os.remove(copy / "main")
    assert damaged(copy) == ["main"]
    shutil.copy2(folder / "main", copy / "main")
    data = bytearray((copy / "network.o").read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, same time stamp for make: only the checksum tells
    (copy / "network.o").write_bytes(bytes(data))
    assert damaged(copy) == ["network.o"]
    (copy / "meta.json").write_text("{}")
    assert damaged(copy) == ["meta.json"]
    outside = tmp_path / "users_file"  # a record altered to name a file out of the entry: never trusted, never removed
    outside.write_text("mine")
    (copy / "meta.json").write_text(json.dumps({"checksums": {"../users_file": "0" * 64}}))
    assert damaged(copy) == ["meta.json"] and outside.read_text() == "mine"

    targets = folder / "static_arrays" / "_static_array__array_key_synapses_targets"
    connectivity = np.fromfile(targets, dtype=np.int32)
    np.roll(connectivity, 1).tofile(targets)  # every key synapse onto another dendrite: a wrong, silent result
    result = cli("run", "--seed", "5", "--no-figure", "--out", str(tmp_path / "after"))
    assert result.returncode == 0, result.stderr
    assert "is damaged (static_arrays/_static_array__array_key_synapses_targets not as built)" in result.stderr
    summary = json.loads((tmp_path / "after" / "summary.json").read_text())
    assert summary["code_generated"] is True and summary["row_tv_mean"] <= 0.01
    assert damaged(folder) == []
    np.testing.assert_array_equal(np.fromfile(targets, dtype=np.int32), connectivity)


def test_a_compiler_launcher_is_keyed_by_the_compiler_it_runs_and_cuda_by_nvcc(tmp_path, monkeypatch):
    """`CXX="ccache g++"` and a ccache link named g++ first on PATH are keyed by the real g++ (not by ccache's
    version); cuda_standalone builds are keyed by nvcc's version."""
    from spiking_attn.cache import nvcc_version

    launchers = tmp_path / "bin"
    launchers.mkdir()
    ccache = launchers / "ccache"
    ccache.write_text('#!/bin/sh\necho "ccache version 4.9"\n')
    ccache.chmod(0o755)
    masks = tmp_path / "masks"
    masks.mkdir()
    os.symlink(ccache, masks / "g++")
    compiler_identity.cache_clear()
    try:
        plain = compiler_identity()
        monkeypatch.setenv("CXX", f"{ccache} g++")
        compiler_identity.cache_clear()
        launched = compiler_identity()
        monkeypatch.delenv("CXX")
        monkeypatch.setenv("PATH", f"{masks}{os.pathsep}{os.environ['PATH']}")
        compiler_identity.cache_clear()
        masked = compiler_identity()
    finally:
        compiler_identity.cache_clear()
    assert plain["compiler_version"] and "ccache" not in plain["compiler_version"]
    assert launched == plain and masked == plain

    cuda = tmp_path / "cuda"
    (cuda / "bin").mkdir(parents=True)
    (cuda / "bin" / "nvcc").write_text('#!/bin/sh\necho "nvcc: NVIDIA (R) Cuda compiler driver"\n'
                                       'echo "Build cuda_12.4.r12.4/compiler.0"\n')
    (cuda / "bin" / "nvcc").chmod(0o755)
    monkeypatch.setenv("CUDA_PATH", str(cuda))
    nvcc_version.cache_clear()
    try:
        assert nvcc_version() == "Build cuda_12.4.r12.4/compiler.0"
        circuit = type("C", (), {"structure": lambda self: {"network": "softmax"}, "namespace": {}})()
        cuda_key = devices.StandaloneRunner.structure(type("R", (), {"target": "cuda_standalone", "threads": 1,
                                                                      "dt": 1e-4})(), circuit)
        assert cuda_key["nvcc_version"] == "Build cuda_12.4.r12.4/compiler.0"
    finally:
        nvcc_version.cache_clear()
