"""The device/run layer: build a head on a Brian2 target, run it, and return a Recording.

Targets: ``cpp_standalone`` (Brian2 generates and compiles a C++ project, then runs the binary)
and the runtime targets ``cython`` and ``numpy`` (code generated and executed from Python).
"""
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np
from brian2 import defaultclock, device, prefs, second, set_device
from brian2.devices.device import reset_device

from .circuits import HeadParameters, build_softmax_head
from .decoding import Recording
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


def _recording(head, duration):
    m = head.monitors
    T, Dv = head.problem.tokens, head.problem.value_dim
    settle = head.parameters.settle
    return Recording(
        spikes={name: (np.asarray(m[name].i[:], dtype=np.int64), np.asarray(m[name].t[:] / second))
                for name in ("input", "score", "attention", "output")},
        sizes={name: len(m[name].source) for name in ("input", "score", "attention", "output")},
        astrocyte_times=np.asarray(m["astrocyte"].t[:] / second),
        astrocyte_response=np.asarray(m["astrocyte"].a[:]),
        windows=np.tile([settle, settle + duration], (T, 1)),
        attention_neurons=np.arange(T * T).reshape(T, T),
        output_neurons=np.arange(T * Dv * 2).reshape(T, Dv, 2),
        astrocyte_of_row=np.arange(T),
        attention_rate=head.parameters.attention_rate,
        value_gain=head.value_gain,
        phases={"settling": (0.0, settle), "reading": (settle, settle + duration)},
    )


def run_head(problem, duration, target="cpp_standalone", astrocyte=True, parameters=HeadParameters(),
             seed=0, progress=stderr_progress):
    """Build and simulate the softmax head for ``settle + duration`` seconds.

    Parameters
    ----------
    problem : Problem
    duration : float
        Length of the read (counting) window in seconds; the settling time
        ``parameters.settle`` comes before it.
    target : {'cpp_standalone', 'cython', 'numpy'}
    astrocyte : bool
        Gliotransmission on (normalised) or blocked.
    parameters : HeadParameters
    seed : int
        Seed of the initial phases.
    progress : callable
        Receives one-line progress messages.

    Returns
    -------
    recording : Recording
    timings : Timings
    """
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")
    if target != "numpy" and not any(shutil.which(name) for name in ("g++", "c++", "clang++")):
        raise InputError(f"target {target} needs a C++ compiler (g++) and none was found; "
                         "install one or use --target numpy")
    total = parameters.settle + duration
    standalone = target == "cpp_standalone"
    build_dir = tempfile.mkdtemp(prefix="spiking_attn_build_") if standalone else None
    try:
        if standalone:
            set_device("cpp_standalone", directory=build_dir, build_on_run=False)
        else:
            prefs.codegen.target = target
        defaultclock.dt = parameters.dt * second
        start = time.perf_counter()
        head = build_softmax_head(problem, parameters, astrocyte=astrocyte, seed=seed)
        namespace = parameters.namespace()
        sizes = {name: len(monitor.source) for name, monitor in head.monitors.items()}
        progress(f"network: {sum(sizes.values())} neurons and astrocytes, T={problem.tokens}, D={problem.dim}, Dv={problem.value_dim}, "
                 f"target {target}, {total:g} s simulated ({parameters.settle:g} s settling + {duration:g} s read)")
        if standalone:
            head.network.run(total * second, namespace=namespace, report="stderr", report_period=10 * second)
            progress("generating and compiling C++ code ...")
            device.build(directory=build_dir, compile=True, run=False, with_output=False)
            build_seconds = time.perf_counter() - start
            progress(f"compiled in {build_seconds:.1f} s; running ...")
            start = time.perf_counter()
            device.run(directory=build_dir, with_output=True)
        else:
            progress(f"generating {target} code ...")
            head.network.run(0 * second, namespace=namespace)
            build_seconds = time.perf_counter() - start
            progress(f"code ready in {build_seconds:.1f} s; running ...")
            start = time.perf_counter()
            head.network.run(total * second, namespace=namespace, report="stderr", report_period=10 * second)
        run_seconds = time.perf_counter() - start
        progress(f"simulated {total:g} s in {run_seconds:.1f} s")
        return _recording(head, duration), Timings(build_seconds=build_seconds, run_seconds=run_seconds)
    finally:
        if standalone:
            device.reinit()
            reset_device("runtime")
            shutil.rmtree(build_dir, ignore_errors=True)
        defaultclock.dt = 0.1e-3 * second
