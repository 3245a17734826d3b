"""Server-side SVG charts: a line chart with several named series over periods, and a bar chart (grouped or
stacked). No JavaScript, no inline `style` (the CSP forbids it): colours and dashes are SVG presentation
attributes, sizes and print rules are classes in portal.css. Every chart is an `<svg role="img">` labelled by
its `<title>` and `<desc>`, and carries the same figures as a data table (`templates/_chart.html` renders both:
`{% from "_chart.html" import chart_with_table %}{{ chart_with_table(chart) }}`).

Numbers on the axes and in the table follow the page's language (`formatting.number`: `1.234,5` in
Vietnamese). Series are told apart by colour *and* dash pattern *and* marker shape, so they stay readable when
printed in black and white.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from babel.numbers import format_decimal
from markupsafe import Markup, escape

from .formatting import BABEL_LOCALES, number
from .i18n import current_language

WIDTH, HEIGHT = 720, 360
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 90, 16, 16, 70
LEGEND_ROW = 26

# Okabe–Ito colours (distinguishable with colour-vision deficiencies), each with a dash and a marker.
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")
DASHES = ("", "8 4", "2 3", "10 3 2 3", "4 4", "12 2", "1 2")
MARKERS = ("circle", "square", "triangle", "diamond", "circle", "square", "triangle")

Number = int | float | Decimal


@dataclass
class Series:
    """A named series: one value per category/period (None = no value for that one)."""

    name: str
    values: list[Number | None]


@dataclass
class Chart:
    """What a template needs: the SVG and the table of the same figures."""

    chart_id: str
    title: str
    description: str
    svg: Markup
    categories: list[str]
    series: list[Series]
    category_label: str
    unit: str = ""
    decimals: int = 2
    table_rows: list[list[str]] = field(default_factory=list)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (steps of 1, 2, 2.5 or 5 × 10ⁿ); always includes 0 when in range."""
    if not math.isfinite(low) or not math.isfinite(high):
        return [0.0, 1.0]
    if high < low:
        low, high = high, low
    if high == low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value < high + step * 0.5:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _decimals_for(ticks: list[float]) -> int:
    if len(ticks) < 2:
        return 0
    step = abs(ticks[1] - ticks[0])
    return max(0, -math.floor(math.log10(step))) if step < 1 else (1 if step % 1 else 0)


