"""Result folders: written in a staging folder, moved into place only when complete, and
replaced only when they are spiking-attn's own earlier output.

Every result folder holds a marker, ``.spiking-attn-result.json``, that lists the files the run
wrote. ``--overwrite`` replaces a folder only if that marker is there and every file and folder in
it is one the marker lists (or the folder is empty): a user's own file inside, or a folder that is
not a result at all (a home or project folder), is refused with one line and nothing is deleted.

``summary.json`` is strict JSON: NaN and infinity are written as ``null`` (a metric that is
undefined for the problem, such as a correlation across a single token).
"""
import contextlib
import fcntl
import json
import math
import os
import re
import shutil
import tempfile
import time

from .errors import InputError
from .version import __version__

MARKER = ".spiking-attn-result.json"
SWEEP_MARKER = "sweep.json"  # the marker of a sweep folder (spiking_attn.sweep)


def strict_json(value):
    """``value`` with every NaN or infinite float (also inside dicts and lists) replaced by None."""
    if isinstance(value, dict):
        return {key: strict_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path, value):
    """Write ``value`` as strict JSON (see :func:`strict_json`), whole or not at all: into ``PATH.partial``, then
    renamed over ``path`` (a reader never finds half a file, and an earlier file stays until the new one is
    complete)."""
    partial = f"{path}.partial"
    try:
        with open(partial, "w") as handle:
            json.dump(strict_json(value), handle, indent=2, allow_nan=False)
        os.replace(partial, path)
    finally:
        if os.path.lexists(partial):
            os.remove(partial)


