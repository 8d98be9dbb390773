"""Charts rendered on the server as SVG: no JavaScript, no CDN, no inline styles.

Every function returns ``Markup`` to put in a template as is (``{{ chart }}``). Labels and titles
are escaped; colours come from CSS classes in ``core/static/crm.css`` (``crm-chart``,
``crm-series-0`` … ``crm-series-5``), so the Content-Security-Policy (no inline styles) holds and a
theme can restyle them. Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>``
for screen readers, and each bar or point has its own ``<title>`` (the browser's tooltip) with the
exact figure. Show the same figures as a table next to the chart: a chart is never the only place
a number is.

- ``bar_chart(labels, series, title, *, width=640, height=260, unit="")``: grouped bars, one group
  per label, one bar per series (``series`` maps a name to one value per label, ``Decimal``, int
  or float; ``None`` counts as 0). Negative values go below the zero line.
- ``line_chart(labels, series, title, *, width=640, height=260, unit="")``: one line per series.
- ``stacked_bar_chart(labels, series, title, ...)``: one bar per label, the series stacked in it
  (positive values upwards from zero; a negative one is drawn from zero downwards).
- ``pie_chart(labels, values, title, *, width=640, height=260, unit="")``: a slice per label of
  the positive values, with a legend; the figures are in each slice's tooltip.
- ``heat_class(value, low, high)``: the CSS class (``crm-heat-0`` … ``crm-heat-5``) that shades a
  table cell by where ``value`` lies between ``low`` and ``high`` (a pivot table's heat map).
- ``sparkline(values, title="Trend", *, width=120, height=28)``: a tiny line without axes, for a
  table cell or a card.

``unit`` is appended to the figures in tooltips and on the axis ("EUR"). Values are converted to
float only to place shapes; the text shows them as given.

Example::

    from core.charts import bar_chart
    chart = bar_chart(["Q1", "Q2"], {"2025": [Decimal("10.50"), Decimal("12")],
                                     "2026": [Decimal("11"), Decimal("0")]}, "Turnover by quarter")
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal

from markupsafe import Markup, escape

Number = Decimal | int | float | None
SERIES_CLASSES = 6
_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 64, 12, 12, 58


def _float(value: Number) -> float:
    return float(value or 0)


def _text(value: Number) -> str:
    if value is None:
        return "0"
    if isinstance(value, Decimal):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}"


def _chart_id(kind: str, title: str, labels: Sequence[str]) -> str:
    digest = hashlib.sha256(f"{kind}|{title}|{'|'.join(labels)}".encode()).hexdigest()[:10]
    return f"crm-chart-{digest}"


def _nice_step(span: float, steps: int = 4) -> float:
    if span <= 0:
        return 1.0
    raw = span / steps
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def _scale(values: list[float]) -> tuple[float, float, float]:
    """(low, high, step) of the y axis: zero included, rounded out to whole steps."""
    low, high = min([0.0, *values]), max([0.0, *values])
    step = _nice_step(high - low)
    return math.floor(low / step) * step, max(math.ceil(high / step) * step, step), step


def _tick_label(value: float) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if abs(value) >= 10_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


def _frame(
    kind: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[Number]],
    title: str,
    width: int,
    height: int,
    unit: str,
):
    labels = [str(label) for label in labels]
    names = list(series)
    for name in names:
        if len(series[name]) != len(labels):
            raise ValueError(f"series {name!r} has {len(series[name])} values for {len(labels)}")
    values = [_float(v) for name in names for v in series[name]]
    low, high, step = _scale(values)
    plot_w = width - _MARGIN_LEFT - _MARGIN_RIGHT
    plot_h = height - _MARGIN_TOP - _MARGIN_BOTTOM

    def y(value: float) -> float:
        return _MARGIN_TOP + plot_h * (high - value) / (high - low)

    chart_id = _chart_id(kind, title, labels)
    summary = "; ".join(
        f"{name}: "
        + ", ".join(f"{label} {_text(v)}" for label, v in zip(labels, series[name], strict=True))
        for name in names
    )
    parts = [
        f'<svg class="crm-chart crm-chart-{kind}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(summary)}</desc>',
    ]
    tick = low
    while tick <= high + step / 1000:
        ty = y(tick)
        parts.append(
            f'<line class="crm-chart-grid{" crm-chart-zero" if tick == 0 else ""}" '
            f'x1="{_MARGIN_LEFT}" x2="{width - _MARGIN_RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}"/>'
        )
        parts.append(
            f'<text class="crm-chart-axis" x="{_MARGIN_LEFT - 6}" y="{ty + 4:.1f}" '
            f'text-anchor="end">{escape(_tick_label(tick))}</text>'
        )
        tick += step
    if unit:
        parts.append(
            f'<text class="crm-chart-axis" x="4" y="{_MARGIN_TOP + 4}">{escape(unit)}</text>'
        )
    legend_y = height - 8
    for index, name in enumerate(names):
        lx = _MARGIN_LEFT + index * 110
        parts.append(
            f'<rect class="crm-series-{index % SERIES_CLASSES}" x="{lx}" y="{legend_y - 9}" '
            f'width="10" height="10"/>'
            f'<text class="crm-chart-legend" x="{lx + 14}" y="{legend_y}">{escape(name)}</text>'
        )
    return labels, names, plot_w, plot_h, y, parts


_CHAR_WIDTH = 6.2  # px of an average character at the axis' 11px font


def _wrap(label: str, room: float) -> list[str]:
    """``label`` in at most two lines that fit ``room`` px; the rest cut with an ellipsis (the
    whole label stays in each shape's tooltip and in the accessible description)."""
    fits = max(3, int(room / _CHAR_WIDTH))
    lines: list[str] = []
    for word in label.split():
        if lines and len(lines[-1]) + 1 + len(word) <= fits:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > 2:
        lines = [lines[0], " ".join(lines[1:])]
    return [line if len(line) <= fits else line[: fits - 1] + "\u2026" for line in lines]


def _x_labels(labels: list[str], centres: list[float], height: int) -> list[str]:
    every = max(1, math.ceil(len(labels) / 12))  # at most a dozen labels under the axis
    room = (centres[1] - centres[0]) * every - 4 if len(centres) > 1 else 200.0
    texts = []
    for i, (label, cx) in enumerate(zip(labels, centres, strict=True)):
        if i % every:
            continue
        lines = _wrap(label, room)
        spans = "".join(
            f'<tspan x="{cx:.1f}" dy="{0 if n == 0 else 12}">{escape(line)}</tspan>'
            for n, line in enumerate(lines)
        )
        texts.append(
            f'<text class="crm-chart-axis" x="{cx:.1f}" y="{height - _MARGIN_BOTTOM + 16}" '
            f'text-anchor="middle">{spans}</text>'
        )
    return texts


def bar_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[Number]],
    title: str,
    *,
    width: int = 640,
    height: int = 260,
    unit: str = "",
) -> Markup:
    """Grouped bars: one group per label, one bar per series."""
    labels, names, plot_w, _plot_h, y, parts = _frame(
        "bar", labels, series, title, width, height, unit
    )
    if labels:
        slot = plot_w / len(labels)
        bar_w = slot * 0.8 / max(len(names), 1)
        centres = [_MARGIN_LEFT + slot * (i + 0.5) for i in range(len(labels))]
        suffix = f" {unit}" if unit else ""
        for s, name in enumerate(names):
            for i, value in enumerate(series[name]):
                v = _float(value)
                top, bottom = (y(v), y(0)) if v >= 0 else (y(0), y(v))
                x = _MARGIN_LEFT + slot * i + slot * 0.1 + bar_w * s
                parts.append(
                    f'<rect class="crm-series-{s % SERIES_CLASSES}" x="{x:.1f}" y="{top:.1f}" '
                    f'width="{bar_w:.1f}" height="{max(bottom - top, 0):.1f}">'
                    f"<title>{escape(labels[i])}, {escape(name)}: "
                    f"{escape(_text(value))}{escape(suffix)}</title></rect>"
                )
        parts += _x_labels(labels, centres, height)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def line_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[Number]],
    title: str,
    *,
    width: int = 640,
    height: int = 260,
    unit: str = "",
) -> Markup:
    """One line per series, a point (with its tooltip) per label."""
    labels, names, plot_w, _plot_h, y, parts = _frame(
        "line", labels, series, title, width, height, unit
    )
    if labels:
        slot = plot_w / len(labels)
        centres = [_MARGIN_LEFT + slot * (i + 0.5) for i in range(len(labels))]
        suffix = f" {unit}" if unit else ""
        for s, name in enumerate(names):
            css = f"crm-series-{s % SERIES_CLASSES}"
            points = " ".join(
                f"{cx:.1f},{y(_float(v)):.1f}" for cx, v in zip(centres, series[name], strict=True)
            )
            parts.append(f'<polyline class="crm-chart-line {css}" points="{points}"/>')
            for i, (cx, value) in enumerate(zip(centres, series[name], strict=True)):
                parts.append(
                    f'<circle class="{css}" cx="{cx:.1f}" cy="{y(_float(value)):.1f}" r="3">'
                    f"<title>{escape(labels[i])}, {escape(name)}: "
                    f"{escape(_text(value))}{escape(suffix)}</title></circle>"
                )
        parts += _x_labels(labels, centres, height)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def stacked_bar_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[Number]],
    title: str,
    *,
    width: int = 640,
    height: int = 260,
    unit: str = "",
) -> Markup:
    """One bar per label, its series stacked."""
    totals = {
        "up": [sum(max(_float(series[n][i]), 0) for n in series) for i in range(len(labels))],
        "down": [sum(min(_float(series[n][i]), 0) for n in series) for i in range(len(labels))],
    }
    labels, names, plot_w, _plot_h, y, parts = _frame(
        "stacked", labels, totals, title, width, height, unit
    )
    # _frame drew the legend of the two extents; the legend shows the series instead.
    parts = [p for p in parts if "crm-chart-legend" not in p]
    legend_y = height - 8
    for index, name in enumerate(series):
        lx = _MARGIN_LEFT + index * 110
        parts.append(
            f'<rect class="crm-series-{index % SERIES_CLASSES}" x="{lx}" y="{legend_y - 9}" '
            f'width="10" height="10"/>'
            f'<text class="crm-chart-legend" x="{lx + 14}" y="{legend_y}">{escape(name)}</text>'
        )
    if labels:
        slot = plot_w / len(labels)
        centres = [_MARGIN_LEFT + slot * (i + 0.5) for i in range(len(labels))]
        suffix = f" {unit}" if unit else ""
        for i in range(len(labels)):
            up = down = 0.0
            for s, name in enumerate(series):
                value = series[name][i]
                v = _float(value)
                if v >= 0:
                    top, bottom, up = y(up + v), y(up), up + v
                else:
                    top, bottom, down = y(down), y(down + v), down + v
                parts.append(
                    f'<rect class="crm-series-{s % SERIES_CLASSES}" '
                    f'x="{centres[i] - slot * 0.35:.1f}" '
                    f'y="{top:.1f}" width="{slot * 0.7:.1f}" height="{max(bottom - top, 0):.1f}">'
                    f"<title>{escape(labels[i])}, {escape(name)}: "
                    f"{escape(_text(value))}{escape(suffix)}</title></rect>"
                )
        parts += _x_labels(labels, centres, height)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def pie_chart(
    labels: Sequence[str],
    values: Sequence[Number],
    title: str,
    *,
    width: int = 640,
    height: int = 260,
    unit: str = "",
) -> Markup:
    """A slice per label (values below zero are left out: a pie has no negative slices)."""
    labels = [str(label) for label in labels]
    if len(values) != len(labels):
        raise ValueError(f"{len(values)} values for {len(labels)} labels")
    positive = [(label, v) for label, v in zip(labels, values, strict=True) if _float(v) > 0]
    whole = sum(_float(v) for _, v in positive) or 1.0
    chart_id = _chart_id("pie", title, labels)
    suffix = f" {unit}" if unit else ""
    summary = "; ".join(f"{label} {_text(v)}" for label, v in zip(labels, values, strict=True))
    radius = min(height / 2 - 12, width / 4)
    cx, cy = radius + 12, height / 2
    parts = [
        f'<svg class="crm-chart crm-chart-pie" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(summary)}</desc>',
    ]
    angle = -math.pi / 2
    for s, (label, value) in enumerate(positive):
        share = _float(value) / whole
        css = f"crm-series-{s % SERIES_CLASSES}"
        tooltip = (
            f"<title>{escape(label)}: {escape(_text(value))}{escape(suffix)} ({share:.0%})</title>"
        )
        if share >= 0.9999:
            circle = f'cx="{cx:.1f}" cy="{cy:.1f}" r="{radius:.1f}"'
            parts.append(f'<circle class="{css}" {circle}>{tooltip}</circle>')
        else:
            end = angle + share * 2 * math.pi
            x1, y1 = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
            x2, y2 = cx + radius * math.cos(end), cy + radius * math.sin(end)
            large = 1 if share > 0.5 else 0
            parts.append(
                f'<path class="{css}" d="M{cx:.1f},{cy:.1f} L{x1:.1f},{y1:.1f} '
                f'A{radius:.1f},{radius:.1f} 0 {large} 1 {x2:.1f},{y2:.1f} Z">{tooltip}</path>'
            )
            angle = end
        ly = 16 + s * 18
        if ly < height - 4:
            lx = cx + radius + 24
            parts.append(
                f'<rect class="{css}" x="{lx:.1f}" y="{ly - 9}" width="10" height="10"/>'
                f'<text class="crm-chart-legend" x="{lx + 14:.1f}" y="{ly}">'
                f"{escape(label)} ({share:.0%})</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


HEAT_LEVELS = 6


def heat_class(value: Number, low: Number, high: Number) -> str:
    """``crm-heat-0`` (lowest) … ``crm-heat-5`` (highest) for a table cell of a heat map."""
    if value is None:
        return "crm-heat-none"
    span = _float(high) - _float(low)
    if span <= 0:
        return f"crm-heat-{HEAT_LEVELS - 1}"
    level = int((_float(value) - _float(low)) / span * (HEAT_LEVELS - 1) + 0.5)
    return f"crm-heat-{min(max(level, 0), HEAT_LEVELS - 1)}"


def sparkline(
    values: Sequence[Number], title: str = "Trend", *, width: int = 120, height: int = 28
) -> Markup:
    """A tiny trend line without axes; the title and the figures are its accessible text."""
    numbers = [_float(v) for v in values]
    low, high = min([0.0, *numbers]), max([0.0, *numbers])
    span = (high - low) or 1.0
    step = width / max(len(numbers) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{2 + (height - 4) * (high - v) / span:.1f}" for i, v in enumerate(numbers)
    )
    figures = ", ".join(_text(v) for v in values)
    chart_id = _chart_id("spark", title, [figures])
    return Markup(  # noqa: S704 - every text is escaped
        f'<svg class="crm-sparkline" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="{chart_id}-title">'
        f'<title id="{chart_id}-title">{escape(title)}: {escape(figures)}</title>'
        f'<polyline class="crm-chart-line crm-series-0" points="{points}"/></svg>'
    )
