"""The device/run layer: build a circuit on a Brian2 target, run it, and return a Recording.

Targets: ``cpp_standalone`` (Brian2 generates and compiles a C++ project, then runs the binary;
projects are kept in the build cache, :mod:`spiking_attn.cache`), ``cuda_standalone`` (the same on
an NVIDIA GPU through brian2cuda) and the runtime targets ``cython`` and ``numpy`` (code generated
and executed from Python).
"""
import contextlib
import gc
import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field, replace

import numpy as np
from brian2 import (
    Function,
    NeuronGroup,
    SpikeMonitor,
    Synapses,
    TimedArray,
    defaultclock,
    device,
    prefs,
    second,
    set_device,
)
from brian2.devices.device import get_device, reset_device

from .cache import (
    cache_entry,
    cache_root,
    check_usable,
    compiler_identity,
    compiler_name,
    mark_complete,
    nvcc_version,
    private_temporary,
)
from .errors import InputError
from .option import Option
from .output import write_json

TARGETS = ("cpp_standalone", "cython", "numpy", "cuda_standalone")
STANDALONE = ("cpp_standalone", "cuda_standalone")


@dataclass(frozen=True)
class Timings:
    """Wall-clock seconds spent building (code generation, compilation) and running.

    ``reused_build`` is True when a complete standalone build of the same structure was found in
    the cache, so nothing was compiled; ``code_generated`` is False when, in addition, no code was
    generated: the build's binary ran with this problem's values given on its command line
    (:class:`Assignments`).
    """

    build_seconds: float
    run_seconds: float
    reused_build: bool = False
    code_generated: bool = True


@dataclass
class Assignments:
    """What building a circuit assigned from Python on the C++ standalone device.

    Brian2 keeps such values out of the generated code: an array assignment becomes a data file the
    binary reads, which the binary also takes on its command line (``group.variable=FILE``), so a
    build can run again with other values without generating code. A single value is written into the
    code, and so is everything else (equations, connectivity from expressions).

    Attributes
    ----------
    values : dict
        ``group.variable`` -> the values assigned (an array of the variable's type and size).
    constants : dict
        ``group.variable`` -> repr of a single value assigned to every element (in the code).
    static : dict
        Brian2's own arrays (read-only: connectivity, the indices of links and monitors) and every other data file
        of the build (indexed assignments): name -> SHA-256 of its contents. A build is run with new values only
        if these are the same.
    """

    values: dict = field(default_factory=dict)
    constants: dict = field(default_factory=dict)
    static: dict = field(default_factory=dict)

    def manifest(self):
        """What must match for a build to run with these values: JSON-able."""
        return {"values": {name: [str(array.dtype), int(array.size)] for name, array in sorted(self.values.items())},
                "constants": dict(sorted(self.constants.items())), "static": dict(sorted(self.static.items()))}


@contextlib.contextmanager
def recorded_assignments():
    """Record the standalone device's assignments from Python (:class:`Assignments`) while the block builds a
    circuit; the device's own bookkeeping is unchanged."""
    target = get_device()
    record, filling = Assignments(), []
    fill_with_array, static_array = target.fill_with_array, target.static_array

    def recording_fill(var, values):
        values = np.asarray(values)
        name = f"{var.owner.name}.{var.name}"
        if var.read_only and values.size:  # Brian2's own arrays: connectivity, indices of links and monitors
            record.static[name] = hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()
        elif values.size == 1:
            record.constants[name] = repr(values.item())
        elif values.size > 1:
            record.values[name] = np.asarray(values, dtype=var.dtype).ravel()  # a view where it can: no copy
        filling.append(name)
        try:
            return fill_with_array(var, values)
        finally:
            filling.pop()

    def recording_static(name, values):
        stored = static_array(name, values)
        if not filling:
            record.static[stored] = hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()
        return stored

    target.fill_with_array, target.static_array = recording_fill, recording_static
    try:
        yield record
    finally:
        del target.fill_with_array, target.static_array  # the instance's own attributes: the methods show again


