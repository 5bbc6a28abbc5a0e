"""Figures: exact vs decoded attention, their difference, a spike raster and the astrocytes."""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .errors import InputError  # noqa: E402

RASTER_POPULATIONS = ("input", "score", "attention", "output")
RASTER_COLOURS = {"input": "tab:grey", "score": "tab:blue", "feature": "tab:blue", "attention": "tab:red",
                  "output": "tab:green"}


SOURCE = "spiking-attn"  # written into every PNG this package saves, so it recognises its own figures


def check_figure_path(path):
    """Raise InputError if ``path`` exists and is not a PNG this package saved (metadata Source:
    spiking-attn): a user's file is never overwritten. Call it before long work, too."""
    from PIL import Image, UnidentifiedImageError

    if not os.path.lexists(path):
        return
    try:
        with Image.open(path) as existing:
            ours = existing.format == "PNG" and existing.info.get("Source") == SOURCE
    except (OSError, UnidentifiedImageError):
        ours = False
    if not ours:
        raise InputError(f"{path} exists and is not a figure spiking-attn saved; choose another file name")


def save_figure(figure, path, dpi=120):
    """Save ``figure`` as a PNG at ``path`` (marked as ours), after :func:`check_figure_path`."""
    check_figure_path(path)
    figure.savefig(path, dpi=dpi, format="png", metadata={"Source": SOURCE})


PHASE_COLOURS = {"settling": "white", "writing": "tab:purple", "reading": "gold"}


def shade_phases(ax, recording):
    """Shade the named phases of a recording and mark their boundaries."""
    for name, (start, stop) in recording.phases.items():
        ax.axvspan(start, stop, color=PHASE_COLOURS.get(name, "grey"), alpha=0.12, lw=0)
        ax.axvline(start, color="k", lw=0.5, ls=":")


def raster(ax, recording, blocks, title):
    """Spike raster of neuron blocks {population: (low, high)}, stacked, with the phases shaded."""
    offset = 0
    ticks, labels = [], []
    for population, (low, high) in blocks.items():
        indices, times = recording.spikes[population]
        mine = (indices >= low) & (indices < high)
        ax.plot(times[mine], indices[mine] - low + offset, "|", ms=2, color=RASTER_COLOURS[population])
        ticks.append(offset + (high - low) / 2)
        labels.append(f"{population}\n({high - low})")
        offset += high - low
    shade_phases(ax, recording)
    ax.set_yticks(ticks, labels)
    ax.set_ylim(-0.5, offset - 0.5)
    ax.set_xlim(0, recording.end)
    ax.set_xlabel("time (s)")
    ax.set_title(title)


