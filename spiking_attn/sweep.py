"""Declarative sweeps: every combination of a grid of ``spiking-attn run`` options, run on Dask.

A sweep is described by a TOML file (or the same structure as a dict)::

    [run]                      # options every point shares
    tokens = 16
    duration = 1.0
    [grid]                     # options with lists of values: every combination is a point
    seed = [0, 1, 2]
    scale = [0.5, 1.0, 2.0]
    [report]                   # optional: what `spiking-attn report` plots
    metrics = ["row_tv_mean", "output_rel_error"]

A top-level ``command = "memory"`` sweeps ``spiking-attn memory`` instead (its options in [run] and [grid]).

Option names are those of ``spiking-attn run`` without the dashes (``key-tokens`` or
``key_tokens``); a flag (``causal``) takes true or false, ``astrocyte`` true/false or "on"/"off",
``input`` one .npz file (relative paths are taken from the config file's folder). Several grids
(``[[grid]]`` tables) add their points together, for combinations that are not a full product.

Each point runs as a ``spiking-attn run`` command line in a warm worker process (:mod:`spiking_attn.workers`:
brian2 stays imported between points, and a point that crashes ends only that process) held by a Dask
distributed worker: a local cluster of N single-threaded workers, or the workers of an existing scheduler.
Points of the same shape share one compiled binary through the build cache, whose lock serialises
concurrent builds.

The sweep folder ``DIR``::

    sweep.json             the marker: the config and every point's options (rewritten each time)
    .spiking-attn.lock     held while a sweep runs here: a second sweep on the folder refuses
    points/<key>/          a point's result folder (as `spiking-attn run --out` writes it)
    points/<key>.json      its record: status, one-line error, wall time, peak memory, worker
    runs.parquet           one row per point (see RUNS_COLUMNS)
    rows.parquet           one row per query row of every finished point

A point's key is a hash of its options, so rerunning the same command (or a grid with more values)
skips the points already finished; a killed sweep loses only the points in flight.
"""
import hashlib
import itertools
import json
import math
import os
import shutil
import sys
import time
from dataclasses import dataclass

import pandas as pd
import tomllib

from .arguments import memory_arguments, memory_parser, run_options, run_parser, run_problems
from .errors import InputError
from .experiment import RUN_OPTIONS
from .memory import OPTIONS as MEMORY_OPTIONS
from .output import FOLDER_LOCK, MERGED_STAGING, exclusive_folder, is_sweep_folder, write_json
from .output import SWEEP_MARKER as MARKER
from .problems import OPTIONS as PROBLEM_OPTIONS
from .version import __version__

TABLES = ("run", "grid", "report")
COMMANDS = ("run", "memory")  # what a sweep's points run: `spiking-attn run` (the default) or `memory`
# The table of each command's result folder that rows.parquet collects (`transformer`'s texts on Dask are points
# of a sweep too: spiking_attn.transformer).
ROWS_FILE = {"run": "rows.csv", "memory": "rows.csv", "transformer": "layers.csv"}
TABLE_FILES = ("runs.parquet", "rows.parquet")
# Options of `spiking-attn run` that the sweep sets itself.
MANAGED = {"out": "the sweep writes each point's folder itself",
           "overwrite": "the sweep replaces only its own points",
           "cache_dir": "give --cache-dir to `spiking-attn sweep`"}
# Columns of runs.parquet before the options and the flattened summary.json.
RUNS_COLUMNS = ("point", "status", "error", "point_seconds", "peak_memory_mb", "worker", "folder")
# What `spiking-attn report` plots unless [report] metrics says otherwise, per command.
DEFAULT_METRICS = {"run": ("row_tv_mean", "output_rel_error", "run_seconds"),
                   "memory": ("retrieval_accuracy", "rate_model_accuracy", "hopfield_accuracy")}


MAX_POINTS = 10_000  # a grid of more points is refused before anything is built (each point is checked first)
INPUT = "input"  # `run --input`: a sweep point takes one .npz file


