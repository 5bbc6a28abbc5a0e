"""One experiment: simulate a head on a problem, decode it, compare with exact softmax, save it."""
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass

import brian2
import numpy as np

from .circuits import HeadParameters
from .decoding import decode, spike_counts
from .devices import run_head, stderr_progress
from .errors import InputError
from .metrics import attention_metrics, metrics_table, row_table
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
    """

    problem: object
    exact: object
    decoded: object
    recording: object
    metrics: dict
    summary: dict


def score_rate_max(recording):
    """Largest firing rate of one score neuron in the read window (Hz)."""
    start, stop = recording.windows[0]
    counts = spike_counts(*recording.spikes["score"], recording.sizes["score"], start, stop)
    return float(counts.max() / (stop - start))


def run_experiment(problem, duration=1.5, target="cpp_standalone", astrocyte=True,
                   parameters=HeadParameters(), seed=0, progress=stderr_progress):
    """Simulate the softmax head on ``problem`` and measure it against exact softmax.

    Parameters
    ----------
    problem : Problem
    duration : float
        Read (counting) window in seconds, after ``parameters.settle`` seconds of settling.
    target : str
        Brian2 target: 'cpp_standalone', 'cython' or 'numpy'.
    astrocyte : bool
        Gliotransmission on, or blocked (ablation).
    parameters : HeadParameters
    seed : int
        Seed of the initial phases.
    progress : callable
        Receives progress lines.

    Returns
    -------
    Result
    """
    if not np.isfinite(duration) or duration <= 0:
        raise InputError(f"duration must be a positive number of seconds, got {duration}")
    exact = softmax_attention(problem.q, problem.k, problem.v)
    recording, timings = run_head(problem, duration, target=target, astrocyte=astrocyte,
                                  parameters=parameters, seed=seed, progress=progress)
    decoded = decode(recording)
    metrics = attention_metrics(exact, decoded)
    rate_max = score_rate_max(recording)
    saturation_rate = 0.5 / parameters.dt
    if rate_max > saturation_rate:
        progress(f"warning: score neurons fired at up to {rate_max:.0f} Hz, above 1/(2 dt) = "
                 f"{saturation_rate:.0f} Hz: the largest scores saturate and the attention is biased "
                 f"(scores up to about {np.log(saturation_rate / parameters.r_score):.1f} are safe)")
    summary = {
        **metrics,
        "settle_seconds": parameters.settle,
        "read_seconds": duration,
        "simulated_seconds": parameters.settle + duration,
        "build_seconds": timings.build_seconds,
        "run_seconds": timings.run_seconds,
        "target": target,
        "astrocyte": astrocyte,
        "problem": problem.name,
        "tokens": problem.tokens,
        "dim": problem.dim,
        "value_dim": problem.value_dim,
        "seed": seed,
        "score_rate_max_hz": rate_max,
        "score_saturated": rate_max > saturation_rate,
        "neurons": {name: size for name, size in recording.sizes.items()},
        "parameters": asdict(parameters),
        "brian2_version": brian2.__version__,
    }
    return Result(problem=problem, exact=exact, decoded=decoded, recording=recording,
                  metrics=metrics, summary=summary)


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
    from .figures import attention_figure

    with open(os.path.join(folder, "summary.json"), "w") as handle:
        json.dump(result.summary, handle, indent=2)
    metrics_table(result.metrics).to_csv(os.path.join(folder, "metrics.csv"), index=False)
    row_table(result.exact, result.decoded).to_csv(os.path.join(folder, "rows.csv"), index=False)
    p, e, d = result.problem, result.exact, result.decoded
    np.savez(os.path.join(folder, "attention.npz"), q=p.q, k=p.k, v=p.v,
             scores=e.scores, attention=e.attention, normaliser=e.normaliser, output=e.output,
             attention_decoded=d.attention, normaliser_decoded=d.normaliser, output_decoded=d.output)
    attention_figure(result).savefig(os.path.join(folder, "attention.png"), dpi=120)
