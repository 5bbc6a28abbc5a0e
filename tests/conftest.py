"""Shared, seeded fixtures. The C++ standalone build (about 20 s) is made once per session."""
import json

import pytest

from spiking_attn.cli import main


@pytest.fixture(scope="session")
def default_run(tmp_path_factory):
    """`spiking-attn run` on the built-in default problem (T=16, D=16, seed 0, cpp_standalone)."""
    out = tmp_path_factory.mktemp("default") / "run"
    code = main(["run", "--out", str(out)])
    with open(out / "summary.json") as handle:
        summary = json.load(handle)
    return code, out, summary
