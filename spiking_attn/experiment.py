"""One experiment: simulate a head on a problem, decode it, compare with exact softmax, save it."""
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, replace

import brian2
import numpy as np

from .circuits import FeatureParameters, HeadParameters, build_random_features, build_softmax_head
from .decoding import decode, spike_counts
from .devices import simulate, stderr_progress
from .errors import InputError
from .features import FEATURE_MAPS
from .metrics import attention_metrics, metrics_table, rate_model_metrics, row_table
from .reference import softmax_attention


@dataclass
class Result:
    """Everything one run produced.

    Attributes
    ----------
    problem : Problem
    exact : Attention
    decoded : Decoded
    recording : Recording
    metrics : dict
        Scalar metrics (:func:`spiking_attn.metrics.attention_metrics`).
    summary : dict
        Metrics, timings, settings and sizes, as written to ``summary.json``.
    rate_model : RateModel or None
        The random-feature network's rate model (None for the softmax head).
    """

    problem: object
    exact: object
    decoded: object
    recording: object
    metrics: dict
    summary: dict
    rate_model: object = None


NETWORKS = ("softmax", "random-features")


def busiest_rate(recording, population):
    """Largest firing rate of one neuron of ``population`` in any read window (Hz)."""
    rates = [spike_counts(*recording.spikes[population], recording.sizes[population], start, stop).max()
             / (stop - start) for start, stop in recording.windows]
    return float(max(rates))


def _builder(problem, network, duration, astrocyte, seed, parameters, features, feature_map, write, normaliser):
    """The circuit-building callable for :func:`spiking_attn.devices.simulate`, and its dt."""
    if duration is not None and (not np.isfinite(duration) or duration <= 0):
        raise InputError(f"duration must be a positive number of seconds, got {duration}")
    if network == "softmax":
        parameters = parameters or HeadParameters()
        duration = 1.5 if duration is None else duration
        return (lambda: build_softmax_head(problem, parameters, astrocyte=astrocyte, seed=seed, duration=duration),
                parameters.dt)
    if network == "random-features":
        parameters = parameters or FeatureParameters()
        if duration is not None:
            try:
                parameters = replace(parameters, read_window=duration)
            except ValueError as error:
                raise InputError(f"--duration: {error}") from None
        if feature_map not in FEATURE_MAPS:
            raise InputError(f"unknown feature map {feature_map!r}; choose one of {', '.join(FEATURE_MAPS)}")
        if int(features) != features or features < 1:
            raise InputError(f"the number of features must be a whole number >= 1, got {features}")
        return (lambda: build_random_features(problem, features, feature_map, write=write, normaliser=normaliser,
                                              astrocyte=astrocyte, parameters=parameters, seed=seed),
                parameters.dt)
    raise InputError(f"unknown network {network!r}; choose one of {', '.join(NETWORKS)}")


def run_experiment(problem, network="softmax", duration=None, target="cpp_standalone", astrocyte=True, seed=0,
                   features=1000, feature_map="performer", write="plastic", normaliser="astrocyte",
                   parameters=None, progress=stderr_progress, cache_dir=None, threads=1):
    """Simulate a network on ``problem`` and measure it against exact softmax attention.

    Parameters
    ----------
    problem : Problem
    network : {'softmax', 'random-features'}
        The exact-softmax head (science.md §4) or the paper's random-feature network (§3).
    duration : float, optional
        Read (counting) window in seconds: for the whole head (default 1.5 s, after 0.5 s of
        settling), or per query for the random-feature network (default 0.4 s).
    target : str
        Brian2 target: 'cpp_standalone', 'cython' or 'numpy'.
    astrocyte : bool
        The division on (normalised) or blocked (ablation).
    seed : int
        Seed of the initial phases (and of W, b for random features).
    features, feature_map, write, normaliser
        Random-feature network only: m, the map, 'plastic' or 'direct' writing, and
        'astrocyte' or 'neurons' as the normaliser.
    parameters : HeadParameters or FeatureParameters, optional
        Defaults to the network's default parameters.
    progress : callable
        Receives progress lines.
    cache_dir : str, optional
        Build cache for the standalone targets (see :mod:`spiking_attn.cache`).
    threads : int
        OpenMP threads of the cpp_standalone binary.

    Returns
    -------
    Result
    """
    build, dt = _builder(problem, network, duration, astrocyte, seed, parameters, features, feature_map,
                         write, normaliser)
    exact = softmax_attention(problem.q, problem.k, problem.v)
    circuit, recording, timings = simulate(build, target=target, dt=dt, progress=progress, cache_dir=cache_dir,
                                           threads=threads)
    decoded = decode(recording)
    metrics = attention_metrics(exact, decoded)
    if network == "random-features":
        metrics.update(rate_model_metrics(exact, decoded, circuit.rate_model))
    population = circuit.encoding_population
    rate_max = busiest_rate(recording, population)
    saturation_rate = 0.5 / dt
    if rate_max > saturation_rate:
        progress(f"warning: {population} neurons fired at up to {rate_max:.0f} Hz, above 1/(2 dt) = "
                 f"{saturation_rate:.0f} Hz: the largest values saturate and the attention is biased")
    summary = {
        **metrics,
        **circuit.summary(),
        "build_seconds": timings.build_seconds,
        "run_seconds": timings.run_seconds,
        "reused_build": timings.reused_build,
        "threads": threads,
        "target": target,
        "astrocyte": astrocyte,
        "problem": problem.name,
        "tokens": problem.tokens,
        "dim": problem.dim,
        "value_dim": problem.value_dim,
        "seed": seed,
        f"{population}_rate_max_hz": rate_max,
        "saturated": rate_max > saturation_rate,
        "neurons": {name: size for name, size in recording.sizes.items()},
        "synapses": recording.synapses,
        "spikes": {name: len(times) for name, (_, times) in recording.spikes.items()},
        "brian2_version": brian2.__version__,
    }
    return Result(problem=problem, exact=exact, decoded=decoded, recording=recording, metrics=metrics,
                  summary=summary, rate_model=getattr(circuit, "rate_model", None))


