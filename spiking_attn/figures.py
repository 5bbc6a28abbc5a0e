"""Figures: exact vs decoded attention, their difference, a spike raster and the astrocytes."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

RASTER_POPULATIONS = ("input", "score", "attention", "output")
RASTER_COLOURS = {"input": "tab:grey", "score": "tab:blue", "attention": "tab:red", "output": "tab:green"}


def _row_neurons(recording, population, row):
    """Indices of the neurons of ``population`` that serve query row ``row`` (a contiguous block)."""
    size = recording.sizes[population]
    per_row = size // recording.tokens
    return row * per_row, (row + 1) * per_row


def raster(ax, recording, row=0):
    """Spike raster of every population serving query ``row``, with the read window shaded."""
    offset = 0
    ticks, labels = [], []
    for population in RASTER_POPULATIONS:
        low, high = _row_neurons(recording, population, row)
        indices, times = recording.spikes[population]
        mine = (indices >= low) & (indices < high)
        ax.plot(times[mine], indices[mine] - low + offset, "|", ms=2, color=RASTER_COLOURS[population])
        ticks.append(offset + (high - low) / 2)
        labels.append(f"{population}\n({high - low})")
        offset += high - low
    start = recording.settle
    ax.axvspan(start, start + recording.duration, color="gold", alpha=0.15, lw=0, label="read window")
    ax.set_yticks(ticks, labels)
    ax.set_ylim(-0.5, offset - 0.5)
    ax.set_xlim(0, start + recording.duration)
    ax.set_xlabel("time (s)")
    ax.set_title(f"spikes serving query {row} (shaded: read window)")


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

    raster(figure.add_subplot(grid[1, :2]), recording)

    ax = figure.add_subplot(grid[1, 2])
    ratio = recording.astrocyte_response / result.exact.normaliser[:, None]
    ax.plot(recording.astrocyte_times, ratio.T, lw=0.8)
    ax.axvspan(recording.settle, recording.settle + recording.duration, color="gold", alpha=0.15, lw=0)
    ax.axhline(1, color="k", lw=0.8, ls="--")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("astrocyte response a_t / exact Z_t")
    ax.set_title("astrocytes (one line per query)")
    astrocyte_state = "on" if result.summary["astrocyte"] else "off (gliotransmission blocked)"
    figure.suptitle(f"{result.problem.name}: T={result.problem.tokens}, D={result.problem.dim}, "
                    f"{result.summary['target']}, astrocyte {astrocyte_state}")
    return figure
