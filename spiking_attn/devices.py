"""The device/run layer: build a circuit on a Brian2 target, run it, and return a Recording.

Targets: ``cpp_standalone`` (Brian2 generates and compiles a C++ project, then runs the binary;
projects are kept in the build cache, :mod:`spiking_attn.cache`), ``cuda_standalone`` (the same on
an NVIDIA GPU through brian2cuda) and the runtime targets ``cython`` and ``numpy`` (code generated
and executed from Python).
"""
import gc
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, replace

import numpy as np
from brian2 import (Function, NeuronGroup, SpikeMonitor, Synapses, TimedArray, defaultclock, device, prefs, second,
                    set_device)
from brian2.devices.device import reset_device

from .cache import cache_entry, cache_root, compiler_identity, compiler_name, mark_complete
from .errors import InputError

TARGETS = ("cpp_standalone", "cython", "numpy", "cuda_standalone")
STANDALONE = ("cpp_standalone", "cuda_standalone")


@dataclass(frozen=True)
class Timings:
    """Wall-clock seconds spent building (code generation, compilation) and running.

    ``reused_build`` is True when a complete standalone build of the same structure was found in
    the cache, so nothing was compiled.
    """

    build_seconds: float
    run_seconds: float
    reused_build: bool = False


def check_target(target):
    """Raise InputError if ``target`` cannot run on this machine."""
    if target not in TARGETS:
        raise InputError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")
    if target == "cuda_standalone":
        try:
            import brian2cuda  # noqa: F401
        except ImportError:
            raise InputError("target cuda_standalone needs brian2cuda (pip install brian2cuda; it needs "
                             "Python >= 3.12), nvcc and an NVIDIA GPU") from None
        if not shutil.which("nvidia-smi") or not shutil.which("nvcc"):
            raise InputError("target cuda_standalone needs an NVIDIA GPU (nvidia-smi) and the CUDA compiler nvcc")
    elif target != "numpy" and not shutil.which(compiler_name()):
        raise InputError(f"target {target} needs a C++ compiler ({compiler_name()}) and none was found; "
                         "install one (or set CXX) or use --target numpy")


# Brian2's C++ flags (-O3 -ffast-math -fno-finite-math-only -march=native) less
# -fno-finite-math-only: the compiler may assume that no value is inf or NaN, which lets GCC
# vectorise exp through glibc's libmvec. Measured on the T = 32 head (BENCHMARKS.md): its warm
# compiled run takes 0.51 s with the assumption and 0.71 s without. The assumption is sound only
# because no construct of ours produces or needs inf or NaN: the equations have no inf literal
# (spiking_attn/equations.py writes max and min with abs), every division is by a quantity kept
# above 0 (gates 1/(a + a_half), a_half > 0; the head's 1 / resting_normaliser, >= 1), and every
# exp has an argument bounded by validation and by the head's feedback, which keeps its depression
# within the range of the scores
# (scores at most 500, feature maps at most 1e250 at the inputs); Brian2's generated code uses inf
# only in exprel, which no equation here calls. tests/test_network.py checks the equations.
# -march=native makes the binary specific to this CPU: the cache key holds the CPU features and
# the compiler (:func:`spiking_attn.cache.compiler_identity`).
COMPILER_FLAGS = [flag for flag in prefs.codegen.cpp.extra_compile_args_gcc if flag != "-fno-finite-math-only"]
# Brian2 adds $prefix/include and $prefix/lib of the Python installation to the makefile; the
# generated projects need neither, and leaving them out keeps the project identical across
# installations (two virtual environments then share cache entries instead of recompiling
# each other's: the objects depend on the makefile).
INSTALLATION_PATH_PREFS = ("include_dirs", "library_dirs", "runtime_library_dirs")

REPORT_PERIOD = 10.0  # wall seconds between progress lines of a long run

PROGRESS_CPP = """
double spiking_attn_progress(const double t, const double duration)
{
    static const std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    static double next_report = %(period)r;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (elapsed >= next_report)
    {
        std::fprintf(stderr, "[spiking-attn] %%.4g s of %%.4g s simulated (%%.0f %%%%) in %%.0f s\\n",
                     t, duration, 100.0 * t / duration, elapsed);
        next_report += %(period)r;
    }
    return 0.0;
}
""" % {"period": REPORT_PERIOD}


