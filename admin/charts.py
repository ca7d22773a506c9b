"""Charts as SVG text, drawn server-side with matplotlib, so the dashboard needs no JavaScript."""

# Figures are made with matplotlib's object API (never pyplot): pyplot keeps global state that
# is not safe across the server's worker threads. Text stays text (svg.fonttype "none"), so the
# SVG is small and the browser draws the labels in its own fonts.

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

# The backend is chosen before the figure modules are imported.
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

BAR_COLOUR = "#0b4f6c"  # the dashboard's band colour (admin.css --band)
SECOND_COLOUR = "#8a1c1c"
WIDTH_INCHES = 8.0
HEIGHT_INCHES = 3.2
_STYLE_ELEMENT = re.compile(r"<style[^>]*>.*?</style>\s*", re.DOTALL)


def bar_chart(labels: Sequence[str], values: Sequence[float], *, y_label: str) -> str:
    """Vertical bars, one per label (e.g. questions per day)."""
    figure, axes = _figure(HEIGHT_INCHES)
    axes.bar(range(len(values)), values, color=BAR_COLOUR)
    _x_labels(axes, labels)
    axes.set_ylabel(y_label)
    _counts_axis(axes.yaxis, values, axes.set_ylim)
    return _svg(figure)


def horizontal_bar_chart(labels: Sequence[str], values: Sequence[float], *, x_label: str) -> str:
    """Horizontal bars, biggest at the top (e.g. questions per intent)."""
    figure, axes = _figure(max(HEIGHT_INCHES, 0.3 * len(values) + 1))
    positions = list(range(len(values)))
    axes.barh(positions, values, color=BAR_COLOUR)
    axes.set_yticks(positions, labels=[_plain(label) for label in labels])
    axes.invert_yaxis()
    axes.set_xlabel(x_label)
    _counts_axis(axes.xaxis, values, axes.set_xlim)
    return _svg(figure)


def line_chart(
    labels: Sequence[str], values: Sequence[float | None], *, y_label: str, y_max: float | None
) -> str:
    """One line (e.g. a rate per day); a None value leaves a gap."""
    figure, axes = _figure(HEIGHT_INCHES)
    points = [float("nan") if value is None else value for value in values]
    axes.plot(range(len(points)), points, color=BAR_COLOUR, marker="o", markersize=3)
    _x_labels(axes, labels)
    axes.set_ylabel(y_label)
    axes.set_ylim(0, y_max)
    return _svg(figure)


def paired_bar_chart(
    labels: Sequence[str],
    first: Sequence[float],
    second: Sequence[float],
    *,
    names: tuple[str, str],
    y_label: str,
) -> str:
    """Two bars side by side per label (e.g. helpful and unhelpful ratings per day)."""
    figure, axes = _figure(HEIGHT_INCHES)
    positions = list(range(len(labels)))
    axes.bar([p - 0.2 for p in positions], first, width=0.4, color=BAR_COLOUR, label=names[0])
    axes.bar([p + 0.2 for p in positions], second, width=0.4, color=SECOND_COLOUR, label=names[1])
    _x_labels(axes, labels)
    axes.set_ylabel(y_label)
    _counts_axis(axes.yaxis, [*first, *second], axes.set_ylim)
    axes.legend()
    return _svg(figure)


def _counts_axis(axis: Any, values: Sequence[float], set_limits: Any) -> None:
    """Whole numbers from 0; an empty period shows 0–1, not matplotlib's -0.05–0.05."""
    axis.set_major_locator(MaxNLocator(integer=True))
    set_limits(0, max(1.0, max(values, default=0.0) * 1.05))


def _figure(height: float) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(WIDTH_INCHES, height), layout="constrained")
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _x_labels(axes: Axes, labels: Sequence[str]) -> None:
    # A month of days fits; longer ranges show every n-th label so they do not overlap.
    step = max(1, len(labels) // 16)
    ticks = list(range(0, len(labels), step))
    axes.set_xticks(ticks, labels=[_plain(labels[i]) for i in ticks], rotation=45, ha="right")


def _plain(label: str) -> str:
    # A "$" would start matplotlib's math mode; labels come from data (intents, region names).
    return label.replace("$", r"\$")


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "pkh-dashboard"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    # The stylesheet only sets line joins; dropping it keeps the SVG within a strict CSP.
    return _STYLE_ELEMENT.sub("", buffer.getvalue(), count=1)