def prepare_output(out_dir, overwrite=False):
    """Check that ``out_dir`` can be written and return a fresh staging folder beside it.

    Results are written to the staging folder and moved into place by :func:`commit_output`
    only when complete, so an interrupted run never leaves a folder that looks finished.

    Raises
    ------
    InputError
        If ``out_dir`` is a file, holds files and ``overwrite`` is False, or cannot be written.
    """
    out_dir = os.path.abspath(out_dir)
    if os.path.exists(out_dir):
        if not os.path.isdir(out_dir):
            raise InputError(f"output directory {out_dir} is an existing file")
        if os.listdir(out_dir) and not overwrite:
            raise InputError(f"output directory {out_dir} is not empty; choose another --out or pass --overwrite")
    parent = os.path.dirname(out_dir)
    ancestor = parent
    while not os.path.exists(ancestor):
        ancestor = os.path.dirname(ancestor)
    if not os.path.isdir(ancestor):
        raise InputError(f"cannot write output directory {out_dir}: {ancestor} is a file, not a folder")
    try:
        os.makedirs(parent, exist_ok=True)
        return tempfile.mkdtemp(prefix=f".{os.path.basename(out_dir)}.partial-", dir=parent)
    except OSError as error:
        raise InputError(f"cannot write output directory {out_dir}: {error.strerror}") from None


def commit_output(staging, out_dir):
    """Move the complete staging folder to ``out_dir`` (replacing what ``prepare_output`` allowed)."""
    out_dir = os.path.abspath(out_dir)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp made it private
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.replace(staging, out_dir)


def write_result(result, folder):
    """Write ``summary.json``, ``metrics.csv``, ``rows.csv``, ``attention.npz`` and ``attention.png``."""
    from .figures import attention_figure, feature_figure

    with open(os.path.join(folder, "summary.json"), "w") as handle:
        json.dump(result.summary, handle, indent=2)
    metrics_table(result.metrics).to_csv(os.path.join(folder, "metrics.csv"), index=False)
    row_table(result.exact, result.decoded).to_csv(os.path.join(folder, "rows.csv"), index=False)
    p, e, d = result.problem, result.exact, result.decoded
    arrays = dict(q=p.q, k=p.k, v=p.v, scores=e.scores, attention=e.attention, normaliser=e.normaliser,
                  output=e.output, attention_decoded=d.attention, normaliser_decoded=d.normaliser,
                  output_decoded=d.output)
    if result.rate_model is not None:
        rm = result.rate_model
        arrays.update(attention_rate_model=rm.attention, astrocyte_rate_model=rm.astrocyte,
                      output_rate_model=rm.output)
    np.savez(os.path.join(folder, "attention.npz"), **arrays)
    figure = feature_figure if result.rate_model is not None else attention_figure
    figure(result).savefig(os.path.join(folder, "attention.png"), dpi=120)