def row_blocks(recording, row):
    """The contiguous block of each population that serves query ``row`` in the softmax head:
    equal blocks per row for the input and output neurons, the row's pairs for the attention
    neurons and their n_score score neurons each."""
    rows = recording.rows
    pairs = recording.attention_neurons[row][recording.attention_neurons[row] >= 0]
    low, high = int(pairs.min()), int(pairs.max()) + 1
    per_pair = recording.sizes["score"] // recording.sizes["attention"]
    blocks = {population: (row * recording.sizes[population] // rows, (row + 1) * recording.sizes[population] // rows)
              for population in ("input", "output")}
    blocks.update(score=(low * per_pair, high * per_pair), attention=(low, high))
    return {population: blocks[population] for population in RASTER_POPULATIONS}


def _heatmap(figure, cell, matrix, title, limits, cmap="viridis"):
    ax = figure.add_subplot(cell)
    image = ax.imshow(matrix, vmin=limits[0], vmax=limits[1], cmap=cmap)
    ax.set_title(title)
    ax.set_xlabel("key j")
    ax.set_ylabel("query t")
    figure.colorbar(image, ax=ax, shrink=0.8)


def _title(result):
    s = result.summary
    state = "on" if s["astrocyte"] else "off (blocked)"
    p = result.problem
    shape = f"T={p.tokens}" if p.key_tokens == p.tokens else f"T_q={p.tokens}, T_k={p.key_tokens}"
    heads = f"H={p.heads} (head 0 shown), " if p.multi_head else ""
    return (f"{p.name}: {heads}{shape}, D={p.dim}, {s['network']}{', causal' if s.get('causal') else ''}, "
            f"{s['target']}, astrocyte {state}")


def _panel_grid(size):
    """A figure of 2 x 3 panels with fixed margins (a constrained layout takes half a second of a warm run to
    place its boxes)."""
    figure = plt.figure(figsize=size)
    return figure, figure.add_gridspec(2, 3, left=0.075, right=0.95, bottom=0.07, top=0.9, wspace=0.32, hspace=0.3)


def attention_figure(result):
    """Softmax head: exact, decoded and difference heatmaps, a raster of the last query, the
    astrocytes' normaliser estimates against exact Z (head 0 of several).

    Parameters
    ----------
    result : spiking_attn.experiment.Result

    Returns
    -------
    matplotlib.figure.Figure
    """
    first_head = (0,) if result.problem.multi_head else ()
    exact, decoded = result.exact.attention[first_head], result.decoded.attention[first_head]
    normaliser, recording = result.exact.normaliser[first_head], result.recording
    rows = exact.shape[0]
    figure, grid = _panel_grid((13, 8))
    top = max(exact.max(), decoded.max())
    _heatmap(figure, grid[0, 0], exact, "exact softmax A", (0, top))
    _heatmap(figure, grid[0, 1], decoded, "decoded from spikes Â", (0, top))
    limit = max(np.abs(decoded - exact).max(), 1e-12)
    _heatmap(figure, grid[0, 2], decoded - exact, f"Â − A (mean row TV {result.metrics['row_tv_mean']:.4f})",
             (-limit, limit), cmap="RdBu_r")
    raster(figure.add_subplot(grid[1, :2]), recording, row_blocks(recording, rows - 1),
           f"spikes serving query {rows - 1} (shaded: read window)")
    ax = figure.add_subplot(grid[1, 2])
    response = recording.astrocyte_response[:rows]
    estimate = 1.0 / response if recording.inverse_response else response
    ax.semilogy(recording.astrocyte_times, (estimate / normaliser[:, None]).T, lw=0.8)
    shade_phases(ax, recording)
    ax.axhline(1, color="k", lw=0.8, ls="--")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("astrocyte's normaliser / exact Z_t")
    ax.set_title("astrocytes (one line per query)")
    figure.suptitle(_title(result))
    return figure


def feature_figure(result, raster_features=100):
    """Random-feature network: exact, rate-model and decoded attention, the writing/reading raster
    with its phase boundaries, and the astrocyte response against exact Z_t across tokens."""
    exact, decoded, recording = result.exact.attention, result.decoded.attention, result.recording
    model = result.rate_model
    figure, grid = _panel_grid((14, 8))
    top = max(exact.max(), model.attention.max(), decoded.max())
    _heatmap(figure, grid[0, 0], exact, "exact softmax A", (0, top))
    _heatmap(figure, grid[0, 1], model.attention,
             f"rate model (TV {result.metrics['rate_model_tv']:.3f} vs exact)", (0, top))
    _heatmap(figure, grid[0, 2], decoded,
             f"decoded from spikes (TV {result.metrics['rate_model_attention_tv']:.3f} vs rate model)", (0, top))
    blocks = {"input": (0, recording.sizes["input"]),
              "feature": (0, min(raster_features, recording.sizes["feature"])),
              "attention": (0, recording.sizes["attention"]), "output": (0, recording.sizes["output"])}
    raster(figure.add_subplot(grid[1, :2]), recording, blocks,
           "spikes (purple: writing, one key per slot; gold: reading, one query per slot)")
    ax = figure.add_subplot(grid[1, 2])
    tokens = np.arange(result.problem.tokens)
    ax.plot(tokens, result.exact.normaliser, "ko-", label="exact Z_t")
    ax.plot(tokens, model.astrocyte, "s--", color="tab:blue", label="rate model a_t")
    ax.plot(tokens, result.decoded.normaliser, "x", color="tab:red", ms=9, mew=2, label="astrocyte (spiking)")
    ax.set_xlabel("query t")
    ax.set_ylabel("normaliser")
    ax.set_title(f"astrocyte vs Z: corr {result.metrics['z_corr']:.3f}, "
                 f"vs rate model {result.metrics['astrocyte_rate_model_corr']:.4f}")
    ax.legend(fontsize=8)
    figure.suptitle(_title(result))
    return figure


def _image_shape(size):
    """The most square rows x columns grid of ``size`` entries (8 x 8 for the digits)."""
    rows = max(r for r in range(1, int(np.sqrt(size)) + 1) if size % r == 0)
    return rows, size // rows


def retrieval_figure(cues, sources, patterns, trajectory, model="spiking", shown=6, snapshots=6):
    """Cue -> the memory's state over time (``model``: the spiking memory's decoded state, or the rate model's)
    -> the pattern it was cued from, for the first ``shown`` cues (images of +-1 entries: white +1, black -1)."""
    times, path = trajectory["times" if model == "spiking" else "rate_times"], trajectory[model]
    picks = np.linspace(0, len(times) - 1, snapshots).round().astype(int)
    shape = _image_shape(patterns.shape[1])
    shown = min(shown, len(cues))
    figure, axes = plt.subplots(shown, snapshots + 2, figsize=(1.3 * (snapshots + 2), 1.4 * shown + 0.4),
                                squeeze=False)
    for row in range(shown):
        panels = [("cue", cues[row])] + [(f"{times[i] * 1e3:.0f} ms", path[i, row]) for i in picks] + [
            (f"pattern {sources[row]}", patterns[sources[row]])]
        for ax, (title, image) in zip(axes[row], panels):
            ax.imshow(np.clip(image, -1, 1).reshape(shape), cmap="gray", vmin=-1, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(title, fontsize=8)
    what = "spiking memory: decoded state (10 ms bins)" if model == "spiking" else "rate model: state"
    figure.suptitle(f"cue, {what} over time, stored pattern", fontsize=10)
    figure.tight_layout()
    return figure


def energy_figure(trajectory, cue_seconds, shown=10):
    """The energy E(x) = x . x / 2 - lse(beta Xi x) / beta of the decoded spiking state (solid) and of the rate
    model (dashed) against time, for the first ``shown`` cues; the cue phase is shaded."""
    figure, ax = plt.subplots(figsize=(7, 4))
    colours = plt.cm.tab10(np.arange(shown) % 10)
    spiking = "spiking_energy" in trajectory
    for cue in range(min(shown, trajectory["rate_energy"].shape[1])):
        if spiking:
            ax.plot(trajectory["times"], trajectory["spiking_energy"][:, cue], color=colours[cue], lw=1)
        ax.plot(trajectory["rate_times"], trajectory["rate_energy"][:, cue], color=colours[cue], lw=1, ls="--")
    ax.axvspan(0, cue_seconds, color="0.9", zorder=0, label="cue (loop open)")
    ax.set_xlim(0, trajectory["rate_times"][-1])
    ax.set_xlabel("time (s)")
    ax.set_ylabel("energy E(x)")
    if spiking:
        ax.plot([], [], color="k", lw=1, label="spiking (decoded, 10 ms bins)")
    ax.plot([], [], color="k", lw=1, ls="--", label="rate model")
    ax.legend(fontsize=8)
    ax.set_title("energy along retrieval, one colour per cue")
    figure.tight_layout()
    return figure