def _fmt(value: Number | None, decimals: int, language: str | None) -> str:
    """A table cell: always `decimals` places (1.587,620 beside 1.745,858), so a column reads evenly."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=BABEL_LOCALES.get(language or current_language(), "vi_VN"))


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "square":
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{colour}"/>'
    if shape == "triangle":
        return (
            f'<polygon points="{x:.1f},{y - 4.5:.1f} {x + 4.5:.1f},{y + 3.5:.1f} {x - 4.5:.1f},{y + 3.5:.1f}"'
            f' fill="{colour}"/>'
        )
    if shape == "diamond":
        return (
            f'<polygon points="{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} {x - 5:.1f},{y:.1f}"'
            f' fill="{colour}"/>'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>'


class _Frame:
    """The plot area, the y scale and the axes shared by both chart kinds."""

    def __init__(
        self, categories: list[str], values: list[float], n_series: int, *, zero: bool = True, per_row: int = 3
    ) -> None:
        self.categories = categories
        self.per_row = per_row
        self.legend_height = LEGEND_ROW * math.ceil(n_series / per_row)
        self.height = HEIGHT + self.legend_height
        self.left, self.right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
        self.top, self.bottom = MARGIN_TOP, HEIGHT - MARGIN_BOTTOM
        low = min(values, default=0.0)
        high = max(values, default=1.0)
        if zero:
            low, high = min(low, 0.0), max(high, 0.0)
        self.ticks = nice_ticks(low, high)
        self.low, self.high = self.ticks[0], self.ticks[-1]

    def y(self, value: float) -> float:
        span = (self.high - self.low) or 1.0
        return self.bottom - (value - self.low) / span * (self.bottom - self.top)

    def band(self) -> float:
        return (self.right - self.left) / max(len(self.categories), 1)

    def x_centre(self, index: int) -> float:
        return self.left + self.band() * (index + 0.5)

    def axes(self, y_label: str, x_label: str, language: str | None) -> list[str]:
        parts = ['<g class="chart__grid">']
        decimals = _decimals_for(self.ticks)
        for tick in self.ticks:
            y = self.y(tick)
            parts.append(
                f'<line x1="{self.left}" y1="{y:.1f}" x2="{self.right}" y2="{y:.1f}" stroke="#d0d3d6"'
                f' stroke-width="1"/>'
            )
            parts.append(
                f'<text class="chart__tick" x="{self.left - 6}" y="{y + 4:.1f}" text-anchor="end"'
                f' font-size="16" fill="#0b0c0c">{escape(number(tick, decimals, language))}</text>'
            )
        parts.append("</g>")
        parts.append(
            f'<line class="chart__axis" x1="{self.left}" y1="{self.bottom}" x2="{self.right}"'
            f' y2="{self.bottom}" stroke="#0b0c0c" stroke-width="1.5"/>'
        )
        parts.append(
            f'<line class="chart__axis" x1="{self.left}" y1="{self.top}" x2="{self.left}"'
            f' y2="{self.bottom}" stroke="#0b0c0c" stroke-width="1.5"/>'
        )
        # Category labels: every one when they fit, else every n-th (the table has them all).
        # A 16 px label is about 10 px a character in the wider system fonts (DejaVu Sans), plus a gap.
        label_width = 10 * max((len(label) for label in self.categories), default=1) + 12
        every = max(1, math.ceil(len(self.categories) * label_width / (self.right - self.left)))
        for index, label in enumerate(self.categories):
            if index % every:
                continue
            x = self.x_centre(index)
            # a label that would run past the right edge ends there instead of being cut
            anchor = "end" if x + 5 * len(label) > WIDTH else "middle"
            x = min(x, WIDTH - 2.0) if anchor == "end" else x
            parts.append(
                f'<text class="chart__tick" x="{x:.1f}" y="{self.bottom + 18}" text-anchor="{anchor}"'
                f' font-size="16" fill="#0b0c0c">{escape(label)}</text>'
            )
        mid_y = (self.top + self.bottom) / 2
        parts.append(
            f'<text class="chart__label" x="16" y="{mid_y:.1f}" text-anchor="middle" font-size="16"'
            f' fill="#0b0c0c" transform="rotate(-90 16 {mid_y:.1f})">{escape(y_label)}</text>'
        )
        parts.append(
            f'<text class="chart__label" x="{(self.left + self.right) / 2:.1f}" y="{self.bottom + 40}"'
            f' text-anchor="middle" font-size="16" fill="#0b0c0c">{escape(x_label)}</text>'
        )
        return parts

    def legend(self, series: list[Series], kind: str) -> list[str]:
        parts = ['<g class="chart__legend">']
        column_width = (self.right - self.left) / self.per_row
        for index, item in enumerate(series):
            colour, dash = PALETTE[index % len(PALETTE)], DASHES[index % len(DASHES)]
            x = self.left + column_width * (index % self.per_row)
            y = HEIGHT - 6 + LEGEND_ROW * (index // self.per_row)
            if kind == "line":
                dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
                parts.append(
                    f'<line x1="{x:.1f}" y1="{y - 4}" x2="{x + 28:.1f}" y2="{y - 4}" stroke="{colour}"'
                    f' stroke-width="2.5"{dash_attr}/>'
                )
                parts.append(_marker(MARKERS[index % len(MARKERS)], x + 14, y - 4, colour))
            else:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y - 12}" width="16" height="16" fill="{colour}"'
                    f' stroke="#0b0c0c" stroke-width="0.5"/>'
                )
            parts.append(f'<text x="{x + 36:.1f}" y="{y}" font-size="16" fill="#0b0c0c">{escape(item.name)}</text>')
        parts.append("</g>")
        return parts


def _legend_columns(series: list[Series]) -> int:
    """Legend entries per row: three short names, two longer ones, one very long one (16 px text)."""
    longest = max((len(s.name) for s in series), default=0)
    return 3 if longest <= 14 else 2 if longest <= 24 else 1


def _open_svg(chart_id: str, title: str, description: str, height: int, kind: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart--{kind}" id="{escape(chart_id)}"'
        f' viewBox="0 0 {WIDTH} {height}" width="100%" role="img"'
        f' aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" font-family="system-ui, sans-serif">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
    ]


def _table_rows(categories: list[str], series: list[Series], decimals: int, language: str | None) -> list[list[str]]:
    return [
        [category] + [_fmt(s.values[i] if i < len(s.values) else None, decimals, language) for s in series]
        for i, category in enumerate(categories)
    ]


def _chart(
    chart_id: str,
    title: str,
    description: str,
    parts: list[str],
    categories: list[str],
    series: list[Series],
    x_label: str,
    unit: str,
    decimals: int,
    language: str | None,
) -> Chart:
    """The drawn SVG closed, with its data table (the same values, formatted for the language)."""
    svg = Markup("".join([*parts, "</svg>"]))
    rows = _table_rows(categories, series, decimals, language)
    return Chart(chart_id, title, description, svg, categories, series, x_label, unit, decimals, rows)


def _finite(series: list[Series]) -> list[float]:
    return [float(v) for s in series for v in s.values if v is not None and math.isfinite(float(v))]


def line_chart(
    chart_id: str,
    title: str,
    description: str,
    categories: list[str],
    series: list[Series],
    *,
    y_label: str,
    x_label: str,
    unit: str = "",
    decimals: int = 2,
    zero: bool = False,
    language: str | None = None,
) -> Chart:
    """One polyline per series over the categories (periods); a None value breaks the line."""
    frame = _Frame(categories, _finite(series), len(series), zero=zero, per_row=_legend_columns(series))
    parts = _open_svg(chart_id, title, description, frame.height, "line")
    parts += frame.axes(y_label, x_label, language)
    for index, item in enumerate(series):
        colour, dash = PALETTE[index % len(PALETTE)], DASHES[index % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<g class="chart__series" data-series="{escape(item.name)}">')
        segment: list[str] = []
        points: list[str] = []
        for i, value in enumerate(item.values[: len(categories)]):
            if value is None or not math.isfinite(float(value)):
                if len(segment) > 1:
                    parts.append(_polyline(segment, colour, dash_attr))
                segment = []
                continue
            x, y = frame.x_centre(i), frame.y(float(value))
            segment.append(f"{x:.1f},{y:.1f}")
            points.append(_marker(MARKERS[index % len(MARKERS)], x, y, colour))
        if len(segment) > 1:
            parts.append(_polyline(segment, colour, dash_attr))
        parts += points
        parts.append("</g>")
    parts += frame.legend(series, "line")
    return _chart(chart_id, title, description, parts, categories, series, x_label, unit, decimals, language)


def _polyline(points: list[str], colour: str, dash_attr: str) -> str:
    return (
        f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="2.5"'
        f' stroke-linejoin="round"{dash_attr}/>'
    )


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    categories: list[str],
    series: list[Series],
    *,
    y_label: str,
    x_label: str,
    unit: str = "",
    decimals: int = 2,
    stacked: bool = False,
    language: str | None = None,
) -> Chart:
    """Bars per category: side by side (grouped) or stacked (positive values stack up, negative down)."""
    if stacked:
        totals = []
        for i in range(len(categories)):
            values = [float(s.values[i]) for s in series if i < len(s.values) and s.values[i] is not None]
            totals += [sum(v for v in values if v > 0), sum(v for v in values if v < 0)]
        frame = _Frame(categories, totals, len(series), per_row=_legend_columns(series))
    else:
        frame = _Frame(categories, _finite(series), len(series), per_row=_legend_columns(series))
    parts = _open_svg(chart_id, title, description, frame.height, "bar")
    parts += frame.axes(y_label, x_label, language)
    band = frame.band()
    inner = band * 0.8
    width = inner if stacked else inner / max(len(series), 1)
    up = [0.0] * len(categories)
    down = [0.0] * len(categories)
    for index, item in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<g class="chart__series" data-series="{escape(item.name)}">')
        for i, value in enumerate(item.values[: len(categories)]):
            if value is None or not math.isfinite(float(value)):
                continue
            v = float(value)
            x = frame.left + band * i + band * 0.1 + (0 if stacked else width * index)
            if stacked:
                base = up[i] if v >= 0 else down[i]
                y1, y2 = frame.y(base), frame.y(base + v)
                if v >= 0:
                    up[i] += v
                else:
                    down[i] += v
            else:
                y1, y2 = frame.y(0.0), frame.y(v)
            top, height = min(y1, y2), abs(y2 - y1)
            label = f"{item.name}, {categories[i]}: {_fmt(value, decimals, language)}"
            parts.append(
                f'<rect x="{x:.1f}" y="{top:.1f}" width="{width:.1f}" height="{height:.1f}"'
                f' fill="{colour}" stroke="#0b0c0c" stroke-width="0.5"><title>{escape(label)}</title></rect>'
            )
        parts.append("</g>")
    parts += frame.legend(series, "bar")
    return _chart(chart_id, title, description, parts, categories, series, x_label, unit, decimals, language)
