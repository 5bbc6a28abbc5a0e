"""The device/run layer: build a head on a Brian2 target, run it, and return a Recording.

Targets: ``cpp_standalone`` (Brian2 generates and compiles a C++ project, then runs the binary)
and the runtime targets ``cython`` and ``numpy`` (code generated and executed from Python).
"""
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass

from brian2 import defaultclock, device, prefs, second, set_device
from brian2.devices.device import reset_device

from .errors import InputError

TARGETS = ("cpp_standalone", "cython", "numpy")


@dataclass(frozen=True)
class Timings:
    """Wall-clock seconds spent building (code generation, compilation) and running."""

    build_seconds: float
    run_seconds: float


def stderr_progress(message):
    """Print a progress line to standard error."""
    print(f"[spiking-attn] {message}", file=sys.stderr, flush=True)


def simulate(build, target="cpp_standalone", dt=0.1e-3, progress=stderr_progress):
    """Build a circuit on a Brian2 target, simulate it and return its recording.

    Parameters
    ----------
    build : callable
        Called with no arguments once the target is active; returns a circuit with attributes
        ``network`` (brian2.Network), ``namespace`` (dict), ``duration`` (simulated seconds) and
        methods ``describe()`` (one line) and ``recording()`` (a :class:`Recording`).
    target : {'cpp_standalone', 'cython', 'numpy'}
    dt : float
        Time step (s).
    progress : callable
        Receives one-line progress messages.

    Returns
    -------
    circuit : object
        What ``build`` returned (after a standalone run its Brian2 objects are spent).
    recording : Recording
    timings : Timings
    """
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")
    if target != "numpy" and not any(shutil.which(name) for name in ("g++", "c++", "clang++")):
        raise InputError(f"target {target} needs a C++ compiler (g++) and none was found; "
                         "install one or use --target numpy")
    standalone = target == "cpp_standalone"
    build_dir = tempfile.mkdtemp(prefix="spiking_attn_build_") if standalone else None
    try:
        if standalone:
            set_device("cpp_standalone", directory=build_dir, build_on_run=False)
        else:
            prefs.codegen.target = target
        defaultclock.dt = dt * second
        start = time.perf_counter()
        circuit = build()
        progress(f"{circuit.describe()}; target {target}, {circuit.duration:g} s simulated")
        run = dict(namespace=circuit.namespace, report="stderr", report_period=10 * second)
        if standalone:
            circuit.network.run(circuit.duration * second, **run)
            progress("generating and compiling C++ code ...")
            device.build(directory=build_dir, compile=True, run=False, with_output=False)
            build_seconds = time.perf_counter() - start
            progress(f"compiled in {build_seconds:.1f} s; running ...")
            start = time.perf_counter()
            device.run(directory=build_dir, with_output=True)
        else:
            progress(f"generating {target} code ...")
            circuit.network.run(0 * second, namespace=circuit.namespace)
            build_seconds = time.perf_counter() - start
            progress(f"code ready in {build_seconds:.1f} s; running ...")
            start = time.perf_counter()
            circuit.network.run(circuit.duration * second, **run)
        run_seconds = time.perf_counter() - start
        progress(f"simulated {circuit.duration:g} s in {run_seconds:.1f} s")
        return circuit, circuit.recording(), Timings(build_seconds=build_seconds, run_seconds=run_seconds)
    finally:
        if standalone:
            device.reinit()
            reset_device("runtime")
            shutil.rmtree(build_dir, ignore_errors=True)
        defaultclock.dt = 0.1e-3 * second
