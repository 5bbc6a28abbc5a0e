"""The Python API, for notebooks: one problem from arrays, or a sweep from a dict, without the CLI.

    import spiking_attn as sa

    result = sa.run_problem(q, k, v, duration=1.0)          # arrays (T x D, or H x T x D) in
    result.table                                    # metrics as a DataFrame
    result.attention, result.exact.attention        # decoded and exact arrays

    runs = sa.run_sweep({"run": {"tokens": 8}, "grid": {"seed": [0, 1], "scale": [1, 2]}}, "results/my-sweep")

Errors in the input raise :class:`spiking_attn.errors.InputError` with the same one-line message the
command line prints.
"""


def run_problem(q, k, v, scale=1.0, name="arrays", **options):
    """Simulate the spiking head on arrays and compare it with exact softmax attention.

    Parameters
    ----------
    q, k, v : array_like
        Queries (T_q x D), keys (T_k x D) and values (T_k x Dv), or H heads of them (heads first).
    scale : float
        Multiply the queries by ``scale`` (every score scales by it).
    name : str
        Name of the problem in messages and the summary.
    **options
        Options of :func:`spiking_attn.experiment.run_experiment`: network, duration, target,
        astrocyte, seed, features, feature_map, write, normaliser, cache_dir, threads, causal.

    Returns
    -------
    spiking_attn.experiment.Result
        ``.table`` (metrics DataFrame), ``.rows`` (per-row DataFrame), ``.attention`` and
        ``.output`` (decoded), ``.exact`` (exact softmax), ``.summary`` (as in summary.json).
    """
    from .experiment import run_experiment
    from .problems import validate

    problem = validate(q, k, v, name=name)
    return run_experiment(problem.scaled(scale) if scale != 1 else problem, **options)


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
    from .sweep import execute, load_config

    return execute(load_config(config), out, workers=workers, scheduler=scheduler, cache_dir=cache_dir,
                   retry_failed=retry_failed)
