"""Shared, seeded fixtures. The suite runs its files on every core (pytest-xdist, a file per worker);
each worker's session has a build cache of its own, so a C++ standalone build (10-25 s) is made once
per worker and shape, runs in subprocesses reuse it, and no test sees another worker's builds."""
import json
import os

import pytest

from spiking_attn.cli import main

# The test files that take longest (pytest --durations), slowest first: the workers start on them and
# end on the short ones, so they finish together. Other files follow in their usual order. test_cache.py
# comes first: it counts the default shape's builds in its worker's cache before any other file (the
# encoder's 16-token layers) can add one there.
SLOWEST_FIRST = ("test_cache.py", "test_calibration.py", "test_sweep.py", "test_transformer.py",
                 "test_random_features.py", "test_real_attention.py", "test_li_rinzel.py", "test_cli.py",
                 "test_calcium.py", "test_network.py", "test_server.py", "test_memory.py", "test_edge_inputs.py",
                 "test_bad_input.py")


def pytest_collection_modifyitems(items):
    """Hand the test files out slowest first (the order of tests within a file is kept)."""
    rank = {name: position for position, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(scope="session", autouse=True)
def build_cache(tmp_path_factory):
    """Point SPIKING_ATTN_CACHE at a fresh folder for the whole session."""
    folder = tmp_path_factory.mktemp("build_cache")
    previous = os.environ.get("SPIKING_ATTN_CACHE")
    os.environ["SPIKING_ATTN_CACHE"] = str(folder)
    yield folder
    if previous is None:
        del os.environ["SPIKING_ATTN_CACHE"]
    else:
        os.environ["SPIKING_ATTN_CACHE"] = previous


@pytest.fixture(scope="session")
def default_run(tmp_path_factory, build_cache):
    """`spiking-attn run` on the built-in default problem (T=16, D=16, seed 0, cpp_standalone)."""
    out = tmp_path_factory.mktemp("default") / "run"
    code = main(["run", "--out", str(out)])
    with open(out / "summary.json") as handle:
        summary = json.load(handle)
    return code, out, summary


@pytest.fixture
def dask_scheduler(tmp_path):
    """The address of a separately started `dask scheduler` with one separately started single-threaded
    `dask worker` (as on a cluster); both are stopped afterwards."""
    import subprocess
    import sys
    import time

    scheduler_file = tmp_path / "scheduler.json"
    dask = os.path.join(os.path.dirname(sys.executable), "dask")
    scheduler = subprocess.Popen([dask, "scheduler", "--port", "0", "--no-dashboard", "--scheduler-file",
                                  str(scheduler_file)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        deadline = time.time() + 60
        while not scheduler_file.exists() and time.time() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        worker = subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        yield address
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
