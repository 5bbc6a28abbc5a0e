"""Shared, seeded fixtures. The C++ standalone build (about 20 s) is made once per session, in a
build cache of the session's own (so runs in subprocesses reuse it)."""
import json
import os

import pytest

from spiking_attn.cli import main


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
