"""The build cache: compiled C++ standalone projects, keyed by the network's structure.

A project is keyed by everything that shapes the generated code or the binary — the circuit's
structure (network kind, sizes, options, parameters), every constant inlined into the code, dt,
target, thread count, compiler flags, the Brian2 and spiking_attn versions, the C++ compiler
(path and version) and the CPU features it compiles for (the code targets the host CPU) — and
never by the input values (q, k, v, phases), which Brian2 stores as data files. A second run of a
same-shaped problem regenerates the same sources into the same folder, ``make`` finds nothing to
recompile, and no compiler is started (:mod:`spiking_attn.devices` checks that, rather than
assuming it). The generated project names no path of the Python installation, so two
installations of the same versions (two virtual environments) share entries.

Safety: an entry is built under an exclusive lock (``fcntl.flock`` on ``KEY.lock``), so concurrent
runs of the same shape wait for each other's build step instead of writing one project at once (each
then runs its binary from a private copy, :func:`spiking_attn.devices.private_copy`); an entry is
marked complete (``KEY/COMPLETE``) only after a successful build, so a build that was interrupted
(Ctrl-C, kill) is found incomplete and rebuilt from scratch.

Location: ``--cache-dir``, else ``$SPIKING_ATTN_CACHE``, else ``$XDG_CACHE_HOME/spiking_attn``
(``~/.cache/spiking_attn``). Only entries the cache recognises as its own (a folder named by a
key, holding ``meta.json``) are listed, reused, rebuilt or cleared, and an interrupted build is moved
aside to a folder KEY.stale-XXXXXXXX (which only that step makes, and later removes): other files in
the folder are never touched.
"""
import contextlib
import fcntl
import functools
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time

import brian2

from .errors import InputError
from .output import process_alive
from .version import __version__

COMPLETE = "COMPLETE"
META = "meta.json"


