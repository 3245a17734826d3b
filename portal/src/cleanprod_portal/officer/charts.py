"""Server-side SVG bar chart for the officer's dashboard (no JavaScript; presentation attributes and classes from
portal.css only, so it passes the CSP and prints). Every chart is shown beside its data table.

Kept here until the generic `charts.py` (verifier's branch) is on main; the lead folds them together."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Series:
    name: str
    css_class: str  # fill colour from portal.css (`chart__bar--committed`, …)


@dataclass(frozen=True)
class StackedRow:
    label: str
    values: tuple[float, ...]  # one per series, stacked left to right


def stacked_bars(rows: list[StackedRow], series: list[Series], *, title: str, chart_id: str,
                 value_label=str, width: int = 720, bar_height: int = 26) -> Markup:  # noqa: ANN001
    """A horizontal stacked bar per row (e.g. budget committed + remaining per call), scaled to the largest total,
    with the row's label above its bar and a legend. `value_label` formats a value for the bars' titles."""
    label_height, gap, legend_height = 18, 14, 30
    height = legend_height + len(rows) * (label_height + bar_height + gap) + 4
    biggest = max((sum(r.values) for r in rows), default=0) or 1
    max_label = width // 8  # an SVG text does not wrap: a long label is cut (whole in its <title> and the table)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" role="img" '
             f'viewBox="0 0 {width} {height}" width="100%" aria-labelledby="{escape(chart_id)}-title">',
             f'<title id="{escape(chart_id)}-title">{escape(title)}</title>']
    x = 0
    for s in series:  # legend
        parts.append(f'<rect x="{x}" y="4" width="16" height="16" class="{escape(s.css_class)}"/>')
        parts.append(f'<text x="{x + 22}" y="17" class="chart__text">{escape(s.name)}</text>')
        x += 30 + 9 * len(s.name)
    y = legend_height
    for row in rows:
        shown = row.label if len(row.label) <= max_label else row.label[:max_label - 1].rstrip() + "…"
        parts.append(f'<text x="0" y="{y + 13}" class="chart__text">{escape(shown)}'
                     f'<title>{escape(row.label)}</title></text>')
        bar_y, left = y + label_height, 0.0
        for s, value in zip(series, row.values, strict=True):
            w = width * value / biggest
            if w > 0:
                parts.append(f'<rect x="{left:.1f}" y="{bar_y}" width="{w:.1f}" height="{bar_height}" '
                             f'class="{escape(s.css_class)}"><title>{escape(row.label)} – {escape(s.name)}: '
                             f'{escape(value_label(value))}</title></rect>')
            left += w
        y += label_height + bar_height + gap
    parts.append("</svg>")
    return Markup("".join(parts))