def takes_values_on_command_line(circuit):
    """Whether the circuit's build can run again with new values and no code generated: none of its objects
    reads a TimedArray or a function (their values are data files too, but only generated code names them)."""
    namespaces = [circuit.namespace] + [getattr(obj, "namespace", None) or {} for obj in circuit.network.objects]
    return not any(isinstance(value, (TimedArray, Function))
                   for namespace in namespaces for value in namespace.values())


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
# In a cache entry: what the build's binary takes on its command line (Assignments.manifest), written by a build
# whose circuit can run with new values and no code generated (takes_values_on_command_line).
VALUES_MANIFEST = "values.json"

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


def activity(network):
    """Spikes and presynaptic events of the run, by population (Brian2 group name).

    Returns
    -------
    spikes : dict of str -> int
        Spikes of every population with a SpikeMonitor.
    events : dict of str -> int
        For every Synapses object whose source has a SpikeMonitor, the sum over its synapses of the presynaptic
        neuron's spike count (spikes times fan-out), added up per source population.
    """
    counts = {obj.source.name: np.bincount(np.asarray(obj.i[:]), minlength=len(obj.source))
              for obj in network.objects if isinstance(obj, SpikeMonitor)}
    events = {}
    for obj in sorted(network.objects, key=lambda obj: obj.name):
        if isinstance(obj, Synapses) and obj.source.name in counts:
            delivered = int(counts[obj.source.name][np.asarray(obj.i[:])].sum())
            events[obj.source.name] = events.get(obj.source.name, 0) + delivered
    return {name: int(count.sum()) for name, count in sorted(counts.items())}, events


def recorded(circuit):
    """The circuit's recording, with the synapse count of each of its Synapses objects (by name, in
    alphabetical order: Brian2 keeps a network's objects in a set), and its spikes and the synaptic events
    delivered by population."""
    synapses = {obj.name: len(obj) for obj in sorted(circuit.network.objects, key=lambda obj: obj.name)
                if isinstance(obj, Synapses)}
    spikes, events = activity(circuit.network)
    return replace(circuit.recording(), synapses=synapses, events=events, population_spikes=spikes)


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
    run_folder = private_temporary("run")
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




MAX_THREADS = 256
OPTIONS = (
    Option("threads", "OpenMP threads of the C++ binary, compiled in", "whole", default=1, low=1, high=MAX_THREADS,
           metavar="N", targets=("cpp_standalone",), recorded=True),
    Option("target", "Brian2 target: C++ standalone (compiled once, then run), the cython or numpy runtime, or "
                     "cuda_standalone (needs brian2cuda and a GPU)", "choice", default="cpp_standalone",
           choices=TARGETS, recorded=True),
    Option("cache_dir", "build cache of the standalone targets (default $SPIKING_ATTN_CACHE or "
                        "~/.cache/spiking_attn)", "text", metavar="DIR"),
)


def check_cache_dir(cache_dir, target, warn):
    """The build cache folder of a standalone run, checked (usable), or None: a runtime target keeps no
    cache, so a folder given with one is only warned about."""
    if cache_dir is None:
        return None
    if target not in STANDALONE:
        warn(f"warning: --cache-dir is ignored: target {target} keeps no build cache")
        return None
    check_usable(cache_root(cache_dir))
    return cache_dir


class Runner:
    """How a built circuit runs on one kind of Brian2 target, as Brian2 keeps its runtime and
    standalone devices apart: :meth:`activate` prepares the target, :meth:`run` runs a circuit built
    on it and returns its recording and timings, :meth:`deactivate` restores Brian2's state.

    Parameters
    ----------
    target : str
    dt : float
        Time step (s).
    threads : int
        OpenMP threads (cpp_standalone).
    cache_dir : str or None
        Build cache (standalone targets).
    progress : callable
        Receives one-line progress messages.
    """

    def __init__(self, target, dt, threads, cache_dir, progress):
        self.target, self.dt, self.threads, self.cache_dir, self.progress = target, dt, threads, cache_dir, progress

    def activate(self):
        defaultclock.dt = self.dt * second

    def run(self, circuit, start, assignments=None):
        raise NotImplementedError

    def deactivate(self):
        defaultclock.dt = 0.1e-3 * second