def cache_root(cache_dir=None):
    """The cache folder: ``cache_dir``, ``$SPIKING_ATTN_CACHE`` or the per-user default."""
    if cache_dir:
        return os.path.abspath(cache_dir)
    if os.environ.get("SPIKING_ATTN_CACHE"):
        return os.path.abspath(os.environ["SPIKING_ATTN_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "spiking_attn")


KEY_PATTERN = re.compile(r"[0-9a-f]{16}")
# The calibrated states of networks (spiking_attn.calibration) are kept in this folder of the cache, as KEY.npz.
CALIBRATIONS = "calibrations"
CALIBRATION_PATTERN = re.compile(r"[0-9a-f]{16}\.npz")
CALIBRATION_LOCK_PATTERN = re.compile(r"[0-9a-f]{16}\.lock")
# An interrupted build moved out of the way: KEY.stale-XXXXXXXX (see _discard).
STALE_PATTERN = re.compile(r"[0-9a-f]{16}\.stale-[A-Za-z0-9_]+")


def check_usable(root):
    """Raise InputError unless the cache folder ``root`` exists or can be made, and is writable."""
    try:
        os.makedirs(root, exist_ok=True)
    except OSError as error:
        raise InputError(f"cannot use the build cache {root}: {error.strerror or error}") from None
    if not os.access(root, os.W_OK | os.X_OK):
        raise InputError(f"cannot use the build cache {root}: it is not writable")


LAUNCHERS = ("ccache", "sccache", "distcc", "icecc")  # they run the compiler named after them, or the one they mask


def compiler_name():
    """The C++ compiler ``make`` runs for the standalone build: the command of $CXX, else g++; of ``ccache g++`` (a
    launcher and its compiler) the compiler."""
    words = (os.environ.get("CXX") or "g++").split()
    while len(words) > 1 and os.path.basename(words[0]) in LAUNCHERS:
        words = words[1:]
    return words[0]


def _real_compiler(name):
    """The path of the compiler ``name`` runs: the first ``name`` on PATH that is not a launcher's link (as
    /usr/lib/ccache/g++ is ccache's), or None."""
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        path = os.path.join(folder, name) if os.sep not in name else name
        if os.path.isfile(path) and os.access(path, os.X_OK) and \
                os.path.basename(os.path.realpath(path)) not in LAUNCHERS:
            return path
        if os.sep in name:
            return None
    return None


@functools.lru_cache(maxsize=None)
def compiler_identity():
    """The C++ compiler ``make`` runs ($CXX, else g++) and what it compiles for on this machine.

    Returns
    -------
    dict
        ``compiler`` (resolved path), ``compiler_version`` (first line of ``--version``) and
        ``native_target``: a hash of the target options ``-march=native`` selects here (GCC's
        ``-Q --help=target``; for other compilers the CPU's feature flags), so a cache shared
        between machines never hands a binary to a CPU it was not compiled for.
    """
    name = compiler_name()
    path = _real_compiler(name)
    if path is None:
        return {"compiler": name, "compiler_version": None, "native_target": None}

    def output(*args):
        try:
            done = subprocess.run([path, *args], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.SubprocessError):
            return ""
        return done.stdout if done.returncode == 0 else ""

    version = (output("--version").splitlines() or [""])[0]
    target = output("-march=native", "-Q", "--help=target") or _cpu_flags()
    return {"compiler": os.path.realpath(path), "compiler_version": version,
            "native_target": hashlib.sha256(target.encode()).hexdigest()[:16]}


@functools.lru_cache(maxsize=None)
def nvcc_version():
    """The last line of ``nvcc --version`` (CUDA's compiler, of $CUDA_PATH or on PATH; cuda_standalone builds are
    keyed by it), or None without one."""
    candidates = [os.path.join(os.environ["CUDA_PATH"], "bin", "nvcc")] if os.environ.get("CUDA_PATH") else []
    candidates += [shutil.which("nvcc") or "", "/usr/local/cuda/bin/nvcc"]
    for path in candidates:
        if path and os.path.isfile(path):
            try:
                done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60)
            except (OSError, subprocess.SubprocessError):
                continue
            lines = done.stdout.strip().splitlines()
            return lines[-1] if done.returncode == 0 and lines else None
    return None


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as handle:
            flags = next((line for line in handle if line.startswith(("flags", "Features"))), "")
    except OSError:
        flags = ""
    return platform.machine() + flags


# A run's private folder in the temporary directory (the binary runs there, spiking_attn.devices.private_copy) or a
# sweep point's output file: named with the process that made it, so that one left by a killed process is known.
PRIVATE_PATTERN = re.compile(r"spiking-attn-(?:run|point)-(\d+)-[A-Za-z0-9_]+(?:\.txt)?")


def private_temporary(kind, folder=True):
    """A fresh private folder (or, with ``folder`` False, a file's path) ``spiking-attn-KIND-PID-XXXXXXXX`` in the
    temporary directory, after removing those that killed processes left (:func:`remove_abandoned`)."""
    remove_abandoned()
    prefix = f"spiking-attn-{kind}-{os.getpid()}-"
    if folder:
        return tempfile.mkdtemp(prefix=prefix)
    handle, path = tempfile.mkstemp(prefix=prefix, suffix=".txt")
    os.close(handle)
    return path


def remove_abandoned(directory=None):
    """Remove this user's private run folders and point files (:data:`PRIVATE_PATTERN`) whose process is gone (a
    run killed with SIGKILL cannot remove its own); returns how many were removed."""
    directory = directory or tempfile.gettempdir()
    removed = 0
    for name in os.listdir(directory):
        match = PRIVATE_PATTERN.fullmatch(name)
        path = os.path.join(directory, name)
        if match is None or process_alive(int(match[1])):
            continue
        status = os.lstat(path)
        if status.st_uid != os.getuid() or os.path.islink(path):
            continue
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.remove(path)
        removed += 1
    return removed


def structure_key(structure):
    """A short hash of a JSON-serialisable description of the generated code."""
    described = {**structure, "brian2": brian2.__version__, "spiking_attn": __version__}
    text = json.dumps(described, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@contextlib.contextmanager
def cache_entry(root, structure, report=None):
    """Lock the entry for ``structure`` and yield (project folder, whether a complete build exists).

    Call :func:`mark_complete` after a successful build. An incomplete folder (interrupted build)
    is removed first; a complete one whose binary, object files or data files no longer match their checksums
    (:func:`damaged`; ``report`` receives a line saying which file) loses those files and is built again.
    """
    key = structure_key(structure)
    check_usable(root)
    try:
        lock = open(os.path.join(root, f"{key}.lock"), "w")
    except OSError as error:
        raise InputError(f"cannot use the build cache {root}: {error.strerror}") from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        folder = os.path.join(root, key)
        repaired = os.path.exists(os.path.join(folder, COMPLETE)) and _repaired(folder, report)
        complete = os.path.exists(os.path.join(folder, COMPLETE))
        if os.path.lexists(folder) and not complete and not repaired:
            empty_folder = os.path.isdir(folder) and not os.path.islink(folder) and not os.listdir(folder)
            if not (_is_entry(folder) or empty_folder):
                raise InputError(f"{folder} is in the way of a build cache entry and is not one; "
                                 "move it or choose another --cache-dir")
            _discard(folder)  # an interrupted build of ours (it holds our meta.json), or an empty folder
        os.makedirs(folder, exist_ok=True)
        if not complete:
            with open(os.path.join(folder, META), "w") as handle:
                json.dump({"structure": structure, "created": time.strftime("%Y-%m-%d %H:%M:%S")}, handle,
                          indent=2, default=str)
        try:
            yield folder, complete
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _discard(folder):
    """Move an interrupted build of ours out of the way, then remove it. The compiler it started can
    outlive it (a killed run's ``make`` goes on): moved, the folder keeps the files it still writes (its
    working folder moves with it), so they never land in the rebuilt entry. What cannot be removed yet
    stays as KEY.stale-XXXXXXXX (a folder only this function makes), removed the next time an
    interrupted build is moved aside."""
    root = os.path.dirname(folder)
    for name in os.listdir(root):
        stale = os.path.join(root, name)
        if STALE_PATTERN.fullmatch(name) and os.path.isdir(stale) and not os.path.islink(stale):
            shutil.rmtree(stale, ignore_errors=True)  # our own stale build, named so below
    trash = tempfile.mkdtemp(prefix=f"{os.path.basename(folder)}.stale-", dir=root)
    os.replace(folder, os.path.join(trash, "build"))
    shutil.rmtree(trash, ignore_errors=True)


def _is_checked(path):
    """Whether ``path`` (relative to an entry) is one a run uses as built: the binary ``main``, an object file
    ``make`` trusts or a data file in ``static_arrays/``; never a path that leads out of the entry."""
    parts = path.split(os.sep)
    if os.path.isabs(path) or ".." in parts or os.path.normpath(path) != path:
        return False
    return path == "main" or path.endswith(".o") or (parts[0] == "static_arrays" and len(parts) > 1)


def _checked_files(folder):
    """The entry's files that :func:`_is_checked` names, as paths relative to ``folder``."""
    for directory, _, names in os.walk(folder):
        relative = os.path.relpath(directory, folder)
        for name in names:
            path = os.path.normpath(os.path.join(relative, name))
            if _is_checked(path):
                yield path


def checksums(folder):
    """SHA-256 of each of the entry's :func:`_checked_files` (about 0.1 s for a 50 MB entry)."""
    sums = {}
    for path in sorted(_checked_files(folder)):
        with open(os.path.join(folder, path), "rb") as stream:
            sums[path] = hashlib.file_digest(stream, "sha256").hexdigest()
    return sums


def damaged(folder):
    """The files of a complete entry that are missing or differ from the checksums :func:`mark_complete` recorded
    (a truncated or altered binary, object or data file), or ["meta.json"] if there is no record; [] if none."""
    try:
        with open(os.path.join(folder, META)) as stream:
            recorded = json.load(stream)["checksums"]
        if not all(isinstance(path, str) and _is_checked(path) for path in recorded):
            return [META]  # an altered record (a path out of the entry would be removed by _repaired): trust nothing
        found = []
        for path, digest in recorded.items():
            try:
                with open(os.path.join(folder, path), "rb") as stream:
                    if hashlib.file_digest(stream, "sha256").hexdigest() != digest:
                        found.append(path)
            except FileNotFoundError:
                found.append(path)
        return found
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return [META]


def _repaired(folder, report):
    """If the complete entry ``folder`` is damaged (:func:`damaged`): remove the damaged files and the mark of
    completion, so that the build regenerates the code and ``make`` compiles only what is missing (an entry without a
    checksum record is rebuilt whole); returns whether it was damaged."""
    files = damaged(folder)
    if not files:
        return False
    if report is not None:
        more = f" and {len(files) - 1} more" if len(files) > 1 else ""
        report(f"the cached build {folder} is damaged ({files[0]}{more} not as built); building it again")
    os.remove(os.path.join(folder, COMPLETE))
    if files == [META]:
        return False  # nothing to trust: discarded and rebuilt whole
    for path in files:
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(folder, path))
    return True


def mark_complete(folder):
    """Record the checksums of the build in ``meta.json`` (written whole, then renamed), then mark it complete."""
    with open(os.path.join(folder, META)) as stream:
        meta = json.load(stream)
    meta["checksums"] = checksums(folder)
    partial = os.path.join(folder, META + ".partial")
    with open(partial, "w") as handle:
        json.dump(meta, handle, indent=2, default=str)
    os.replace(partial, os.path.join(folder, META))
    with open(os.path.join(folder, COMPLETE), "w") as handle:
        handle.write(time.strftime("%Y-%m-%d %H:%M:%S\n"))


def _is_entry(folder):
    """Whether ``folder`` is a cache entry: named by a key, a real folder, holding meta.json."""
    return (KEY_PATTERN.fullmatch(os.path.basename(folder)) is not None and os.path.isdir(folder)
            and not os.path.islink(folder) and os.path.isfile(os.path.join(folder, META)))


def _size_mb(folder):
    total = 0
    for directory, _, files in os.walk(folder):
        total += sum(os.path.getsize(os.path.join(directory, name)) for name in files)
    return total / 1e6


SHAPE_FIELDS = ("heads", "query_tokens", "key_tokens", "tokens", "dim", "value_dim", "features", "causal")


def list_entries(root):
    """One dict per cache entry (see :func:`_is_entry`): key, network, shape, target, complete,
    size (MB), created. Anything else in ``root`` is ignored."""
    entries = []
    if not os.path.isdir(root):
        return entries
    for key in sorted(os.listdir(root)):
        folder = os.path.join(root, key)
        if not _is_entry(folder):
            continue
        try:
            with open(os.path.join(folder, META)) as handle:
                meta = json.load(handle)
        except (OSError, ValueError):
            meta = {}
        structure = meta.get("structure", {})
        entries.append({
            "key": key,
            "network": structure.get("network", "?"),
            "shape": " ".join(f"{name}={structure[name]}" for name in SHAPE_FIELDS if name in structure),
            "target": structure.get("target", "?"),
            "complete": os.path.exists(os.path.join(folder, COMPLETE)),
            "size_mb": round(_size_mb(folder), 1),
            "created": meta.get("created", "?"),
        })
    return entries


def stored_calibrations(root, pattern=CALIBRATION_PATTERN):
    """The calibrated states kept in the cache (files named KEY.npz in its calibrations folder; with
    ``pattern`` their lock files)."""
    folder = os.path.join(root, CALIBRATIONS)
    if not os.path.isdir(folder) or os.path.islink(folder):
        return []
    return sorted(os.path.join(folder, name) for name in os.listdir(folder)
                  if pattern.fullmatch(name) and os.path.isfile(os.path.join(folder, name)))


def clear(root):
    """Remove every entry (only what :func:`list_entries` recognises) that no run is using, and the stored
    calibrations; returns (builds removed, builds skipped because in use, calibrations removed). Run folders that
    killed runs left in the temporary directory go too (:func:`remove_abandoned`)."""
    remove_abandoned()
    calibrations = stored_calibrations(root)
    for path in calibrations + stored_calibrations(root, CALIBRATION_LOCK_PATTERN):
        os.remove(path)
    removed = skipped = 0
    for entry in list_entries(root):
        with open(os.path.join(root, f"{entry['key']}.lock"), "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                skipped += 1
                continue
            shutil.rmtree(os.path.join(root, entry["key"]), ignore_errors=True)
            os.remove(os.path.join(root, f"{entry['key']}.lock"))
            fcntl.flock(lock, fcntl.LOCK_UN)
            removed += 1
    return removed, skipped, len(calibrations)
