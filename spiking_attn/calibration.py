"""Calibrated states: a network calibrates itself once, then serves every problem run on it.

A calibrated state is what a circuit's homeostatic rules leave after its calibration (the softmax
head's: :mod:`spiking_attn.circuits.homeostasis`). It belongs to one network: its identity (the
circuit's :class:`~spiking_attn.circuits.base.Calibrator` says what that is: the shape, the seed
that drew its heterogeneity, the target...), never to a problem. ``--calibrate SEC`` looks for a
stored state of the network calibrated for SEC seconds and calibrates only if there is none; the
state is stored in the build cache's ``calibrations/`` folder and written into the result folder as
``calibration.npz``, which ``--calibration FILE`` loads for the same network and refuses, with one
line, for another.
"""
import fcntl
import hashlib
import json
import os
import tempfile
import time
import zipfile
from dataclasses import dataclass, field

import numpy as np

from .cache import CALIBRATIONS, cache_root, check_usable
from .devices import simulate
from .errors import InputError

CALIBRATION_FILE = "calibration.npz"
MARKER = "spiking_attn_calibration"  # an array in every calibration file: it recognises its own files
STATE_PREFIX = "state__"


@dataclass
class Calibration:
    """A calibrated state and where it came from.

    Attributes
    ----------
    identity : dict
        The network it belongs to.
    seconds : float
        Simulated seconds of the calibration.
    state : dict of str -> ndarray
        The adapted variables, by group.
    origin : {'calibrated', 'reused', 'loaded'}
        Calibrated in this run, found in the store, or loaded from ``--calibration``.
    file : str
        The file it was stored in or loaded from.
    timings : dict
        Wall seconds building and running the calibration (where it ran in this run).
    """

    identity: dict
    seconds: float
    state: dict
    origin: str
    file: str
    timings: dict = field(default_factory=dict)

    def summary(self):
        """The summary.json block: where the state came from and how long it was calibrated."""
        said = {"calibrated": "calibrated in this run", "reused": "reused (stored for this network)",
                "loaded": "loaded from --calibration"}
        return {"state": said[self.origin], "seconds": self.seconds, "file": self.file, **self.timings}


def save_calibration(path, calibration):
    """Write ``calibration`` to ``path`` (through a temporary file: a reader never sees half of it)."""
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".calibration-", suffix=".npz", dir=folder)
    os.close(handle)
    try:
        np.savez(temporary, **{MARKER: np.array(1), "identity": np.array(json.dumps(calibration.identity)),
                               "seconds": np.array(calibration.seconds)},
                 **{STATE_PREFIX + name: values for name, values in calibration.state.items()})
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def load_calibration(path, identity, origin="loaded"):
    """The calibration saved in ``path``, or InputError (one line) if it is not one or belongs to another
    network than ``identity``."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            if MARKER not in saved.files:
                raise InputError(f"{path}: not a calibration file (no {MARKER} array)")
            found = json.loads(str(saved["identity"]))
            seconds = float(saved["seconds"])
            state = {name[len(STATE_PREFIX):]: saved[name] for name in saved.files if name.startswith(STATE_PREFIX)}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise InputError(f"{path}: cannot read a calibration ({error.__class__.__name__}: {error})") from None
    for name, values in state.items():
        if values.dtype.kind not in "fiu" or not np.isfinite(values).all():
            raise InputError(f"{path}: the calibration's state {name} is not all finite numbers; calibrate again")
    _check_identity(found, identity, path)
    return Calibration(identity=found, seconds=seconds, state=state, origin=origin, file=os.path.abspath(path))


def _check_identity(found, identity, path):
    differences = [f"{name} {_shown(found.get(name))} there, {_shown(identity.get(name))} here"
                   for name in sorted(set(found) | set(identity)) if found.get(name) != identity.get(name)]
    if differences:
        raise InputError(f"{path}: the calibration belongs to another network ({'; '.join(differences[:3])})")


def _shown(value):
    return "differs" if isinstance(value, dict) else repr(value)


def stored_path(cache_dir, identity, seconds):
    """Where the store keeps the calibration of network ``identity`` for ``seconds`` seconds."""
    text = json.dumps({"identity": identity, "seconds": seconds}, sort_keys=True)
    return os.path.join(cache_root(cache_dir), CALIBRATIONS, hashlib.sha256(text.encode()).hexdigest()[:16] + ".npz")


def _calibrate(kind, problem, options, parameters, identity, path, progress):
    """Run the circuit's calibration on the network of ``problem``'s shape and store it at ``path``."""
    progress(f"calibrating the network for {options.calibrate:g} s (stored for every later problem on it)")
    start = time.perf_counter()
    _, recording, timings = simulate(lambda: kind.calibration.build(problem, options, parameters),
                                     target=options.target, dt=parameters.dt, progress=progress,
                                     cache_dir=options.cache_dir, threads=options.threads or 1)
    calibration = Calibration(identity=identity, seconds=options.calibrate, state=recording.state,
                              origin="calibrated", file=path,
                              timings={"build_seconds": timings.build_seconds, "run_seconds": timings.run_seconds,
                                       "wall_seconds": time.perf_counter() - start})
    save_calibration(path, calibration)
    return calibration


def obtain_calibration(kind, problem, options, parameters, progress):
    """The calibrated state a run of ``problem`` uses: loaded from ``--calibration``, reused from the store
    (``--calibrate`` for a network calibrated before for as long), or calibrated now; None without either."""
    if kind.calibration is None or (options.calibrate is None and options.calibration is None):
        return None
    identity = kind.calibration.identity(problem, options, parameters)
    if options.calibration is not None:
        return load_calibration(options.calibration, identity)
    path = stored_path(options.cache_dir, identity, options.calibrate)
    check_usable(os.path.dirname(os.path.dirname(path)))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # Runs of one network at once (a sweep's points) calibrate it once: the others wait, then reuse it.
    with open(path[:-len(".npz")] + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isfile(path):
            progress(f"reusing the calibration of this network ({options.calibrate:g} s) from {path}")
            return load_calibration(path, identity, origin="reused")
        return _calibrate(kind, problem, options, parameters, identity, path, progress)
