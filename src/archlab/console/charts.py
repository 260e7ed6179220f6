"""Small charts drawn as inline SVG on the server, for the console's dashboards.

As with the diagrams, the drawing is plain Python rather than a JavaScript library: no build
step, no download, and tests can hold the charts to their data (one bar a value, each bar's
height its value's share of the axis). Every chart is a ``<figure>`` with a visible caption, an
SVG that screen readers announce as one image (``role="img"``, named by its ``<title>`` and
described by a ``<desc>`` that says in words what the chart shows), a tooltip on every bar, and
the numbers themselves in a table under a ``<details>`` toggle.

The charts are responsive without a script and without scaling their text: an SVG is as wide
as its column (its CSS width, less fixed margins for the axis labels) and a fixed number of
pixels high, so positions across are percentages of the width and positions down are pixels.
Text stays at its size on a phone and on a wide screen; what must keep a fixed size at a
position across (a badge, a legend's swatch) sits in a nested ``<svg>`` placed at that
percentage. The labels of a time axis are ranked, and the page's container queries drop the
lesser ones when a chart is narrow. Class names start ``c-`` so the page's styles for the
diagrams never reach them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

CHAR = 6.6
"""Rough width of one character at 11-12 px: enough to size a column of labels."""
LABEL_MAX = 44
"""Row labels longer than this are cut (the whole text stays in the tooltip and the table)."""


@dataclass(frozen=True)
class Bar:
    label: str
    """The bar's name on its axis (a page, a step, a time)."""
    value: float
    title: str
    """The tooltip: the bar's whole story, in words."""
    note: str = ""
    """The number shown with the bar: at a row's end, above a column of the funnel."""
    kind: str = ""
    """An extra class for the bar: ``open`` (a window still counting), ``alert``."""


@dataclass(frozen=True)
class Table:
    """A chart's numbers as a table, for those who cannot see the chart (or want the figures)."""

    headers: Sequence[str]
    rows: Sequence[Sequence[str]]


def figure(key: str, caption: str, svg: str, table: Table | None = None, note: str = "") -> str:
    """A chart in a ``<figure>``: caption, drawing, an optional line under it, the table."""
    parts = [
        f'<figure class="chart" data-chart="{escape(key)}">',
        f"<figcaption>{escape(caption)}</figcaption>",
        f'<div class="plot">{svg}</div>',
    ]
    if note:
        parts.append(f'<p class="chart-note">{escape(note)}</p>')
    if table is not None and table.rows:
        head = "".join(f"<th>{escape(h)}</th>" for h in table.headers)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
            for row in table.rows
        )
        parts.append(
            f'<details data-key="{escape(key)}"><summary>the numbers</summary>'
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></details>"
        )
    parts.append("</figure>")
    return "".join(parts)


def placeholder(key: str, caption: str, message: str) -> str:
    """A chart's place while it has no data: the same caption, a quiet message."""
    return (
        f'<figure class="chart" data-chart="{escape(key)}" data-empty="true">'
        f"<figcaption>{escape(caption)}</figcaption>"
        f'<p class="chart-empty">{escape(message)}</p></figure>'
    )


# --- numbers ---------------------------------------------------------------------------------


