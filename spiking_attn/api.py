"""The Python API, for notebooks and scripts: a problem from arrays, a Problem, or a sweep from a dict,
without the command line.

    import spiking_attn as sa

    result = sa.run_problem(q, k, v, duration=1.0)          # arrays (T x D, or H x T x D) in
    result.table                                    # metrics as a DataFrame
    result.attention, result.exact.attention        # decoded and exact arrays

    runs = sa.run_sweep({"run": {"tokens": 8}, "grid": {"seed": [0, 1], "scale": [1, 2]}}, "results/my-sweep")

The keyword options are those of ``spiking-attn run``, declared once
(:data:`spiking_attn.experiment.RUN_OPTIONS`); the docstrings below list them. Errors in the input
raise :class:`spiking_attn.errors.InputError` with the same one-line message the command line prints.
"""
from .arguments import Parser, add_run_arguments, circuit_defaults, run_options, run_problems
from .circuits import circuit_kind
from .devices import stderr_progress
from .errors import InputError
from .experiment import RUN_OPTIONS, resolve_options, run_experiment
from .figures import check_figure_path, save_figure
from .problems import validate
from .sweep import execute, load_config


def _options_doc():
    """The keyword options, one entry each, from their declarations (with the circuits' own defaults)."""
    entries = [(option, option.help_text(circuit_defaults(option.name))) for option in RUN_OPTIONS]
    return "\n".join(f"        {option.name} : {option.kind}\n            {text}." for option, text in entries)


def simulate_problem(problem, parameters=None, progress=stderr_progress, **options):
    """Simulate a circuit on a :class:`~spiking_attn.problems.Problem` and compare it with exact softmax.

    Parameters
    ----------
    problem : Problem
        From :func:`spiking_attn.problems.random_problem`, ``load_problem`` or ``validate``.
    parameters : HeadParameters or FeatureParameters, optional
        The circuit's parameters (default: its defaults).
    progress : callable
        Receives progress lines and warnings (default: standard error).
    **options
        The options of ``spiking-attn run`` (None or absent: the default):

{options}

    Returns
    -------
    spiking_attn.experiment.Result
        ``.table`` (metrics DataFrame), ``.rows`` (per-row DataFrame), ``.attention`` and
        ``.output`` (decoded), ``.exact`` (exact softmax), ``.summary`` (as in summary.json).
    """
    return run_experiment(problem, resolve_options(warn=progress, **options), parameters, progress=progress)


def run_problem(q, k, v, scale=1.0, name="arrays", parameters=None, progress=stderr_progress, **options):
    """Simulate a circuit on arrays and compare it with exact softmax attention.

    Parameters
    ----------
    q, k, v : array_like
        Queries (T_q x D), keys (T_k x D) and values (T_k x Dv), or H heads of them (heads first).
    scale : float
        Multiply the queries by ``scale`` (every score scales by it).
    name : str
        Name of the problem in messages and the summary.
    parameters, progress, **options
        As for :func:`simulate_problem`.

    Returns
    -------
    spiking_attn.experiment.Result
    """
    problem = validate(q, k, v, name=name)
    return simulate_problem(problem.scaled(scale) if scale != 1 else problem, parameters, progress, **options)


def run_sweep(config, out, workers=None, scheduler=None, cache_dir=None, retry_failed=False):
    """Run a sweep (as ``spiking-attn sweep``) and return runs.parquet's table.

    Parameters
    ----------
    config : dict or str
        ``{"run": {...}, "grid": {...}}`` with the TOML file's structure, or the path of the file.
        Relative input paths of a dict are taken from the working folder.
    out : str
        Sweep folder; rerunning with the same folder resumes.
    workers, scheduler, cache_dir, retry_failed
        As the command's options (:func:`spiking_attn.sweep.execute`).

    Returns
    -------
    pandas.DataFrame
        One row per point (``rows.parquet`` beside it has one row per query row).
    """
    return execute(load_config(config), out, workers=workers, scheduler=scheduler, cache_dir=cache_dir,
                   retry_failed=retry_failed)


# --- the scripts' front end (networks/, analysis/) ------------------------------------------------


def script_parser(description, **defaults):
    """A parser with the flags of ``spiking-attn run`` (the random problem's, ``--input`` and every run
    option), for the scripts in ``networks/`` and ``analysis/``, which add their own; ``defaults``
    replace the run's defaults (``network=``, ``tokens=``...)."""
    parser = add_run_arguments(Parser(description=description), output=False)
    parser.set_defaults(**defaults)
    return parser


def script_options(args, progress=stderr_progress, **changes):
    """The checked run options of parsed :func:`script_parser` arguments, with ``changes``
    (option=value) applied (a study runs several values of one option)."""
    return run_options(args, warn=progress, **changes)


def script_problem(args, options):
    """The one problem of parsed :func:`script_parser` arguments: the --input file or the random problem."""
    problem, *others = run_problems(args, options)
    if others:
        raise InputError("a script runs one problem; give one --input file")
    return problem


def save_result_figure(result, path):
    """Save the figure of ``result``'s circuit (as ``attention.png``) to ``path``, replacing only a
    figure spiking-attn saved."""
    save_figure(circuit_kind(result.summary["network"]).figure(result), path)


def run_network_script(description, figure, **defaults):
    """The body of a script in ``networks/``: parse the run flags and ``--figure``, run the problem,
    print the metrics and save the circuit's figure (none with ``--no-figure``)."""
    parser = script_parser(description, **defaults)
    parser.add_argument("--figure", default=figure, help=f"the figure's file (default {figure})")
    args = parser.parse_args()
    check_figure_path(args.figure)  # before the simulation: a user's file is never overwritten
    options = script_options(args)
    result = run_experiment(script_problem(args, options), options)
    print(result.table.to_string(index=False))
    if not options.no_figure:
        save_result_figure(result, args.figure)
    s = result.summary
    print(f"figure: {'none' if options.no_figure else args.figure}; simulated {s['simulated_seconds']:g} s; build "
          f"{s['build_seconds']:.1f} s, run {s['run_seconds']:.1f} s")


simulate_problem.__doc__ = simulate_problem.__doc__.format(options=_options_doc())