def sweep_options(command="run"):
    """The options of ``spiking-attn COMMAND`` a sweep may set: name -> declaration (None for run's ``input``)."""
    if command == "memory":
        return {option.name: option for option in MEMORY_OPTIONS if option.name not in MANAGED}
    return {INPUT: None, **{option.name: option for option in (*PROBLEM_OPTIONS, *RUN_OPTIONS)
                            if option.name not in MANAGED}}


@dataclass(frozen=True)
class Point:
    """One combination of options.

    Attributes
    ----------
    options : dict
        Option name -> value, as in the config (``input`` made absolute).
    argv : tuple of str
        The same as ``spiking-attn COMMAND`` arguments.
    command : str
        What the point runs: ``run`` or ``memory``.
    """

    options: dict
    argv: tuple
    command: str = "run"

    @property
    def key(self):
        """A stable name of the point: a hash of its options."""
        text = json.dumps(self.options, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def label(self):
        return " ".join(f"{name}={value}" for name, value in self.options.items())


@dataclass(frozen=True)
class Sweep:
    """A checked sweep config: its points in grid order and the report settings."""

    config: dict
    points: tuple
    grid_options: tuple
    metrics: tuple
    command: str = "run"


def _table(config, name, source):
    table = config.get(name, {})
    if not isinstance(table, dict):
        raise InputError(f"{source}: [{name}] must be a table of options")
    return table


def _grids(config, source):
    grids = config.get("grid")
    if grids is None:
        raise InputError(f"{source}: no [grid] table; a sweep needs at least one option with a list of values")
    grids = grids if isinstance(grids, list) else [grids]
    if not grids or not all(isinstance(grid, dict) for grid in grids):
        raise InputError(f"{source}: [grid] must be a table (or [[grid]] tables) of options with lists of values")
    for grid in grids:
        if not grid:
            raise InputError(f"{source}: the grid is empty; give at least one option with a list of values")
        for name, values in grid.items():
            if not isinstance(values, list):
                raise InputError(f"{source}: grid option {name!r} must be a list of values, got {values!r}")
            if not values:
                raise InputError(f"{source}: grid option {name!r} is an empty list")
    return grids


def _option_name(name, options, source, table, command="run"):
    canonical = name.replace("-", "_")
    if canonical in MANAGED:
        raise InputError(f"{source}: option {name!r} in [{table}] cannot be swept: {MANAGED[canonical]}")
    if canonical not in options:
        import difflib

        close = difflib.get_close_matches(canonical, list(options), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InputError(f"{source}: unknown option {name!r} in [{table}]{hint}; the options are those of "
                         f"`spiking-attn {command}`")
    return canonical


def _input_file(value, base, source):
    """A point's input: one .npz file (relative paths from ``base``), made absolute."""
    if not isinstance(value, str):
        raise InputError(f"{source}: option 'input' takes one .npz file, got {value!r}")
    value = os.path.normpath(os.path.join(base, os.path.expanduser(value)))
    if os.path.isdir(value):
        raise InputError(f"{source}: input {value} is a folder; a sweep point takes one .npz file "
                         "(list the files in the grid)")
    return value, ["--input", value]


def _value(name, value, option, base, source):
    """A config value as it is recorded, and as ``spiking-attn run`` arguments."""
    if option is None:
        return _input_file(value, base, source)
    if option.kind == "switch" and isinstance(value, bool):
        value = "on" if value else "off"
    if option.kind == "flag":  # such as --causal
        if not isinstance(value, bool):
            raise InputError(f"{source}: option {name!r} takes true or false, got {value!r}")
        return value, option.argv(value)
    if isinstance(value, (bool, list, dict)) or value is None:
        raise InputError(f"{source}: bad value {value!r} for option {name!r}; give a number or a string")
    value = _by_value(value, option)
    return value, option.argv(value)


def _by_value(value, option):
    """A number option's value as the number it is (1, 1.0 and "1.0" are one point with one key); other values as
    given (what the parser would refuse is refused by the point's check)."""
    try:
        if option.kind in ("number", "positive", "seconds"):
            return float(value)
        if option.kind == "whole" and float(value) == int(float(value)):
            return int(float(value))
    except (TypeError, ValueError, OverflowError):
        pass
    return value


def _point(values, options, base, source, command):
    recorded, argv = {}, []
    for name, value in values.items():
        recorded[name], arguments = _value(name, value, options[name], base, source)
        argv += arguments
    if command == "run" and "no_figure" not in values:
        argv.append("--no-figure")  # a point draws no attention.png unless the config asks (no_figure = false)
    return Point(options=recorded, argv=tuple(argv), command=command)


def _check_point(point, parser, source):
    """Parse and validate a point exactly as ``spiking-attn run`` (or ``memory``) would, before anything runs."""
    try:
        args = parser.parse_args(point.argv)
        if point.command == "memory":
            memory_arguments(args)
        else:
            run_problems(args, run_options(args))
    except InputError as error:
        raise InputError(f"{source}: point {point.label()}: {error}") from None


def _read_config(config, base):
    """The config as a dict, the name messages give it and the folder of its relative paths."""
    source = "sweep config"
    if isinstance(config, (str, os.PathLike)):
        source, base = str(config), os.path.dirname(os.path.abspath(config))
        try:
            with open(config, "rb") as stream:
                config = tomllib.load(stream)
        except OSError as error:
            raise InputError(f"{source}: cannot read the sweep config ({error.strerror})") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise InputError(f"{source}: not valid TOML ({error})") from None
    if not isinstance(config, dict):
        raise InputError(f"{source}: a sweep config is a table with [run] and [grid]")
    unknown = sorted(set(config) - set(TABLES) - {"command"})
    if unknown:
        raise InputError(f"{source}: unknown table(s) {', '.join(unknown)}; a sweep config has [run], [grid] "
                         "and optionally [report] and command")
    if config.get("command", "run") not in COMMANDS:
        raise InputError(f"{source}: command must be one of {', '.join(COMMANDS)}, got {config['command']!r}")
    return config, source, base


def _points(config, base, source):
    """Every point of the config's grids in grid order (each once), and the grid options' names."""
    command = config.get("command", "run")
    options = sweep_options(command)
    fixed = {_option_name(name, options, source, "run", command): value
             for name, value in _table(config, "run", source).items()}
    grids, names = [], []
    for grid in _grids(config, source):
        grid = {_option_name(name, options, source, "grid", command): values for name, values in grid.items()}
        both = sorted(set(grid) & set(fixed))
        if both:
            raise InputError(f"{source}: option(s) {', '.join(both)} are in both [run] and [grid]")
        grids.append(grid)
        names += [name for name in grid if name not in names]
    count = sum(math.prod(len(values) for values in grid.values()) for grid in grids)
    if count > MAX_POINTS:
        raise InputError(f"{source}: the grid has {count:,} points, more than {MAX_POINTS:,}; split the sweep")
    points, seen = [], set()
    for grid in grids:
        for values in itertools.product(*grid.values()):
            point = _point({**fixed, **dict(zip(grid, values))}, options, base, source, command)
            if point.key not in seen:
                seen.add(point.key)
                points.append(point)
    return points, names


def load_config(config, base="."):
    """Read and check a sweep config.

    Parameters
    ----------
    config : str or dict
        A TOML file, or its contents as a dict (tables ``run``, ``grid``, optional ``report``).
    base : str
        Folder that relative input paths of a dict config are taken from (a file's own folder
        otherwise).

    Returns
    -------
    Sweep

    Raises
    ------
    InputError
        For an unreadable file, an unknown table or option, an empty grid, or a point that
        ``spiking-attn run`` would refuse (every point is checked).
    """
    config, source, base = _read_config(config, base)
    points, names = _points(config, base, source)
    command = points[0].command
    parser = memory_parser() if command == "memory" else run_parser()
    for point in points:
        _check_point(point, parser, source)
    metrics = _table(config, "report", source).get("metrics", list(DEFAULT_METRICS[command]))
    if not isinstance(metrics, list) or not metrics or not all(isinstance(name, str) for name in metrics):
        raise InputError(f"{source}: [report] metrics must be a list of column names of runs.parquet")
    return Sweep(config=config, points=tuple(points), grid_options=tuple(names), metrics=tuple(metrics),
                 command=command)


# --- running -----------------------------------------------------------------------------------------


def point_folder(out_dir, point):
    return os.path.join(out_dir, "points", point.key)


def _record_path(out_dir, point):
    return os.path.join(out_dir, "points", point.key + ".json")


def read_record(out_dir, point):
    """The point's record, or None if it has not finished (a record of a finished point whose
    result folder is missing counts as not finished)."""
    try:
        with open(_record_path(out_dir, point)) as stream:
            record = json.load(stream)
    except (OSError, ValueError):
        return None
    if record.get("status") == "done" and not os.path.isfile(os.path.join(point_folder(out_dir, point),
                                                                          "summary.json")):
        return None
    return record


def _one_line_error(stderr, returncode):
    """The error a failed ``spiking-attn run`` reported, as one line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("spiking-attn: error: "):
            return line[len("spiking-attn: error: "):]
    if returncode < 0:
        return f"killed by signal {-returncode}" + (" (out of memory?)" if returncode == -9 else "")
    return lines[-1] if lines else f"exit code {returncode}"


def point_record(error, point_seconds=None, peak_memory_mb=None, worker=None):
    """A point's record: done (error None) or failed with the one-line ``error``."""
    return {"status": "done" if error is None else "failed", "error": error, "point_seconds": point_seconds,
            "peak_memory_mb": peak_memory_mb, "worker": worker}


def run_point(argv, folder, cache_dir, record_path, command="run"):
    """Run one point as ``spiking-attn run`` (or ``memory``) in this thread's warm worker (on a Dask worker;
    :mod:`spiking_attn.workers`) and write its record.

    Returns
    -------
    dict
        The record: status ('done' or 'failed'), error, point_seconds, peak_memory_mb (largest resident set of
        the worker or of a simulation binary it ran), worker (host name).
    """
    import socket

    from .cache import private_temporary
    from .workers import warm_worker

    start = time.perf_counter()
    output = private_temporary("point", folder=False)
    try:
        with warm_worker() as worker:
            returncode, peak_memory_mb = worker.run(
                [command, *argv, "--out", folder, "--overwrite", "--cache-dir", cache_dir], output)
        with open(output, errors="replace") as stream:
            text = stream.read()
    finally:
        os.remove(output)
    record = point_record(None if returncode == 0 else _one_line_error(text, returncode),
                          point_seconds=time.perf_counter() - start, peak_memory_mb=peak_memory_mb,
                          worker=socket.gethostname())
    write_json(record_path, record)
    return record


def check_sweep_folder(out_dir):
    """Refuse (InputError) an ``out_dir`` that is a file, or a non-empty folder that is not a sweep's."""
    if os.path.lexists(out_dir):
        if not os.path.isdir(out_dir) or os.path.islink(out_dir):
            raise InputError(f"sweep folder {out_dir} is an existing file or link, not a folder")
        if set(os.listdir(out_dir)) - {FOLDER_LOCK} and not is_sweep_folder(out_dir):
            raise InputError(f"sweep folder {out_dir} is not empty and holds no {MARKER}; choose another --out "
                             "(a sweep reopens only its own folder)")


def prepare_sweep_folder(out_dir, sweep):
    """Make (or reopen) the sweep folder: refuse a folder that is not a sweep's, remove staging
    folders left by a killed run, write the marker."""
    out_dir = os.path.abspath(out_dir)
    check_sweep_folder(out_dir)
    points = os.path.join(out_dir, "points")
    try:
        os.makedirs(points, exist_ok=True)
    except OSError as error:
        raise InputError(f"cannot write sweep folder {out_dir}: {error.strerror}") from None
    _remove_points_staging(out_dir)
    for name in os.listdir(out_dir):  # beside the user's own files: only the names the sweep stages there
        if name.startswith(MERGED_STAGING) or name in {f"{table}.partial" for table in (*TABLE_FILES, MARKER)}:
            _remove_staged(os.path.join(out_dir, name))
    write_json(os.path.join(out_dir, MARKER), {
        "tool": "spiking-attn", "version": __version__, "config": sweep.config,
        "grid_options": list(sweep.grid_options), "metrics": list(sweep.metrics),
        "points": [{"point": point.key, "options": point.options} for point in sweep.points]})
    return out_dir


def _remove_points_staging(out_dir):
    """Remove the staging that runs of points left in points/ (which holds only what the sweep writes): a killed
    sweep's, or that of a point whose Dask worker was killed and which then ran again. Call it while no point
    runs."""
    points = os.path.join(out_dir, "points")
    for name in os.listdir(points):
        if ".partial-" in name or ".previous-" in name or name.endswith(".partial"):
            _remove_staged(os.path.join(points, name))


def _remove_staged(path):
    """Remove a staging file or folder the sweep left (never through a link)."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.remove(path)


def _duration(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


class Progress:
    """One line: points done / total, failures, running, estimated time left (rewritten in place on a
    terminal, one line per change otherwise)."""

    def __init__(self, total, skipped, stream=None):
        stream = stream or sys.stderr
        self.total, self.done, self.failed, self.slots = total, skipped, 0, 0
        self.finished_here, self.start, self.stream = 0, time.perf_counter(), stream
        self.terminal = stream.isatty()

    def update(self, record):
        self.done += 1
        self.finished_here += 1
        self.failed += record["status"] == "failed"
        self.show()

    def show(self):
        left = self.total - self.done
        elapsed = time.perf_counter() - self.start
        estimate = f", about {_duration(elapsed / self.finished_here * left)} left" \
            if self.finished_here and left else ""
        line = (f"[spiking-attn] sweep: {self.done}/{self.total} points done, {self.failed} failed, "
                f"{min(self.slots, left)} running{estimate}")
        end = "" if self.terminal and left else "\n"
        print(("\r\033[K" if self.terminal else "") + line, end=end, file=self.stream, flush=True)


def _client(workers, scheduler):
    """A Dask client: of the scheduler at ``scheduler``, or of a local cluster of ``workers``
    single-threaded worker processes."""
    import logging

    from distributed import Client

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, ValueError, TypeError) as error:
            reason = str(error).splitlines()[0] if str(error) else error.__class__.__name__
            raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {reason}") from None
        try:
            client.wait_for_workers(1, timeout=30)
        except (TimeoutError, OSError):
            client.close()
            raise InputError(f"the Dask scheduler at {scheduler} has no workers (waited 30 s)") from None
        return client
    # The client owns this cluster: closing the client stops its workers. They are threads of this process: each
    # hands its points to a warm worker process of its own (spiking_attn.workers), which does the work and whose
    # crash ends only that process, so worker processes of Dask's own would only add their start-up.
    return Client(n_workers=workers, threads_per_worker=1, processes=False, dashboard_address=None,
                  silence_logs=logging.ERROR)


def _check_workers_see(client, *folders):
    """Refuse a cluster whose workers do not see the sweep folder and the build cache."""
    for folder in folders:
        seen = client.run(os.path.isdir, folder)
        blind = [worker for worker, visible in seen.items() if not visible]
        if blind:
            raise InputError(f"worker {blind[0]} cannot see {folder}; the sweep folder and --cache-dir must be on "
                             "a file system every worker shares")


def execute(sweep, out_dir, workers=None, scheduler=None, cache_dir=None, retry_failed=False, stream=None):
    """Run every point of ``sweep`` not yet finished in ``out_dir`` and write the tables.

    Parameters
    ----------
    sweep : Sweep
        From :func:`load_config`.
    out_dir : str
        The sweep folder (made, or reopened to resume).
    workers : int, optional
        Workers of the local cluster (default: the number of cores). Not with ``scheduler``.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:port``).
    cache_dir : str, optional
        Build cache shared by the points (default $SPIKING_ATTN_CACHE or ~/.cache/spiking_attn).
    retry_failed : bool
        Run failed points again (by default a failure is final, like a success).
    stream : file, optional
        Receives the progress line (default standard error).

    Returns
    -------
    pandas.DataFrame
        runs.parquet's table.
    """
    from .cache import cache_root, check_usable

    if workers is not None and scheduler is not None:
        raise InputError("give workers (a local cluster) or scheduler (an existing one), not both")
    cache = os.path.abspath(cache_root(cache_dir))
    check_usable(cache)
    out_dir = os.path.abspath(out_dir)
    check_sweep_folder(out_dir)
    with exclusive_folder(out_dir, "sweep folder"):  # a second sweep on the folder refuses: no point runs twice
        return _execute(sweep, out_dir, workers, scheduler, cache, retry_failed, stream)


def _execute(sweep, out_dir, workers, scheduler, cache, retry_failed, stream):
    todo = [point for point in sweep.points
            if (record := read_record(out_dir, point)) is None or (retry_failed and record["status"] == "failed")]
    progress = Progress(len(sweep.points), len(sweep.points) - len(todo), stream)
    if todo and scheduler is None:
        from .workers import prewarm

        prewarm(workers or os.cpu_count() or 1)  # the local cluster's threads hand their points to these
    client = _client(workers or os.cpu_count() or 1, scheduler) if todo else None  # before anything is written
    try:
        prepare_sweep_folder(out_dir, sweep)
        try:
            if client is None:
                progress.show()
            else:
                _run_points(client, todo, out_dir, cache, progress, external=scheduler is not None)
                _remove_points_staging(out_dir)
        finally:
            runs = write_tables(sweep, out_dir)
    finally:
        if client is not None:
            client.close()
    return runs


def _run_points(client, points, out_dir, cache, progress, external):
    from distributed import as_completed

    from .workers import prewarm

    if external:
        client.run(prewarm)  # each worker process's warm worker imports while the points are handed out
    _check_workers_see(client, os.path.join(out_dir, "points"), cache)
    futures = {client.submit(run_point, point.argv, point_folder(out_dir, point), cache, _record_path(out_dir, point),
                             point.command, key=f"point-{point.key}", pure=False): point
               for point in points}
    progress.slots = sum(client.nthreads().values())
    progress.show()
    for future in as_completed(futures):
        try:
            record = future.result()
        except Exception as error:  # the worker died (a point that kills it, a lost node)
            record = point_record(f"{error.__class__.__name__}: {error}".splitlines()[0])
            write_json(_record_path(out_dir, futures[future]), record)
        progress.update(record)


# --- tables ------------------------------------------------------------------------------------------


def flatten(summary, prefix=""):
    """summary.json's scalars, nested dicts joined with dots (``neurons.score``); lists dropped."""
    flat = {}
    for name, value in summary.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{name}."))
        elif not isinstance(value, list):
            flat[prefix + name] = value
    return flat


def _point_row(out_dir, point):
    record = read_record(out_dir, point) or {"status": "pending"}
    row = {**{column: record.get(column) for column in RUNS_COLUMNS}, "point": point.key, **point.options}
    if record["status"] == "done":
        folder = point_folder(out_dir, point)
        row["folder"] = os.path.relpath(folder, out_dir)
        with open(os.path.join(folder, "summary.json")) as stream:
            summary = flatten(json.load(stream))
        row.update({name: value for name, value in summary.items() if name not in row})
    return row


def _first(table, columns):
    """``table`` with ``columns`` first, the others after them in their order."""
    return table[list(columns) + [column for column in table.columns if column not in columns]]


def write_tables(sweep, out_dir):
    """Write runs.parquet (every point, finished or not) and rows.parquet (the query rows of the
    finished points, with the point's options); returns the runs table."""
    rows = [_point_row(out_dir, point) for point in sweep.points]
    options = list(dict.fromkeys(name for point in sweep.points for name in point.options))
    runs = _first(pd.DataFrame(rows), [*RUNS_COLUMNS, *options])
    per_row = []
    for row in rows:
        if row["status"] == "done":
            table = pd.read_csv(os.path.join(out_dir, row["folder"], ROWS_FILE[sweep.command]))
            per_row.append(table.assign(point=row["point"], **{name: row.get(name) for name in options}))
    rows_table = pd.concat(per_row, ignore_index=True) if per_row else pd.DataFrame(columns=["point", *options])
    runs_file, rows_file = (os.path.join(out_dir, name) for name in TABLE_FILES)
    _write_parquet(runs, runs_file)
    _write_parquet(_first(rows_table, ["point", *options]), rows_file)
    return runs


def _write_parquet(table, path):
    temporary = path + ".partial"
    table.to_parquet(temporary, index=False)
    os.replace(temporary, path)

