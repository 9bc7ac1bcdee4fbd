"""PNG plots of history, forecasts and actuals, one panel per series (matplotlib, no display)."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Any

import numpy as np

from forecast_cli.atomic import atomic_write_bytes


@dataclasses.dataclass
class Panel:
    """One series: its recent history, any number of forecast lines, and the actuals if known."""

    title: str
    history: tuple[Any, np.ndarray] | None = None
    forecasts: list[tuple[Any, np.ndarray, str]] = dataclasses.field(default_factory=list)
    actual: tuple[Any, np.ndarray] | None = None
    band: tuple[Any, np.ndarray, np.ndarray, str] | None = None  # x, low, high, label (an interval)
    marks: tuple[Any, np.ndarray, str] | None = None  # x, y, label: points to single out (anomalies)


def left_out(drawn: int, total: int, which: str) -> str:
    """A second line for a plot's title when it draws fewer series than there are (a file of
    thousands of series draws a few): how many of how many, and which; nothing when it draws them all.

    Example:
        >>> left_out(4, 4, "the first by id"), left_out(4, 2000, "the first by id")
        ('', '\\n4 of 2000 series: the first by id (--plot-series draws more)')
    """
    return "" if drawn >= total else f"\n{drawn} of {total} series: {which} (--plot-series draws more)"


PLOT_FORMATS = {"": "png", ".png": "png", ".svg": "svg", ".pdf": "pdf"}  # a plot file's ending: its format
# No date (nor, in SVG, random element ids) in the file, so that the same plot gives the same bytes.
_PLOT_METADATA = {"png": {}, "svg": {"Date": None}, "pdf": {"CreationDate": None, "ModDate": None}}


def save_panels(panels: list[Panel], path: str | Path, title: str) -> None:
    """Draw the panels in one column and write the file atomically: PNG, or SVG or PDF where the
    path ends so (`PLOT_FORMATS`).

    Example:
        >>> x, y = pd.date_range("2024-01-01", periods=24, freq="MS"), np.arange(24.0)
        >>> save_panels([Panel("s1", history=(x, y))], "plot.png", "Forecast")
        >>> Path("plot.png").stat().st_size > 0
        True
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = max(1, len(panels))
    fig, axes = plt.subplots(rows, 1, figsize=(10, 2.6 * rows), squeeze=False)
    for ax, panel in zip(axes[:, 0], panels):
        if panel.history is not None:
            ax.plot(panel.history[0], panel.history[1], color="0.35", linewidth=1.2, label="history")
        if panel.band is not None:
            x, low, high, label = panel.band
            ax.fill_between(x, low, high, color="tab:blue", alpha=0.2, linewidth=0, label=label)
        if panel.actual is not None:
            ax.plot(panel.actual[0], panel.actual[1], color="black", linewidth=1.4, marker=".", label="actual")
        colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
        seen: set[str] = set()
        for i, (x, y, label) in enumerate(panel.forecasts):
            color = colors[0] if "fold" in label else colors[i % len(colors)]
            ax.plot(x, y, color=color, linewidth=1.6, label=None if label in seen else label)
            seen.add(label)
        if panel.marks is not None and len(panel.marks[0]):
            x, y, label = panel.marks
            ax.scatter(x, y, s=60, facecolors="none", edgecolors="tab:red", linewidths=1.8, zorder=5, label=label)
        ax.set_title(panel.title, fontsize=10, loc="left")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
        # Each panel's own dates, slanted to fit: series of one file may cover different years (a
        # product launched last spring), and matplotlib's `autofmt_xdate` kept only the bottom
        # panel's labels, as though every panel shared its axis.
        plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
    for ax in axes[len(panels):, 0]:  # nothing to draw: the title says why, above no empty axes
        ax.axis("off")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    buffer = io.BytesIO()
    form = PLOT_FORMATS.get(Path(path).suffix.lower(), "png")
    with matplotlib.rc_context({"svg.hashsalt": "forecast"}):
        fig.savefig(buffer, format=form, dpi=100, metadata=_PLOT_METADATA[form])
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())
