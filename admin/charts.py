"""Charts as SVG text, drawn server-side, so the dashboard needs no JavaScript."""

# The SVG is written directly rather than through matplotlib: a matplotlib figure costs 0.2-0.4 s
# to lay out and save, so the statistics page's six charts alone took longer than the page's
# one-second budget. Bars, an axis with round ticks and labels are all these charts need; the
# text stays text (the browser draws it in its own fonts), and there is no <style> or <script>,
# so the SVG passes the dashboard's strict CSP as an <img>.

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

BAR_COLOUR = "#0b4f6c"  # the dashboard's band colour (admin.css --band)
SECOND_COLOUR = "#8a1c1c"
AXIS_COLOUR = "#444444"
GRID_COLOUR = "#dddddd"
WIDTH = 768  # px: 8 inches at 96 dpi
HEIGHT = 307
ROW_HEIGHT = 28  # px per bar of a horizontal chart
MIN_HEIGHT = 120
FONT_SIZE = 12
CHAR_WIDTH = 0.6 * FONT_SIZE  # a sans-serif character's average width, for margins
MAX_X_LABELS = 16
TICKS = 5


def bar_chart(labels: Sequence[str], values: Sequence[float], *, y_label: str) -> str:
    """Vertical bars, one per label (e.g. questions per day)."""
    plot = _Plot.for_columns(labels)
    top, ticks = _counts_scale(values)
    parts = plot.y_axis(ticks, top, y_label)
    width = plot.slot * 0.8
    for index, value in enumerate(values):
        parts.append(plot.column(index, value, top, width=width, offset=0.0, colour=BAR_COLOUR))
    parts += plot.x_labels(labels)
    return plot.svg(parts)


def horizontal_bar_chart(labels: Sequence[str], values: Sequence[float], *, x_label: str) -> str:
    """Horizontal bars, biggest at the top (e.g. questions per intent)."""
    longest = max((len(label) for label in labels), default=0)
    left = min(WIDTH // 2, 16 + longest * CHAR_WIDTH)
    height = max(MIN_HEIGHT, ROW_HEIGHT * len(values) + 64)
    plot = _Plot(left=left, right=WIDTH - 56, top=16, bottom=height - 48, height=height)
    top, ticks = _counts_scale(values)
    parts: list[str] = []
    for tick in ticks:
        x = plot.left + (plot.right - plot.left) * tick / top
        parts.append(_line(x, plot.top, x, plot.bottom, GRID_COLOUR))
        parts.append(_text(x, plot.bottom + 16, _number(tick), anchor="middle"))
    parts.append(_line(plot.left, plot.bottom, plot.right, plot.bottom, AXIS_COLOUR))
    parts.append(_line(plot.left, plot.top, plot.left, plot.bottom, AXIS_COLOUR))
    parts.append(_text((plot.left + plot.right) / 2, height - 10, x_label, anchor="middle"))
    row = (plot.bottom - plot.top) / max(1, len(values))
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = plot.top + row * index
        length = (plot.right - plot.left) * value / top
        parts.append(_rect(plot.left, y + row * 0.15, length, row * 0.7, BAR_COLOUR))
        parts.append(_text(plot.left - 6, y + row / 2 + 4, label, anchor="end"))
        parts.append(_text(plot.left + length + 4, y + row / 2 + 4, _number(value)))
    return plot.svg(parts)


def line_chart(
    labels: Sequence[str], values: Sequence[float | None], *, y_label: str, y_max: float | None
) -> str:
    """One line (e.g. a rate per day); a None value leaves a gap."""
    plot = _Plot.for_columns(labels)
    known = [value for value in values if value is not None]
    top = y_max if y_max is not None else _round_up(max(known, default=1.0))
    parts = plot.y_axis(_ticks(top), top, y_label)
    segments: list[list[tuple[float, float]]] = [[]]
    for index, value in enumerate(values):
        if value is None:
            segments.append([])
            continue
        segments[-1].append((plot.centre(index), plot.y(value, top)))
    for points in segments:
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{BAR_COLOUR}" stroke-width="1.5"/>'
            )
        parts += [
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{BAR_COLOUR}"/>' for x, y in points
        ]
    parts += plot.x_labels(labels)
    return plot.svg(parts)


def paired_bar_chart(
    labels: Sequence[str],
    first: Sequence[float],
    second: Sequence[float],
    *,
    names: tuple[str, str],
    y_label: str,
) -> str:
    """Two bars side by side per label (e.g. helpful and unhelpful ratings per day)."""
    plot = _Plot.for_columns(labels)
    top, ticks = _counts_scale([*first, *second])
    parts = plot.y_axis(ticks, top, y_label)
    width = plot.slot * 0.4
    for index in range(len(labels)):
        parts.append(
            plot.column(index, first[index], top, width=width, offset=-0.2, colour=BAR_COLOUR)
        )
        parts.append(
            plot.column(index, second[index], top, width=width, offset=0.2, colour=SECOND_COLOUR)
        )
    parts += plot.x_labels(labels)
    # The legend, top right.
    x = plot.right - 8 - CHAR_WIDTH * max(len(names[0]), len(names[1])) - 18
    for row, (name, colour) in enumerate(zip(names, (BAR_COLOUR, SECOND_COLOUR), strict=True)):
        y = plot.top + 4 + row * 18
        parts.append(_rect(x, y, 12, 12, colour))
        parts.append(_text(x + 18, y + 10, name))
    return plot.svg(parts)