def ticks(top: float, count: int = 4) -> list[float]:
    """Round steps from 0 to at least ``top`` (whole numbers: these charts count things)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    step = max(step, 1.0)
    if step != int(step):  # 2.5 of something below ten: whole steps read better
        step = math.ceil(step)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def compact(value: float) -> str:
    """An axis number: 950, 1.2k, 15k, 1.5M."""
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}".rstrip("0").rstrip(".") + "M"
    if abs(value) >= 10_000:
        return f"{value / 1000:.0f}k"
    if abs(value) >= 1000:
        return f"{value / 1000:.1f}".rstrip("0").rstrip(".") + "k"
    return f"{value:.0f}"


def count(value: float) -> str:
    return f"{value:,.0f}"


def cut(text: str, limit: int = LABEL_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _pct(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") + "%"


def _svg(
    key: str, height: float, title: str, desc: str, body: str, left: float = 0, right: float = 0
) -> str:
    """The chart's root: as wide as its column less ``left`` and ``right`` (room for labels
    drawn outside the plot), ``height`` pixels high."""
    style = f"margin: 0 {right:.0f}px 0 {left:.0f}px; width: calc(100% - {left + right:.0f}px)"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="c-chart" height="{height:.0f}" '
        f'style="{style}" role="img" aria-labelledby="{key}-title {key}-desc" '
        f'data-chart="{escape(key)}"><title id="{key}-title">{escape(title)}</title>'
        f'<desc id="{key}-desc">{escape(desc)}</desc>{body}</svg>'
    )


def _at(x_pct: float, content: str, y: float = 0) -> str:
    """Fixed-size ``content`` drawn around a point ``x_pct`` across, ``y`` down."""
    return (
        f'<svg x="{_pct(x_pct)}" y="{y:.1f}" width="1" height="1" overflow="visible">'
        f"{content}</svg>"
    )


def _bar(x: str, y: float, width: str, height: float, bar: Bar, color: str) -> str:
    kind = f" {bar.kind}" if bar.kind else ""
    return (
        f'<rect class="c-bar {color}{kind}" x="{x}" y="{y:.1f}" width="{width}" '
        f'height="{max(height, 0):.1f}" data-label="{escape(bar.label)}" '
        f'data-value="{bar.value:g}"><title>{escape(bar.title)}</title></rect>'
    )


def _rank(ordinal: int, labels: int) -> int:
    """How dispensable the ``ordinal``-th of an axis's ``labels`` is: 0 always shown, 2 dropped
    when the chart is narrow (every other label, when there are many), 1 also dropped when it
    is very narrow -- so that about three labels remain on a phone."""
    if labels <= 3:
        return 0
    if labels <= 6:
        return 0 if ordinal % 2 == 0 else 1
    return 0 if ordinal % 4 == 0 else 1 if ordinal % 2 == 0 else 2


# --- columns over time -------------------------------------------------------------------------


def columns(
    key: str,
    title: str,
    desc: str,
    bars: Sequence[Bar],
    *,
    axis: dict[int, str],
    color: str = "views",
    line: Sequence[float] | None = None,
    legend: Sequence[tuple[str, str]] = (),
    height: float = 240,
) -> str:
    """Vertical bars side by side (hours, minutes), labelled at the indices of ``axis``, with an
    optional line over them on the same scale (``line[i]`` over bar ``i``)."""
    left, right = 40.0, 8.0
    top, bottom = (28.0 if legend else 10.0), 24.0
    plot_h = height - top - bottom
    highest = max([b.value for b in bars] + list(line or []) + [0])
    steps = ticks(highest)
    scale = plot_h / steps[-1]
    base = top + plot_h
    parts = [_grid(steps, base, scale)]
    n = max(len(bars), 1)
    slot = 100 / n
    gap = slot * 0.2 if n <= 200 else 0.0
    for index, bar in enumerate(bars):
        h = bar.value * scale
        x = _pct(index * slot + gap / 2)
        parts.append(_bar(x, base - h, _pct(slot - gap), h, bar, color))
    if line:
        points = " ".join(f"{i + 0.5:g},{base - v * scale:.1f}" for i, v in enumerate(line))
        parts.append(
            f'<svg width="100%" height="{height:.0f}" viewBox="0 0 {n} {height:.0f}" '
            f'preserveAspectRatio="none" overflow="visible"><polyline class="c-line" '
            f'points="{points}" vector-effect="non-scaling-stroke"/></svg>'
        )
        if n <= 48:  # few enough to mark each: a lone hour is a dot, not nothing
            parts += [
                f'<circle class="c-dot" cx="{_pct((i + 0.5) * slot)}" '
                f'cy="{base - v * scale:.1f}" r="2.5"/>'
                for i, v in enumerate(line)
                if v
            ]
    for ordinal, (index, label) in enumerate(sorted(axis.items())):
        middle = (index + 0.5) * slot
        # A label at either end is aligned to its tick rather than centred over it, so that
        # it does not run past the plot into the axis numbers.
        anchor = "start" if middle < 4 else "end" if middle > 96 else "middle"
        at = (
            index * slot if anchor == "start" else (index + 1) * slot if anchor == "end" else middle
        )
        parts.append(
            f'<g class="c-r{_rank(ordinal, len(axis))}"><line class="c-tick" x1="{_pct(middle)}" '
            f'x2="{_pct(middle)}" y1="{base:.1f}" y2="{base + 4:.1f}"/>'
            f'<text class="c-axis" x="{_pct(at)}" y="{base + 16:.1f}" text-anchor="{anchor}">'
            f"{escape(label)}</text></g>"
        )
    if legend:
        parts.append(_at(100, _legend(legend), 12))
    body = "".join(parts)
    return _svg(key, height, title, desc, body, left=left, right=right)


def _grid(steps: list[float], base: float, scale: float) -> str:
    parts = []
    for step in steps:
        y = base - step * scale
        parts.append(
            f'<line class="c-grid{" c-base" if step == 0 else ""}" x1="0" x2="100%" '
            f'y1="{y:.1f}" y2="{y:.1f}"/><text class="c-axis" x="-6" y="{y + 4:.1f}" '
            f'text-anchor="end">{compact(step)}</text>'
        )
    return "".join(parts)


def _legend(items: Sequence[tuple[str, str]]) -> str:
    """Keys ending at the right edge (x = 0 here): (css class, text), a swatch each."""
    parts = []
    x = 0.0
    for color, text in reversed(items):
        x -= len(text) * CHAR
        parts.append(f'<text class="c-legend" x="{x:.1f}" y="4">{escape(text)}</text>')
        x -= 16
        if color == "c-line":
            parts.append(f'<line class="c-line" x1="{x:.1f}" x2="{x + 12:.1f}" y1="0" y2="0"/>')
        else:
            parts.append(
                f'<rect class="c-swatch {color}" x="{x:.1f}" y="-5" width="12" height="10"/>'
            )
        x -= 14
    return "".join(parts)


# --- rows ------------------------------------------------------------------------------------


def rows(
    key: str,
    title: str,
    desc: str,
    bars: Sequence[Bar],
    *,
    color: str = "views",
    row: float = 26,
) -> str:
    """Horizontal bars, one a row in the order given, each label over its bar (so a long
    label never squeezes the bars) and the numbers in a column at the right."""
    note_w = max((len(b.note) for b in bars), default=0) * CHAR + 14
    highest = max([b.value for b in bars] + [0]) or 1
    parts = []
    for index, bar in enumerate(bars):
        y = index * row
        share = bar.value / highest * 100
        parts.append(
            f'<svg y="{y:.1f}" width="100%" height="{row:.0f}">'  # clips a long label
            f'<rect class="c-track" x="0" y="2" width="100%" height="{row - 4:.0f}" rx="3"/>'
            + _bar("0", 2, _pct(share), row - 4, bar, color)
            + f'<text class="c-name" x="8" y="{row / 2 + 4:.1f}">{escape(cut(bar.label))}</text>'
            "</svg>"
            f'<text class="c-value" x="100%" dx="{note_w:.0f}" y="{y + row / 2 + 4:.1f}" '
            f'text-anchor="end">{escape(bar.note)}</text>'
        )
    height = len(bars) * row
    return _svg(key, height, title, desc, "".join(parts), right=note_w)


# --- the funnel ------------------------------------------------------------------------------


def funnel(
    key: str,
    title: str,
    desc: str,
    steps: Sequence[Bar],
    conversions: Sequence[str],
    *,
    height: float = 230,
) -> str:
    """Columns for the funnel's steps, widest first, each with its count above it, and between
    two columns the share of the first's sessions that reached the second
    (``conversions[i]`` between step ``i`` and ``i + 1``)."""
    top, bottom = 20.0, 24.0
    plot_h = height - top - bottom
    highest = max([s.value for s in steps] + [0]) or 1
    slot = 100 / max(len(steps), 1)
    bar_w = slot * 0.4
    base = top + plot_h
    parts = [f'<line class="c-grid c-base" x1="0" x2="100%" y1="{base:.1f}" y2="{base:.1f}"/>']
    for index, step in enumerate(steps):
        h = step.value / highest * plot_h
        x = index * slot + (slot - bar_w) / 2
        parts.append(_bar(_pct(x), base - h, _pct(bar_w), h, step, f"step-{index}"))
        middle = _pct(x + bar_w / 2)
        parts.append(
            f'<text class="c-value" x="{middle}" y="{base - h - 6:.1f}" text-anchor="middle">'
            f"{escape(step.note)}</text>"
            f'<text class="c-axis c-step" x="{middle}" y="{base + 17:.1f}" '
            f'text-anchor="middle">{escape(step.label)}</text>'
        )
    for index, text in enumerate(conversions[: max(len(steps) - 1, 0)]):
        nxt = steps[index + 1].value / highest * plot_h
        y = min(base - nxt / 2, base - 14)  # beside the shorter column: the gap is free there
        width = len(text) * CHAR + 10
        parts.append(
            _at(
                (index + 1) * slot,
                f'<g class="c-conversion"><rect x="{-width / 2:.1f}" y="-9" '
                f'width="{width:.1f}" height="18" rx="9"/>'
                f'<text x="0" y="4" text-anchor="middle">{escape(text)}</text></g>',
                y,
            )
        )
    return _svg(key, height, title, desc, "".join(parts))