def process_alive(pid):
    """Whether process ``pid`` runs (on this machine): it exists and is not a zombie (killed, not yet reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:  # no /proc (macOS): it exists
        return True


def _abandoned(parent, name, stage):
    """The folders ``.NAME.STAGE-PID-XXXXXXXX`` in ``parent`` whose process is gone (this user's real folders)."""
    pattern = re.compile(rf"\.{re.escape(name)}\.{stage}-(\d+)-[A-Za-z0-9_]+")
    for entry in sorted(os.listdir(parent)):
        match = pattern.fullmatch(entry)
        path = os.path.join(parent, entry)
        if match and not process_alive(int(match[1])) and os.path.isdir(path) and not os.path.islink(path) \
                and os.lstat(path).st_uid == os.getuid():
            yield path


def _tidy_abandoned(parent, name):
    """Finish what a run killed with SIGKILL left beside its result ``parent/NAME``: an earlier result it had moved
    aside (``.NAME.previous-PID-…``, see :func:`commit_output`) goes back in place if nothing took its place, else is
    removed; its staging folders (``.NAME.partial-PID-…``) are removed."""
    out_dir = os.path.join(parent, name)
    for previous in _abandoned(parent, name, "previous"):
        moved = os.path.join(previous, "result")
        if os.path.isdir(moved) and not os.path.lexists(out_dir):
            os.replace(moved, out_dir)  # killed between the two renames: the earlier result stays intact
        shutil.rmtree(previous, ignore_errors=True)
    for staging in _abandoned(parent, name, "partial"):
        shutil.rmtree(staging, ignore_errors=True)


def apply_umask(path, mode):
    """Give ``path`` (made private by mkdtemp or mkstemp) the permissions ``mode`` less the umask."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, mode & ~umask)


def _contents(folder):
    """Relative paths of the files and of the folders below ``folder`` (links count as files)."""
    files, folders = set(), set()
    for directory, subdirectories, names in os.walk(folder):
        relative = os.path.relpath(directory, folder)
        for name in names + [d for d in subdirectories if os.path.islink(os.path.join(directory, d))]:
            files.add(os.path.normpath(os.path.join(relative, name)))
        folders.update(os.path.normpath(os.path.join(relative, name)) for name in subdirectories
                       if not os.path.islink(os.path.join(directory, name)))
    return files, folders


def mark_result(folder, command):
    """Write the marker that lists every file now in ``folder`` (call it last)."""
    files, _ = _contents(folder)
    write_json(os.path.join(folder, MARKER), {"tool": "spiking-attn", "version": __version__, "command": command,
                                              "created": time.strftime("%Y-%m-%d %H:%M:%S"),
                                              "files": sorted(files)})


def foreign_entries(folder):
    """What in ``folder`` spiking-attn did not write, as relative paths (empty: safe to replace).

    A folder without a readable marker is foreign as a whole (all its entries are returned).
    """
    files, folders = _contents(folder)
    try:
        with open(os.path.join(folder, MARKER)) as handle:
            listed = set(json.load(handle)["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return sorted(files | folders)
    parents = {os.path.dirname(path) for path in listed}
    parents = {ancestor for path in parents for ancestor in _ancestors(path)}
    return sorted((files - listed - {MARKER}) | (folders - parents))


def _ancestors(path):
    while path:
        yield path
        path = os.path.dirname(path)


def _refuse_unless_replaceable(out_dir, overwrite):
    if not os.path.isdir(out_dir) or os.path.islink(out_dir):
        raise InputError(f"output directory {out_dir} is an existing file or link, not a folder")
    entries = os.listdir(out_dir)
    if not entries:
        return
    if not overwrite:
        raise InputError(f"output directory {out_dir} is not empty; choose another --out "
                         "(or --overwrite to replace an earlier spiking-attn result)")
    foreign = foreign_entries(out_dir)
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise InputError(f"output directory {out_dir} holds files spiking-attn did not write ({shown}); "
                         "spiking-attn replaces only an earlier result of its own; nothing was deleted")


def prepare_output(out_dir, overwrite=False):
    """Check that ``out_dir`` can be written and return a fresh staging folder beside it.

    Results are written to the staging folder and moved into place by :func:`commit_output`
    only when complete, so an interrupted run never leaves a folder that looks finished.

    Raises
    ------
    InputError
        If ``out_dir`` is a file, is not empty and not replaceable (see the module docstring),
        or cannot be written.
    """
    out_dir = os.path.abspath(out_dir)
    parent = os.path.dirname(out_dir)
    if os.path.isdir(parent):
        try:
            _tidy_abandoned(parent, os.path.basename(out_dir))  # first: it may put an earlier result back
        except OSError:
            pass  # a folder that cannot be tidied: the checks below say what is wrong with it
    if os.path.lexists(out_dir):
        _refuse_unless_replaceable(out_dir, overwrite)
    ancestor = parent
    while not os.path.exists(ancestor):
        ancestor = os.path.dirname(ancestor)
    if not os.path.isdir(ancestor):
        raise InputError(f"cannot write output directory {out_dir}: {ancestor} is a file, not a folder")
    try:
        os.makedirs(parent, exist_ok=True)
        return tempfile.mkdtemp(prefix=f".{os.path.basename(out_dir)}.partial-{os.getpid()}-", dir=parent)
    except OSError as error:
        raise InputError(f"cannot write output directory {out_dir}: {error.strerror}") from None


def commit_output(staging, out_dir, command, overwrite=False):
    """Mark the complete staging folder as a result and move it to ``out_dir``.

    ``out_dir`` is checked again (it may have changed while the run went on); an earlier result
    there is moved aside first and removed only once the new one is in place.
    """
    out_dir = os.path.abspath(out_dir)
    mark_result(staging, command)
    apply_umask(staging, 0o777)  # mkdtemp made it private
    previous = None
    if os.path.lexists(out_dir):
        _refuse_unless_replaceable(out_dir, overwrite)
        previous = tempfile.mkdtemp(prefix=f".{os.path.basename(out_dir)}.previous-{os.getpid()}-",
                                    dir=os.path.dirname(out_dir))
        os.replace(out_dir, os.path.join(previous, "result"))
    os.replace(staging, out_dir)
    if previous is not None:
        shutil.rmtree(previous)  # our own earlier result (checked above), moved aside by us


@contextlib.contextmanager
def result_folder(out_dir, command, overwrite=False):
    """Write a result: yields a staging folder, then marks it and moves it to ``out_dir``.

    If the block raises (an error, Ctrl-C), the staging folder is removed and ``out_dir`` is
    left as it was. ``overwrite`` allows replacing an earlier spiking-attn result (only that).
    """
    staging = prepare_output(out_dir, overwrite=overwrite)
    try:
        yield staging
        commit_output(staging, out_dir, command=command, overwrite=overwrite)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # our own staging folder: gone already unless the block failed


MERGED_STAGING = ".merged.partial-"  # the prefix of commit_files' staging folders


@contextlib.contextmanager
def commit_files(folder, last="summary.json"):
    """Write files into the existing folder ``folder`` (a sweep folder of ours): yields a staging folder inside it,
    then moves each file written there into ``folder`` (replacing an earlier one of the same name), ``last`` last,
    so that a reader who finds it finds the others complete. If the block raises, nothing is moved."""
    staging = tempfile.mkdtemp(prefix=MERGED_STAGING, dir=folder)
    try:
        yield staging
        names = sorted(os.listdir(staging), key=lambda name: name == last)
        for name in names:
            os.replace(os.path.join(staging, name), os.path.join(folder, name))
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # our own staging folder: empty unless the block failed


FOLDER_LOCK = ".spiking-attn.lock"  # the lock file of a folder a command writes over a long time (a sweep's)


@contextlib.contextmanager
def exclusive_folder(folder, what, remove_when_done=False):
    """Hold ``folder``'s lock (``fcntl.flock`` on its file :data:`FOLDER_LOCK`, made with the folder if need be)
    for the block; refuse with one line (InputError) while another process holds it. A folder made here (or, with
    ``remove_when_done``, any: a folder of spiking-attn's own) that holds nothing but the lock afterwards is
    removed."""
    made = remove_when_done or not os.path.lexists(folder)
    if os.path.islink(folder) or (os.path.lexists(folder) and not os.path.isdir(folder)):
        raise InputError(f"{what} {folder} is an existing file or link, not a folder")
    try:
        os.makedirs(folder, exist_ok=True)
        lock = open(os.path.join(folder, FOLDER_LOCK), "a+")
    except OSError as error:
        raise InputError(f"cannot write {what} {folder}: {error.strerror}") from None
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "?"
            raise InputError(f"{what} {folder} is in use by another spiking-attn command (process {holder}); "
                             "wait for it to finish, or choose another --out") from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        try:
            yield folder
        finally:
            if made and os.listdir(folder) == [FOLDER_LOCK]:
                os.remove(os.path.join(folder, FOLDER_LOCK))
                os.rmdir(folder)


def is_sweep_folder(folder):
    """Whether ``folder`` holds the marker of a sweep folder that spiking-attn wrote."""
    try:
        with open(os.path.join(folder, SWEEP_MARKER)) as stream:
            return json.load(stream).get("tool") == "spiking-attn"
    except (OSError, ValueError, AttributeError):
        return False