class RuntimeRunner(Runner):
    """The runtime targets (numpy, cython): code generated and executed from Python."""

    def activate(self):
        super().activate()
        prefs.codegen.target = self.target
        # Brian2 would take Ctrl-C as "stop the simulation here" and return normally, and the run would write a
        # result that looks complete: let it interrupt the run instead (no results written, exit 130).
        prefs.core.stop_on_keyboard_interrupt = False

    def deactivate(self):
        prefs.core.stop_on_keyboard_interrupt = True
        super().deactivate()

    def run(self, circuit, start, assignments=None):
        self.progress(f"generating {self.target} code ...")
        circuit.network.run(0 * second, namespace=circuit.namespace)
        build_seconds = time.perf_counter() - start
        self.progress(f"code ready in {build_seconds:.1f} s; running ...")
        start = time.perf_counter()
        circuit.network.run(circuit.duration * second, namespace=circuit.namespace, report="stderr",
                            report_period=REPORT_PERIOD * second)
        run_seconds = time.perf_counter() - start
        return recorded(circuit), Timings(build_seconds=build_seconds, run_seconds=run_seconds)


class StandaloneRunner(Runner):
    """The standalone targets (cpp_standalone, cuda_standalone): a project generated and compiled into
    the build cache (:mod:`spiking_attn.cache`), whose binary runs from a private copy."""

    def activate(self):
        set_device(self.target, build_on_run=False)
        super().activate()
        if self.target == "cpp_standalone":
            prefs.devices.cpp_standalone.openmp_threads = 0 if self.threads == 1 else int(self.threads)

    def deactivate(self):
        device.reinit()
        reset_device("runtime")
        prefs.devices.cpp_standalone.openmp_threads = 0
        super().deactivate()

    def run(self, circuit, start, assignments=None):
        """Run the circuit's build: with ``assignments`` (:func:`recorded_assignments`) a cached build that takes
        them on its command line runs with no code generated; otherwise the project is generated and built (or
        found up to date) in the cache first."""
        run_folder = None if assignments is None else self.reusable_build(circuit, assignments)
        run_args, reused, generated = [], True, run_folder is None
        if run_folder is not None:
            self.progress("running the cached build with this problem's values (no code generated)")
            run_args = command_line_values(run_folder, assignments)
            ran_as_compiled_code(circuit.network)
        else:
            if self.target == "cpp_standalone":
                circuit.network.add(progress_reporter(circuit.duration))
                report = {}
            else:  # brian2cuda: its own progress report (the reporter has no CUDA implementation)
                report = dict(report="stderr", report_period=REPORT_PERIOD * second)
            circuit.network.run(circuit.duration * second, namespace=circuit.namespace, **report)
            run_folder, reused = self.compile(circuit, assignments)
        # The entry is unlocked: same-shaped runs build (rewriting its data files) while this one runs.
        try:
            build_seconds = time.perf_counter() - start
            self.progress(f"{'ready' if reused else 'compiled'} in {build_seconds:.1f} s; running ...")
            start = time.perf_counter()
            device.run(directory=run_folder, results_directory="results", with_output=True, run_args=run_args)
            run_seconds = time.perf_counter() - start
            return recorded(circuit), Timings(build_seconds=build_seconds, run_seconds=run_seconds,
                                              reused_build=reused, code_generated=generated)
        finally:
            shutil.rmtree(run_folder, ignore_errors=True)  # our own mkdtemp folder

    def structure(self, circuit):
        """Everything that shapes the generated code and the binary: the build cache's key."""
        constants = {name: repr(value) for name, value in circuit.namespace.items()
                     if not isinstance(value, TimedArray)}
        cuda = {"nvcc_version": nvcc_version()} if self.target == "cuda_standalone" else {}
        return {**circuit.structure(), "target": self.target, "threads": self.threads, "dt": self.dt,
                "constants": constants, "compiler_flags": COMPILER_FLAGS, **compiler_identity(), **cuda}

    def reusable_build(self, circuit, assignments):
        """A private copy of the cached build of the circuit's structure if that build takes ``assignments`` on its
        command line (its manifest matches: the same values by name, type and size, the same single values and
        data files); else None."""
        with cache_entry(cache_root(self.cache_dir), self.structure(circuit), self.progress) as (folder, complete):
            try:
                with open(os.path.join(folder, VALUES_MANIFEST)) as stream:
                    manifest = json.load(stream)
            except (OSError, ValueError):
                return None
            if not complete or manifest != assignments.manifest() or not os.path.isfile(os.path.join(folder, "main")):
                return None  # (a build without its binary goes the long way: make links it again)
            self.progress(f"reusing the compiled build in {folder}")
            return private_copy(folder)

    def compile(self, circuit, assignments=None):
        """Build the project in its cache entry (``make`` recompiles only what changed) and copy the
        binary out; returns the run folder and whether the cached build was reused unchanged. With
        ``assignments`` the entry records what its binary takes on its command line (:meth:`reusable_build`)."""
        with cache_entry(cache_root(self.cache_dir), self.structure(circuit), self.progress) as (folder, complete):
            self.progress(f"reusing the compiled build in {folder}" if complete
                          else f"generating and compiling C++ code in {folder} ...")
            before = compiled_files(folder)
            _build(folder)
            reused = complete and compiled_files(folder) == before  # checked: no compiler ran
            if complete and not reused:
                self.progress("the cached build was out of date and has been recompiled")
            manifest = os.path.join(folder, VALUES_MANIFEST)
            if assignments is None:
                if os.path.isfile(manifest):
                    os.remove(manifest)  # our own file in our own entry: this build takes no values
            else:
                write_json(manifest, assignments.manifest())
            mark_complete(folder)
            return private_copy(folder), reused


