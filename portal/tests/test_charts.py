"""charts.py: the SVG parses as XML, is labelled for screen readers, and its series and points sit where the
values say; the table holds the same figures in the language's number format."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from cleanprod_portal import charts
from cleanprod_portal.templating import environment

SVG = "{http://www.w3.org/2000/svg}"
PERIODS = ["01/2025", "02/2025", "03/2025", "04/2025"]


def _line() -> charts.Chart:
    return charts.line_chart(
        "savings",
        "Năng lượng theo kỳ",
        "Đường nền, đường nền hiệu chỉnh và thực tế",
        PERIODS,
        [
            charts.Series("Đường nền", [100, 110, 120, 130]),
            charts.Series("Đường nền hiệu chỉnh", [95.5, 104, None, 125]),
            charts.Series("Thực tế", [90, 99.25, 108, 117]),
        ],
        y_label="Năng lượng (TOE)",
        x_label="Kỳ",
        unit="TOE",
        language="vi",
    )


def _points(series: ET.Element) -> list[tuple[float, float]]:
    return (
        [(float(c.get("cx")), float(c.get("cy"))) for c in series.iter(f"{SVG}circle")]
        + [(float(r.get("x")) + 3.5, float(r.get("y")) + 3.5) for r in series.iter(f"{SVG}rect")]
        + [
            (float(p.get("points").split()[0].split(",")[0]), float(p.get("points").split()[0].split(",")[1]) + 4.5)
            for p in series.iter(f"{SVG}polygon")
        ]
    )


def test_line_chart_is_accessible_xml_with_one_group_per_series() -> None:
    chart = _line()
    root = ET.fromstring(str(chart.svg))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(f"{SVG}title").get("id") == title_id
    assert root.find(f"{SVG}title").text == "Năng lượng theo kỳ"
    assert root.find(f"{SVG}desc").get("id") == desc_id
    assert "style" not in str(chart.svg)  # CSP: no inline styles
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "chart__series"]
    assert [g.get("data-series") for g in groups] == ["Đường nền", "Đường nền hiệu chỉnh", "Thực tế"]


def test_points_are_where_the_values_say() -> None:
    root = ET.fromstring(str(_line().svg))
    groups = {g.get("data-series"): g for g in root.iter(f"{SVG}g") if g.get("class") == "chart__series"}
    baseline = sorted(_points(groups["Đường nền"]))
    assert len(baseline) == 4
    xs = [x for x, _ in baseline]
    assert xs == sorted(xs) and len(set(xs)) == 4  # one per period, left to right
    ys = [y for _, y in baseline]
    assert ys[0] > ys[1] > ys[2] > ys[3]  # rising values → higher up (smaller y)
    steps = [ys[i] - ys[i + 1] for i in range(3)]
    assert max(steps) - min(steps) < 0.2  # equal increments → equal distances
    # The missing value leaves a gap: 3 markers, and the line is split.
    adjusted = groups["Đường nền hiệu chỉnh"]
    assert len(_points(adjusted)) == 3
    assert len(list(adjusted.iter(f"{SVG}polyline"))) == 1  # [95.5, 104] then a lone point at 125
    # Same value on two series → same height.
    actual = sorted(_points(groups["Thực tế"]))
    frame_y_100 = baseline[0][1]
    assert all(abs(y - frame_y_100) > 1 for _, y in actual)


def test_ticks_use_the_decimal_comma_in_vietnamese_and_the_point_in_english() -> None:
    series = [charts.Series("a", [0.25, 1.5])]
    vi = charts.line_chart("c", "t", "d", ["x", "y"], series, y_label="y", x_label="x", language="vi")
    en = charts.line_chart("c", "t", "d", ["x", "y"], series, y_label="y", x_label="x", language="en")
    vi_ticks = [t.text for t in ET.fromstring(str(vi.svg)).iter(f"{SVG}text") if t.get("class") == "chart__tick"]
    en_ticks = [t.text for t in ET.fromstring(str(en.svg)).iter(f"{SVG}text") if t.get("class") == "chart__tick"]
    assert "0,5" in vi_ticks and "0.5" in en_ticks
    assert vi.table_rows == [["x", "0,25"], ["y", "1,50"]]  # the table keeps its decimals: columns read evenly
    assert en.table_rows == [["x", "0.25"], ["y", "1.50"]]


def test_big_numbers_are_grouped() -> None:
    chart = charts.bar_chart(
        "b", "t", "d", ["A"], [charts.Series("s", [1234567.5])], y_label="y", x_label="x", decimals=1, language="vi"
    )
    assert chart.table_rows == [["A", "1.234.567,5"]]


@pytest.mark.parametrize("stacked", [False, True])
def test_bar_chart_heights_are_proportional(stacked: bool) -> None:
    chart = charts.bar_chart(
        "bars",
        "Tiết kiệm",
        "theo ngành",
        ["Thép", "Dệt may"],
        [charts.Series("TOE", [40, 20]), charts.Series("t CO₂", [10, 30])],
        y_label="y",
        x_label="ngành",
        stacked=stacked,
        language="vi",
    )
    root = ET.fromstring(str(chart.svg))
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "chart__series"]
    bars = [[r for r in g.iter(f"{SVG}rect")] for g in groups]
    heights = [[float(r.get("height")) for r in group] for group in bars]
    assert len(heights[0]) == 2 and len(heights[1]) == 2
    assert heights[0][0] == pytest.approx(2 * heights[0][1], rel=1e-2)
    assert heights[1][1] == pytest.approx(3 * heights[1][0], rel=1e-2)
    if stacked:  # the second series sits on top of the first
        assert float(bars[1][0].get("y")) + float(bars[1][0].get("height")) == pytest.approx(
            float(bars[0][0].get("y")), abs=0.2
        )
        assert float(bars[1][0].get("x")) == float(bars[0][0].get("x"))
    else:
        assert float(bars[1][0].get("x")) > float(bars[0][0].get("x"))
    assert bars[0][0].find(f"{SVG}title").text == "TOE, Thép: 40,00"


def test_nice_ticks_cover_the_range() -> None:
    ticks = charts.nice_ticks(3.2, 97.0)
    assert ticks[0] <= 3.2 and ticks[-1] >= 97.0
    assert charts.nice_ticks(5, 5)[-1] > 5
    steps = {round(ticks[i + 1] - ticks[i], 6) for i in range(len(ticks) - 1)}
    assert len(steps) == 1


def test_macro_renders_the_svg_and_the_table() -> None:
    template = environment.from_string('{% from "_chart.html" import chart_with_table %}{{ chart_with_table(chart) }}')
    html = template.render(chart=_line())
    assert html.count("<svg") == 1
    assert 'id="savings-table"' in html
    assert "<caption" in html and "Năng lượng theo kỳ (TOE)" in html
    assert html.count('<th scope="row">') == 4
    assert "99,25" in html and "108,00" in html and "–" in html  # the missing value is a dash in the table
