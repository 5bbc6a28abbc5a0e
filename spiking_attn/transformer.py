"""A pretrained encoder whose attention is computed in spikes.

The encoder's forward pass (:mod:`spiking_attn.encoder`) runs in NumPy; in every selected layer its
softmax attention is replaced by the spiking softmax head (all heads of the layer in one network),
and the decoded outputs y feed the rest of the model. Everything else is exact. Each text is also
encoded exactly, and the two sentence embeddings are compared.

Lengths are bucketed: a text of T tokens runs on a network of T_b = the next multiple of
``BUCKET`` tokens, its padding keys masked (``Problem.key_mask``: they take no part, as the model
masks padding) and its padding queries ignored, so texts of similar length and all layers share
one compiled network.
"""
import json
import os
import re
import time
from dataclasses import dataclass, field

import numpy as np

from .circuits.softmax_head import LAYER_OPTIONS, PARAMETER_OPTIONS, HeadParameters
from .devices import stderr_progress
from .energy import attention_macs, energy_account
from .experiment import OPTION, run_experiment
from .problems import validate

BUCKET = 8
# The run options of `spiking-attn transformer`: the device, the read window, the figure, the layers' network's own
# (one calibrated network per length bucket serves every text and layer) and its rates and time step.
TRANSFORMER_OPTIONS = ("duration", "target", "seed", "cache_dir", "no_figure", *LAYER_OPTIONS,
                       *(option.name for option in PARAMETER_OPTIONS))
SETTLE = 0.3  # s of settling per layer's network (7.5 tau_d; the head's default is 0.5 s)
READ_SECONDS = 0.4  # s: the default read window of each layer's network


