"""Figures: exact vs decoded attention, their difference, a spike raster and the astrocytes."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

RASTER_POPULATIONS = ("input", "score", "attention", "output")
RASTER_COLOURS = {"input": "tab:grey", "score": "tab:blue", "attention": "tab:red", "output": "tab:green"}


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
    """The contiguous block of each population that serves query ``row`` in the softmax head."""
    blocks = {}
    for population in RASTER_POPULATIONS:
        per_row = recording.sizes[population] // recording.tokens
        blocks[population] = (row * per_row, (row + 1) * per_row)
    return blocks


def attention_figure(result):
    """Exact, decoded and difference heatmaps, a raster of query 0 and the astrocyte responses.

    Parameters
    ----------
    result : spiking_attn.experiment.Result

    Returns
    -------
    matplotlib.figure.Figure
    """
    exact, decoded, recording = result.exact.attention, result.decoded.attention, result.recording
    figure = plt.figure(figsize=(13, 8), layout="constrained")
    grid = figure.add_gridspec(2, 3)
    top = max(exact.max(), decoded.max())
    for column, (matrix, title) in enumerate(((exact, "exact softmax A"), (decoded, "decoded from spikes Â"))):
        ax = figure.add_subplot(grid[0, column])
        image = ax.imshow(matrix, vmin=0, vmax=top, cmap="viridis")
        ax.set_title(title)
        ax.set_xlabel("key j")
        ax.set_ylabel("query t")
        figure.colorbar(image, ax=ax, shrink=0.8)
    difference = decoded - exact
    limit = max(np.abs(difference).max(), 1e-12)
    ax = figure.add_subplot(grid[0, 2])
    image = ax.imshow(difference, vmin=-limit, vmax=limit, cmap="RdBu_r")
    ax.set_title(f"Â − A (mean row TV {result.metrics['row_tv_mean']:.4f})")
    ax.set_xlabel("key j")
    ax.set_ylabel("query t")
    figure.colorbar(image, ax=ax, shrink=0.8)

    raster(figure.add_subplot(grid[1, :2]), recording, row_blocks(recording, 0),
           "spikes serving query 0 (shaded: read window)")

    ax = figure.add_subplot(grid[1, 2])
    ratio = recording.astrocyte_response / result.exact.normaliser[:, None]
    ax.plot(recording.astrocyte_times, ratio.T, lw=0.8)
    shade_phases(ax, recording)
    ax.axhline(1, color="k", lw=0.8, ls="--")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("astrocyte response a_t / exact Z_t")
    ax.set_title("astrocytes (one line per query)")
    astrocyte_state = "on" if result.summary["astrocyte"] else "off (gliotransmission blocked)"
    figure.suptitle(f"{result.problem.name}: T={result.problem.tokens}, D={result.problem.dim}, "
                    f"{result.summary['target']}, astrocyte {astrocyte_state}")
    return figure