def progress_reporter(duration):
    """A one-element group whose compiled code prints progress lines during a standalone run.

    Brian2's own ``report`` makes the binary read the CPU clock (a system call) before every
    code object of every time step, which doubled the run time of a T = 32 head; this group
    reads a monotonic clock once a step and prints every ``REPORT_PERIOD`` wall seconds.

    Parameters
    ----------
    duration : float
        Simulated seconds of the run (for the percentage).

    Returns
    -------
    brian2.NeuronGroup
    """
    progress = Function(lambda t, duration: 0.0, arg_units=[second, second], return_unit=1, stateless=False)
    progress.implementations.add_implementation("cpp", PROGRESS_CPP, name="spiking_attn_progress",
                                                compiler_kwds={"headers": ["<chrono>", "<cstdio>"]})
    group = NeuronGroup(1, "reported : 1", name="progress_reporter",
                        namespace={"progress": progress, "simulated": duration * second})
    group.run_regularly("reported = progress(t, simulated)", name="progress_reporter_code")
    return group


def synaptic_events(network):
    """Presynaptic events the run delivered: for every Synapses object whose source population has
    a SpikeMonitor, the sum over its synapses of the presynaptic neuron's spike count (spikes
    times fan-out)."""
    counts = {}
    for obj in network.objects:
        if isinstance(obj, SpikeMonitor):
            counts[obj.source.name] = np.bincount(np.asarray(obj.i[:]), minlength=len(obj.source))
    return int(sum(counts[obj.source.name][np.asarray(obj.i[:])].sum() for obj in network.objects
                   if isinstance(obj, Synapses) and obj.source.name in counts))


def recorded(circuit):
    """The circuit's recording, with the synapse count of each of its Synapses objects and the
    synaptic events delivered."""
    synapses = {obj.name: len(obj) for obj in circuit.network.objects if isinstance(obj, Synapses)}
    return replace(circuit.recording(), synapses=synapses, synaptic_events=synaptic_events(circuit.network))


def compiled_files(folder):
    """Modification times and sizes of the object files and the binary of a standalone project."""
    stamps = {}
    for directory, _, files in os.walk(folder):
        for name in files:
            if name.endswith(".o") or name == "main":
                path = os.path.join(directory, name)
                status = os.stat(path)
                stamps[path] = (status.st_mtime_ns, status.st_size)
    return stamps


def stderr_progress(message):
    """Print a progress line to standard error."""
    print(f"[spiking-attn] {message}", file=sys.stderr, flush=True)


def private_copy(folder):
    """Copy what the compiled binary reads (``main`` and this problem's ``static_arrays/``) out of the
    cache entry ``folder`` into a fresh temporary folder, so that it runs there while the entry is
    free for the next build of the same shape; returns that folder."""
    run_folder = tempfile.mkdtemp(prefix="spiking-attn-run-")
    shutil.copy2(os.path.join(folder, "main"), run_folder)
    shutil.copytree(os.path.join(folder, "static_arrays"), os.path.join(run_folder, "static_arrays"))
    return run_folder


def _build(folder):
    """Generate and compile the standalone project in ``folder`` (``make`` recompiles only what changed)."""
    try:
        device.build(directory=folder, compile=True, run=False, with_output=False)
    except RuntimeError as error:
        # Brian2 runs make through os.system, which ignores Ctrl-C in this process: make then dies
        # of SIGINT and os.system returns the wait status 2, reported as "error code: 2".
        if "compilation failed (error code: 2)" in str(error):
            raise KeyboardInterrupt from None
        raise