def ran_as_compiled_code(network):
    """Mark the network's objects as run, as ``Network.run`` marks them (Brian2's private ``_network``): they run as
    the cached binary, and Brian2 would otherwise warn, when they are deleted, that they were never in a network."""
    for obj in network.objects:
        for part in (obj, *obj.contained_objects):
            part._network = network.id


def command_line_values(run_folder, assignments):
    """Write the assigned values into ``run_folder``'s data folder; returns the binary's arguments that load them."""
    arguments = []
    for name, values in sorted(assignments.values.items()):
        path = os.path.join("static_arrays", f"_command_line_{name}")
        values.tofile(os.path.join(run_folder, path))
        arguments.append(f"{name}={path}")
    return arguments


def _set_compiler_prefs():
    """Use :data:`COMPILER_FLAGS` and no installation paths; returns the preferences to restore."""
    defaults = {name: prefs.codegen.cpp[name] for name in ("extra_compile_args_gcc", *INSTALLATION_PATH_PREFS)}
    prefs.codegen.cpp.extra_compile_args_gcc = COMPILER_FLAGS
    for name in INSTALLATION_PATH_PREFS:
        prefs.codegen.cpp[name] = []
    return defaults


def _built(build, target):
    """The circuit ``build`` returns, and on cpp_standalone what it assigned from Python if its build can take
    that on the binary's command line (else None: its code is generated)."""
    if target != "cpp_standalone":
        return build(), None
    with recorded_assignments() as assignments:
        circuit = build()
    return circuit, assignments if takes_values_on_command_line(circuit) else None


def simulate(build, target="cpp_standalone", dt=0.1e-3, progress=stderr_progress, cache_dir=None, threads=1):
    """Build a circuit on a Brian2 target, simulate it and return its recording.

    Parameters
    ----------
    build : callable
        Called with no arguments once the target is active; returns a
        :class:`~spiking_attn.circuits.base.Circuit`.
    target : {'cpp_standalone', 'cuda_standalone', 'cython', 'numpy'}
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
    circuit : Circuit
        What ``build`` returned (after a standalone run its Brian2 objects are spent).
    recording : Recording
    timings : Timings
    """
    check_target(target)
    if int(threads) != threads or threads < 1:
        raise InputError(f"threads must be a whole number >= 1, got {threads}")
    runner = (StandaloneRunner if target in STANDALONE else RuntimeRunner)(target, dt, threads, cache_dir, progress)
    default_prefs = _set_compiler_prefs()
    try:
        runner.activate()
        start = time.perf_counter()
        # Brian2 names objects uniquely among those alive: collect an earlier run's (reference
        # cycles) so that a same-shaped circuit in this process generates identical code.
        gc.collect()
        circuit, assignments = _built(build, target)
        progress(f"{circuit.describe()}; target {target}, {circuit.duration:g} s simulated")
        recording, timings = runner.run(circuit, start, assignments)
        progress(f"simulated {circuit.duration:g} s in {timings.run_seconds:.1f} s")
        return circuit, recording, timings
    finally:
        for name, value in default_prefs.items():
            prefs.codegen.cpp[name] = value
        runner.deactivate()
        gc.collect()  # frees the objects' names, so a same-shaped circuit generates identical code
