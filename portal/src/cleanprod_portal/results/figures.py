"""The results pages' charts, tables and CSV, built from the verification service's summary (staff:
`GET /programme/summary`, public: `GET /public/results` — the same group shape, the public one without
ward, counts of cases or adjusted baselines). No figure is computed here: the API's numbers are shown."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from ..charts import Chart, Series, bar_chart, line_chart
from ..i18n import current_language, gettext

GROUPINGS = ("sector", "district", "ward", "period")
UPPER_TARGET_PCT = 8.0  # the programme's range is 6–8 %; the API's target is its lower end


def sector_label(code: str | None, names: Mapping[str, str]) -> str:
    return names.get(code or "", code or gettext("No sector"))


def group_label(group: Mapping[str, Any], grouping: str, names: Mapping[str, str]) -> str:
    if grouping == "sector":
        return sector_label(group.get("sector_code"), names)
    if grouping == "ward":
        return f"{group.get('ward') or gettext('No ward')}, {group.get('district') or gettext('No district')}"
    if grouping == "period":
        return str(group.get("period") or "")
    return str(group.get("district") or gettext("No district"))


def period_label(period: str) -> str:
    """`2026-Q3` → `Q3/2026` (vi `Quý 3/2026`); a year stays as it is."""
    if "-Q" in period:
        year, quarter = period.split("-Q")
        return gettext("Q%(quarter)s/%(year)s", quarter=quarter, year=year)
    return period


def savings_over_time(groups: Sequence[Mapping[str, Any]], target: float, chart_id: str) -> Chart:
    periods = [period_label(str(g["period"])) for g in groups]
    return line_chart(
        chart_id,
        gettext("Verified savings over time"),
        gettext(
            "Energy-weighted verified savings of the projects concluded in each period, against the "
            "programme target of 6–8 %."
        ),
        periods,
        [
            Series(gettext("Verified savings"), [g.get("savings_pct") for g in groups]),
            Series(gettext("Target (lower end)"), [target] * len(groups)),
            Series(gettext("Target (upper end)"), [UPPER_TARGET_PCT] * len(groups)),
        ],
        y_label="%",
        x_label=gettext("Period of conclusion"),
        unit="%",
        decimals=1,
        zero=True,
        language=current_language(),
    )


def savings_by(
    groups: Sequence[Mapping[str, Any]],
    grouping: str,
    names: Mapping[str, str],
    target: float,
    chart_id: str,
    title: str,
) -> Chart:
    categories = [group_label(g, grouping, names) for g in groups]
    return bar_chart(
        chart_id,
        title,
        gettext("Verified savings in percent of the adjusted baseline per group, beside the programme target."),
        categories,
        [
            Series(gettext("Verified savings"), [g.get("savings_pct") for g in groups]),
            Series(gettext("Target (lower end)"), [target] * len(groups)),
        ],
        y_label="%",
        x_label=title,
        unit="%",
        decimals=1,
        language=current_language(),
    )


def csv_text(groups: Sequence[Mapping[str, Any]], grouping: str, names: Mapping[str, str], *, public: bool) -> str:
    """The groups as CSV (UTF-8 with BOM for Excel, comma, decimal point: the API's values unrounded)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    keys = {"sector": ["sector_code"], "district": ["district"], "ward": ["district", "ward"], "period": ["period"]}[
        grouping
    ]
    figures = [
        "enterprises",
        "verified",
        "savings_toe",
        "savings_gj",
        "savings_tco2",
        "savings_pct",
        "target_pct",
        "meets_target",
    ]
    if not public:
        figures[1:2] = ["cases", "verified", "not_achieved"]
        figures[-2:-2] = ["adjusted_baseline_toe", "attainment_pct"]
    header = keys + (["sector_name"] if grouping == "sector" else []) + figures
    writer.writerow(header)
    for g in groups:
        row = (
            [g.get(k) for k in keys]
            + ([sector_label(g.get("sector_code"), names)] if grouping == "sector" else [])
            + [g.get(k) for k in figures]
        )
        writer.writerow(["" if v is None else ("true" if v is True else "false" if v is False else v) for v in row])
    return "\ufeff" + out.getvalue()