def simulate(build, target="cpp_standalone", dt=0.1e-3, progress=stderr_progress, cache_dir=None, threads=1):
    """Build a circuit on a Brian2 target, simulate it and return its recording.

    Parameters
    ----------
    build : callable
        Called with no arguments once the target is active; returns a circuit with attributes
        ``network`` (brian2.Network), ``namespace`` (dict), ``duration`` (simulated seconds) and
        methods ``describe()`` (one line), ``structure()`` (what shapes the generated code, for
        the cache key) and ``recording()`` (a :class:`Recording`).
    target : {'cpp_standalone', 'cython', 'numpy'}
    dt : float
        Time step (s).
    progress : callable
        Receives one-line progress messages.
    cache_dir : str, optional
        Build cache folder (standalone targets); see :func:`spiking_attn.cache.cache_root`.
    threads : int
        OpenMP threads of the cpp_standalone binary (compiled in, so part of the cache key).

    Returns
    -------
    circuit : object
        What ``build`` returned (after a standalone run its Brian2 objects are spent).
    recording : Recording
    timings : Timings
    """
    check_target(target)
    if int(threads) != threads or threads < 1:
        raise InputError(f"threads must be a whole number >= 1, got {threads}")
    standalone = target in STANDALONE
    default_prefs = {name: prefs.codegen.cpp[name] for name in ("extra_compile_args_gcc", *INSTALLATION_PATH_PREFS)}
    try:
        prefs.codegen.cpp.extra_compile_args_gcc = COMPILER_FLAGS
        for name in INSTALLATION_PATH_PREFS:
            prefs.codegen.cpp[name] = []
        if standalone:
            set_device(target, build_on_run=False)
            if target == "cpp_standalone":
                prefs.devices.cpp_standalone.openmp_threads = 0 if threads == 1 else int(threads)
        else:
            prefs.codegen.target = target
        defaultclock.dt = dt * second
        start = time.perf_counter()
        # Brian2 names objects uniquely among those alive: collect an earlier run's (reference
        # cycles) so that a same-shaped circuit in this process generates identical code.
        gc.collect()
        circuit = build()
        progress(f"{circuit.describe()}; target {target}, {circuit.duration:g} s simulated")
        if standalone:
            if target == "cpp_standalone":
                circuit.network.add(progress_reporter(circuit.duration))
                report = {}
            else:  # brian2cuda: its own progress report (the reporter has no CUDA implementation)
                report = dict(report="stderr", report_period=REPORT_PERIOD * second)
            circuit.network.run(circuit.duration * second, namespace=circuit.namespace, **report)
            constants = {name: repr(value) for name, value in circuit.namespace.items()
                         if not isinstance(value, TimedArray)}
            structure = {**circuit.structure(), "target": target, "threads": threads, "dt": dt,
                         "constants": constants, "compiler_flags": COMPILER_FLAGS, **compiler_identity()}
            with cache_entry(cache_root(cache_dir), structure) as (folder, complete):
                progress(f"reusing the compiled build in {folder}" if complete
                         else f"generating and compiling C++ code in {folder} ...")
                before = compiled_files(folder)
                _build(folder)
                reused = complete and compiled_files(folder) == before  # checked: no compiler ran
                if complete and not reused:
                    progress("the cached build was out of date and has been recompiled")
                mark_complete(folder)
                run_folder = private_copy(folder)
            # The entry is unlocked: same-shaped runs build (rewriting its data files) while this one runs.
            try:
                build_seconds = time.perf_counter() - start
                progress(f"{'ready' if reused else 'compiled'} in {build_seconds:.1f} s; running ...")
                start = time.perf_counter()
                device.run(directory=run_folder, results_directory="results", with_output=True)
                run_seconds = time.perf_counter() - start
                recording = recorded(circuit)
            finally:
                shutil.rmtree(run_folder, ignore_errors=True)
        else:
            reused = False
            progress(f"generating {target} code ...")
            circuit.network.run(0 * second, namespace=circuit.namespace)
            build_seconds = time.perf_counter() - start
            progress(f"code ready in {build_seconds:.1f} s; running ...")
            start = time.perf_counter()
            circuit.network.run(circuit.duration * second, namespace=circuit.namespace, report="stderr",
                                report_period=REPORT_PERIOD * second)
            run_seconds = time.perf_counter() - start
            recording = recorded(circuit)
        progress(f"simulated {circuit.duration:g} s in {run_seconds:.1f} s")
        return circuit, recording, Timings(build_seconds=build_seconds, run_seconds=run_seconds, reused_build=reused)
    finally:
        for name, value in default_prefs.items():
            prefs.codegen.cpp[name] = value
        if standalone:
            device.reinit()
            reset_device("runtime")
            prefs.devices.cpp_standalone.openmp_threads = 0
        defaultclock.dt = 0.1e-3 * second
        gc.collect()  # frees the objects' names, so a same-shaped circuit generates identical code
