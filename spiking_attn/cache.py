"""The build cache: compiled C++ standalone projects, keyed by the network's structure.

A project is keyed by everything that shapes the generated code — the circuit's structure (network
kind, sizes, options, parameters), every constant inlined into the code, dt, target, thread count
and the Brian2 and spiking_attn versions — and never by the input values (q, k, v, phases), which
Brian2 stores as data files. A second run of a same-shaped problem regenerates the same sources
into the same folder, ``make`` finds nothing to recompile, and no compiler is started.

Safety: an entry is used under an exclusive lock (``fcntl.flock`` on ``KEY.lock``), so concurrent
runs of the same shape wait for each other instead of writing one project at once; an entry is
marked complete (``KEY/COMPLETE``) only after a successful build, so a build that was interrupted
(Ctrl-C, kill) is found incomplete and rebuilt from scratch.

Location: ``--cache-dir``, else ``$SPIKING_ATTN_CACHE``, else ``$XDG_CACHE_HOME/spiking_attn``
(``~/.cache/spiking_attn``).
"""
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time

import brian2

from . import __version__

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


def structure_key(structure):
    """A short hash of a JSON-serialisable description of the generated code."""
    described = {**structure, "brian2": brian2.__version__, "spiking_attn": __version__}
    text = json.dumps(described, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@contextlib.contextmanager
def cache_entry(root, structure):
    """Lock the entry for ``structure`` and yield (project folder, whether a complete build exists).

    Call :func:`mark_complete` after a successful build. An incomplete folder (interrupted build)
    is removed first.
    """
    key = structure_key(structure)
    try:
        os.makedirs(root, exist_ok=True)
        lock = open(os.path.join(root, f"{key}.lock"), "w")
    except OSError as error:
        raise OSError(f"cannot use the build cache {root}: {error.strerror}") from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        folder = os.path.join(root, key)
        complete = os.path.exists(os.path.join(folder, COMPLETE))
        if os.path.exists(folder) and not complete:
            shutil.rmtree(folder)
        os.makedirs(folder, exist_ok=True)
        if not complete:
            with open(os.path.join(folder, META), "w") as handle:
                json.dump({"structure": structure, "created": time.strftime("%Y-%m-%d %H:%M:%S")}, handle,
                          indent=2, default=str)
        try:
            yield folder, complete
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def mark_complete(folder):
    with open(os.path.join(folder, COMPLETE), "w") as handle:
        handle.write(time.strftime("%Y-%m-%d %H:%M:%S\n"))


def _size_mb(folder):
    total = 0
    for directory, _, files in os.walk(folder):
        total += sum(os.path.getsize(os.path.join(directory, name)) for name in files)
    return total / 1e6


def list_entries(root):
    """One dict per cache entry: key, network description, complete, size (MB), created."""
    entries = []
    if not os.path.isdir(root):
        return entries
    for key in sorted(os.listdir(root)):
        folder = os.path.join(root, key)
        if not os.path.isdir(folder):
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
            "shape": " ".join(f"{name}={structure[name]}" for name in ("tokens", "dim", "value_dim", "features")
                              if name in structure),
            "target": structure.get("target", "?"),
            "complete": os.path.exists(os.path.join(folder, COMPLETE)),
            "size_mb": round(_size_mb(folder), 1),
            "created": meta.get("created", "?"),
        })
    return entries


def clear(root):
    """Remove every entry that no run is using; returns (removed, skipped because in use)."""
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
    return removed, skipped