def bucket(tokens):
    """The padded length of a text of ``tokens`` tokens: the next multiple of :data:`BUCKET`."""
    return -(-tokens // BUCKET) * BUCKET


def layer_metrics(exact, decoded, tokens):
    """Per-head mean row TV, row sums and output error of a layer's real (unpadded) rows."""
    a, a_hat = exact.attention[:, :tokens, :tokens], decoded.attention[:, :tokens, :tokens]
    y, y_hat = exact.output[:, :tokens], decoded.output[:, :tokens]
    head_tv = 0.5 * np.abs(a_hat - a).sum(axis=2).mean(axis=1)
    return {
        "head_tv_mean": float(head_tv.mean()),
        "head_tv_max": float(head_tv.max()),
        "row_sum_error_max": float(np.abs(a_hat.sum(axis=2) - 1).max()),
        "output_rel_error": float(np.linalg.norm(y_hat - y) / np.linalg.norm(y)),
    }


@dataclass
class SpikingAttention:
    """The attention callable for :meth:`spiking_attn.encoder.Encoder.encode`: runs one layer's
    heads in the spiking network and keeps what each run measured.

    Attributes
    ----------
    options : RunOptions
        The softmax head's run options (duration, target, seed, cache_dir).
    progress : callable
        Receives the runs' progress lines.
    runs : list of dict
        One per layer run: layer, tokens, bucket, the layer's metrics, reused_build, build and run
        seconds.
    examples : dict
        layer -> (exact attention, decoded attention) of the real rows, for figures.
    activity : list of tuple
        One per layer run: its synaptic events and spikes by population, and the exact attention's
        multiply-accumulates on the text's real tokens (padding is the spiking network's cost only).
    """

    options: object
    progress: object
    runs: list = field(default_factory=list)
    examples: dict = field(default_factory=dict)
    activity: list = field(default_factory=list)

    def timings(self, wall, forward):
        """Where a text's time went: its wall time with the layers in spikes, the exact forward pass, the layer
        runs' builds and binaries, and the rest."""
        build, run = (sum(r[key] for r in self.runs) for key in ("build_seconds", "run_seconds"))
        return {"tokens": self.runs[0]["tokens"] if self.runs else None, "wall_seconds": wall,
                "numpy_forward_seconds": forward, "build_seconds": build, "binary_seconds": run,
                "other_seconds": wall - build - run}

    def energy(self):
        """The ``energy`` object of the text: every layer run's events, spikes and MACs added up."""
        events, spikes, macs = {}, {}, 0
        for run_events, run_spikes, run_macs in self.activity:
            for total, counts in ((events, run_events), (spikes, run_spikes)):
                for name, count in counts.items():
                    total[name] = total.get(name, 0) + count
            macs += run_macs
        return energy_account(events, spikes, macs)

    def __call__(self, layer, q, k, v):
        tokens = q.shape[1]
        problem = validate(q, k, v, name=f"layer {layer}").padded(bucket(tokens), bucket(tokens))
        result = run_experiment(problem, self.options, HeadParameters(settle=SETTLE), progress=self.progress)
        s = result.summary
        self.activity.append((result.recording.events, result.recording.population_spikes,
                              attention_macs(problem.heads, tokens, tokens, problem.dim, problem.value_dim)))
        self.runs.append({"layer": layer, "tokens": tokens, "bucket": bucket(tokens),
                          **layer_metrics(result.exact, result.decoded, tokens), "saturated": s["saturated"],
                          "reused_build": s["reused_build"], "build_seconds": s["build_seconds"],
                          "run_seconds": s["run_seconds"],
                          "calibration": s["calibration"]["state"] if "calibration" in s else "none"})
        self.examples[layer] = (result.exact.attention[:, :tokens, :tokens],
                                result.decoded.attention[:, :tokens, :tokens])
        return result.decoded.output[:, :tokens]


def cosine(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def similarities(embeddings):
    """Pairwise cosine similarities of the rows of ``embeddings``."""
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    return unit @ unit.T


def _network_settings(options):
    """The layers' network's own settings of a transformer run (its robustness options and calibration)."""
    return {name: getattr(options, name) for name in (*LAYER_OPTIONS, *(option.name for option in PARAMETER_OPTIONS))}


@dataclass
class TextResult:
    """One text encoded exactly and with the attention of the spiking layers in spikes.

    Attributes
    ----------
    text : str
    exact, spiking : ndarray
        The sentence embeddings.
    runs : list of dict
        One per layer run (:class:`SpikingAttention`'s).
    examples : dict
        layer -> (exact attention, decoded attention) of the real rows.
    timings : dict
        Where the text's time went (:meth:`SpikingAttention.timings`, without the text's number).
    energy : dict
        The text's ``energy`` object.
    """

    text: str
    exact: np.ndarray
    spiking: np.ndarray
    runs: list
    examples: dict
    timings: dict
    energy: dict


@dataclass
class TransformerResult:
    """Exact and spiking sentence embeddings of some texts, and every layer run's measurements."""

    texts: list
    layers: list
    exact: np.ndarray
    spiking: np.ndarray
    runs: list
    examples: dict
    summary: dict


def encode_text(encoder, text, layers, options, progress=stderr_progress):
    """Encode ``text`` exactly and with the attention of ``layers`` in spikes (a :class:`TextResult`)."""
    def warnings(line):
        if line.startswith(("warning", "calibrating")):
            progress(line)

    attention = SpikingAttention(options, warnings)
    start = time.perf_counter()
    exact = encoder.encode(text).embedding
    middle = time.perf_counter()
    spiking = encoder.encode(text, attention=attention, layers=layers).embedding
    wall = time.perf_counter() - middle
    return TextResult(text=text, exact=exact, spiking=spiking, runs=attention.runs, examples=attention.examples,
                      timings=attention.timings(wall, middle - start), energy=attention.energy())


@dataclass(frozen=True)
class TextStore:
    """A folder that keeps each text a run has encoded, as a one-text result folder (:func:`write_transformer`)
    named by the text's point key (:func:`text_points`: the text, layers, model and options), so that a run
    interrupted (Ctrl-C, kill) and started again encodes only the texts it had not finished."""

    folder: str
    model: str

    def path(self, text, layers, options):
        return os.path.join(self.folder, text_points([text], layers, self.model, options)[0].key)

    def read(self, text, layers, options):
        """The kept :class:`TextResult` of ``text``, or None."""
        path = self.path(text, layers, options)
        return read_text_result(path) if os.path.isfile(os.path.join(path, "summary.json")) else None

    def keep(self, result, layers, options):
        """Keep ``result``: written in a staging folder, then renamed into place (the staging folder is removed
        if the writing is interrupted)."""
        import shutil
        import tempfile

        path = self.path(result.text, layers, options)
        staging = tempfile.mkdtemp(prefix=os.path.basename(path) + ".partial-", dir=self.folder)
        try:
            write_transformer(merge_texts([result], layers, options), staging, figure=False)
            os.replace(staging, path)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    @staticmethod
    def _own(name):
        return re.fullmatch(r"[0-9a-f]{12}(\.partial-[A-Za-z0-9_]+)?", name) is not None

    def clear(self):
        """Remove the kept texts (the store's own folders only; a real folder, never through a link)."""
        import shutil

        for name in os.listdir(self.folder):
            path = os.path.join(self.folder, name)
            if self._own(name) and os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)

    def check(self):
        """Refuse (InputError) a folder of this name that holds what a store does not write."""
        from .errors import InputError
        from .output import FOLDER_LOCK

        foreign = [name for name in os.listdir(self.folder) if name != FOLDER_LOCK and not self._own(name)]
        if foreign:
            raise InputError(f"{self.folder} holds files spiking-attn did not write ({foreign[0]}); it is where "
                             "this run keeps its encoded texts: move it")


def run_transformer(encoder, texts, layers, options, progress=stderr_progress, store=None):
    """Encode every text exactly and with the attention of ``layers`` in spikes, one after another.

    Parameters
    ----------
    encoder : spiking_attn.encoder.Encoder
    texts : list of str
    layers : list of int
    options : spiking_attn.experiment.RunOptions
        The softmax head's run options (duration: the read window, after :data:`SETTLE` s of
        settling; target, seed, cache_dir).
    progress : callable
        Receives a line per layer run (and the runs' warnings).
    store : TextStore, optional
        Texts found there are read, not encoded again; each text encoded is kept there.

    Returns
    -------
    TransformerResult
    """
    results = []
    for number, text in enumerate(texts):
        result = None if store is None else store.read(text, layers, options)
        if result is not None:
            progress(f"text {number + 1}/{len(texts)}: encoded by an earlier run that was interrupted")
            results.append(result)
            continue
        result = encode_text(encoder, text, layers, options, progress)
        if store is not None:
            store.keep(result, layers, options)
        for run in result.runs:
            progress(f"text {number + 1}/{len(texts)}, layer {run['layer']}: T={run['tokens']} (network of "
                     f"{run['bucket']}), worst head TV {run['head_tv_max']:.4f}, "
                     f"{'reused build' if run['reused_build'] else 'compiled'}, run {run['run_seconds']:.1f} s")
        progress(f"text {number + 1}/{len(texts)}: embedding cosine {cosine(result.exact, result.spiking):.6f}, "
                 f"{result.timings['wall_seconds']:.1f} s with {len(layers)} layer(s) in spikes")
        results.append(result)
    return merge_texts(results, layers, options)


def merge_texts(results, layers, options):
    """The :class:`TransformerResult` of the texts' results, in their order: summary, runs and figures' examples
    (the first text's)."""
    exact, spiking = np.array([r.exact for r in results]), np.array([r.spiking for r in results])
    runs = [{"text": number, **run} for number, result in enumerate(results) for run in result.runs]
    cosines = [cosine(a, b) for a, b in zip(exact, spiking)]
    summary = {
        "texts": [r.text for r in results],
        "layers": list(layers),
        "embedding_cosine": cosines,
        "embedding_cosine_min": min(cosines),
        "similarity_error_max": float(np.abs(similarities(spiking) - similarities(exact)).max()),
        "head_tv_max": max(run["head_tv_max"] for run in runs),
        "timings": [{"text": number, **r.timings} for number, r in enumerate(results)],
        "energy": [r.energy for r in results],
        "runs": runs,
        "settings": {"settle": SETTLE, "duration": options.duration, "target": options.target,
                     "seed": options.seed, "bucket": BUCKET, **_network_settings(options)},
    }
    return TransformerResult(texts=summary["texts"], layers=list(layers), exact=exact, spiking=spiking, runs=runs,
                             examples=results[0].examples, summary=summary)


def read_text_result(folder):
    """The :class:`TextResult` of a one-text result folder that :func:`write_transformer` wrote."""
    with open(os.path.join(folder, "summary.json")) as stream:
        summary = json.load(stream)
    with np.load(os.path.join(folder, "embeddings.npz")) as embeddings:
        exact, spiking = embeddings["exact"][0], embeddings["spiking"][0]
    with np.load(os.path.join(folder, "examples.npz")) as stored:
        examples = {layer: (stored[f"exact_{layer}"], stored[f"decoded_{layer}"]) for layer in summary["layers"]}
    timings = {name: value for name, value in summary["timings"][0].items() if name != "text"}
    runs = [{name: value for name, value in run.items() if name != "text"} for run in summary["runs"]]
    return TextResult(text=summary["texts"][0], exact=exact, spiking=spiking, runs=runs, examples=examples,
                      timings=timings, energy=summary["energy"][0])


def text_points(texts, layers, model, options):
    """One sweep point per text: ``spiking-attn transformer --text TEXT`` with the run's layers, model and options
    (:func:`run_on_dask`)."""
    from .sweep import Point

    given = {name: getattr(options, name) for name in TRANSFORMER_OPTIONS
             if name not in ("cache_dir", "no_figure") and getattr(options, name) not in (None, OPTION[name].default)}
    shared = ["--layers", ",".join(map(str, layers)), "--model", os.path.abspath(model), "--no-figure"]
    for name, value in given.items():
        shared += OPTION[name].argv(value)
    return [Point(options={"text": text, "layers": ",".join(map(str, layers)), "model": os.path.abspath(model),
                           **given}, argv=(f"--text={text}", *shared), command="transformer") for text in texts]


def run_on_dask(texts, layers, model, options, out_dir, workers=None, scheduler=None, retry_failed=False):
    """Encode the texts as the points of a sweep (:func:`spiking_attn.sweep.execute`: spread over Dask workers
    that share the build cache, resumable per text) in the sweep folder ``out_dir``.

    Returns
    -------
    TransformerResult or None
        None if a text failed (runs.parquet says which and why; rerun with ``retry_failed``).
    pandas.DataFrame
        runs.parquet's table: one row per text.
    """
    from .sweep import Sweep, execute, point_folder

    points = text_points(texts, layers, model, options)
    config = {"command": "transformer", "texts": list(texts), "layers": list(layers), "model": os.path.abspath(model)}
    sweep = Sweep(config=config, points=tuple(points), grid_options=("text",),
                  metrics=("embedding_cosine_min", "head_tv_max"), command="transformer")
    runs = execute(sweep, out_dir, workers=workers, scheduler=scheduler, cache_dir=options.cache_dir,
                   retry_failed=retry_failed)
    if (runs.status != "done").any():
        return None, runs
    results = [read_text_result(point_folder(os.path.abspath(out_dir), point)) for point in points]
    return merge_texts(results, layers, options), runs


def transformer_figure(result, heads=(0, 1)):
    """Per spiking layer, exact and decoded attention of two heads of the first text; and the texts'
    similarity matrices, exact and spiking."""
    from .figures import plt

    rows = len(result.layers)
    figure = plt.figure(figsize=(14, 2.6 * rows + 3), layout="constrained")
    grid = figure.add_gridspec(rows + 1, 2 * len(heads))
    for row, layer in enumerate(result.layers):
        exact, decoded = result.examples[layer]
        for column, head in enumerate(heads):
            for offset, (matrix, kind) in enumerate(((exact, "exact"), (decoded, "spikes"))):
                ax = figure.add_subplot(grid[row, 2 * column + offset])
                ax.imshow(matrix[head], vmin=0, vmax=max(exact[head].max(), decoded[head].max()), cmap="viridis")
                ax.set_title(f"layer {layer} head {head}: {kind}", fontsize=9)
                ax.set_xticks([])
                ax.set_yticks([])
    exact, spiking = similarities(result.exact), similarities(result.spiking)
    for column, (matrix, kind) in enumerate(((exact, "exact model"), (spiking, "attention in spikes"),
                                             (spiking - exact, "difference"))):
        ax = figure.add_subplot(grid[rows, column])
        limit = np.abs(matrix).max() if kind == "difference" else 1
        image = ax.imshow(matrix, vmin=-limit if kind == "difference" else None, vmax=limit,
                          cmap="RdBu_r" if kind == "difference" else "viridis")
        ax.set_title(f"sentence similarity: {kind}", fontsize=9)
        ax.set_xticks(range(len(result.texts)))
        ax.set_yticks(range(len(result.texts)))
        ax.set_xlabel("text")
        figure.colorbar(image, ax=ax, shrink=0.8)
    figure.suptitle(f"{len(result.texts)} texts, attention of layers {', '.join(map(str, result.layers))} in "
                    f"spikes: embedding cosine ≥ {result.summary['embedding_cosine_min']:.6f}")
    return figure


def write_transformer(result, folder, figure=True):
    """Write ``summary.json``, ``layers.csv``, ``embeddings.npz`` (``exact``, ``spiking``, ``texts``),
    ``examples.npz`` (the first text's exact and decoded attention of each spiking layer: ``exact_L``,
    ``decoded_L``) and, with ``figure``, ``transformer.png`` into ``folder``."""
    import pandas as pd

    from .figures import save_figure
    from .output import write_json

    write_json(os.path.join(folder, "summary.json"), result.summary)
    pd.DataFrame(result.runs).to_csv(os.path.join(folder, "layers.csv"), index=False)
    np.savez(os.path.join(folder, "embeddings.npz"), exact=result.exact, spiking=result.spiking,
             texts=np.array(result.texts))
    np.savez(os.path.join(folder, "examples.npz"),
             **{f"{kind}_{layer}": pair[index] for layer, pair in result.examples.items()
                for index, kind in enumerate(("exact", "decoded"))})
    if figure:
        save_figure(transformer_figure(result), os.path.join(folder, "transformer.png"))