# --- drawing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plot:
    """The plotting area inside the image, in px; `slot` is one label's width on the x axis."""

    left: float
    right: float
    top: float
    bottom: float
    height: float
    slot: float = 0.0

    @classmethod
    def for_columns(cls, labels: Sequence[str]) -> _Plot:
        left, right, top, bottom = 72.0, WIDTH - 16.0, 16.0, HEIGHT - 56.0
        return cls(left, right, top, bottom, HEIGHT, (right - left) / max(1, len(labels)))

    def centre(self, index: int) -> float:
        return self.left + self.slot * (index + 0.5)

    def y(self, value: float, top: float) -> float:
        return self.bottom - (self.bottom - self.top) * value / top

    def column(
        self, index: int, value: float, top: float, *, width: float, offset: float, colour: str
    ) -> str:
        y = self.y(value, top)
        x = self.centre(index) + offset * self.slot - width / 2
        return _rect(x, y, width, self.bottom - y, colour)

    def y_axis(self, ticks: Sequence[float], top: float, title: str) -> list[str]:
        middle = (self.top + self.bottom) / 2
        parts = [
            _text(18, middle, title, anchor="middle", transform=f"rotate(-90 18 {middle:.1f})")
        ]
        for tick in ticks:
            y = self.y(tick, top)
            parts.append(_line(self.left, y, self.right, y, GRID_COLOUR))
            parts.append(_text(self.left - 6, y + 4, _number(tick), anchor="end"))
        parts.append(_line(self.left, self.top, self.left, self.bottom, AXIS_COLOUR))
        parts.append(_line(self.left, self.bottom, self.right, self.bottom, AXIS_COLOUR))
        return parts

    def x_labels(self, labels: Sequence[str]) -> list[str]:
        # A month of days fits; longer ranges show every n-th label so they do not overlap.
        step = max(1, len(labels) // MAX_X_LABELS)
        parts = []
        for index in range(0, len(labels), step):
            x, y = self.centre(index), self.bottom + 14
            parts.append(_line(x, self.bottom, x, self.bottom + 4, AXIS_COLOUR))
            parts.append(
                _text(x, y, labels[index], anchor="end", transform=f"rotate(-45 {x:.1f} {y:.1f})")
            )
        return parts

    def svg(self, parts: list[str]) -> str:
        return "".join(
            [
                '<svg xmlns="http://www.w3.org/2000/svg"'
                f' width="{WIDTH}" height="{self.height:.0f}"'
                f' viewBox="0 0 {WIDTH} {self.height:.0f}"'
                f' font-family="sans-serif" font-size="{FONT_SIZE}" fill="#222222">',
                f'<rect width="{WIDTH}" height="{self.height:.0f}" fill="#ffffff"/>',
                *parts,
                "</svg>\n",
            ]
        )


def _counts_scale(values: Sequence[float]) -> tuple[float, list[float]]:
    """Whole numbers from 0; an empty period shows 0–1."""
    top = _round_up(max(1.0, max(values, default=0.0) * 1.05))
    return top, _ticks(top)


def _round_up(value: float) -> float:
    """`value` rounded up to a whole multiple of a round tick step (1, 2 or 5 × 10ⁿ)."""
    step = _step(value)
    return max(step, float(math.ceil(value / step) * step))


def _step(top: float) -> float:
    raw = max(top, 1.0) / TICKS
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for multiple in (1.0, 2.0, 5.0):
        if raw <= multiple * magnitude:
            return max(1.0, multiple * magnitude)
    return max(1.0, 10.0 * magnitude)


def _ticks(top: float) -> list[float]:
    step = _step(top)
    return [step * n for n in range(int(top // step) + 1)]


def _number(value: float) -> str:
    # Thousands with a dot, the Indonesian way (the labels are for Indonesian staff).
    return f"{value:,.0f}".replace(",", ".")


def _line(x1: float, y1: float, x2: float, y2: float, colour: str) -> str:
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"'
        f' stroke="{colour}" stroke-width="1"/>'
    )


def _rect(x: float, y: float, width: float, height: float, colour: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(0.0, width):.1f}"'
        f' height="{max(0.0, height):.1f}" fill="{colour}"/>'
    )


def _text(x: float, y: float, content: str, *, anchor: str = "start", transform: str = "") -> str:
    rotation = f" transform={quoteattr(transform)}" if transform else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{rotation}>{escape(content)}</text>'
    )
