"""The verifier's chart: energy per period — the baseline periods as recorded, and for each reporting period the
adjusted baseline (what the facility would have used without the project) and the actual use, in TOE.

The API gives the computation's inputs period by period (`inputs.periods`: production, degree-days, TOE per
carrier) and the model it chose (`model` coefficients, `sec`), but the adjusted baseline only as a total. Each
period's value is the same formula applied to that period — E = a + b·P (+ c·CDD + d·HDD) when the regression
figure is the one used, SEC_baseline × P otherwise — so the plotted points add up to the API's total (the e2e
test checks that they do)."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from .. import charts
from ..i18n import gettext


def period_label(start: str, end: str) -> str:
    first, last = dt.date.fromisoformat(str(start)[:10]), dt.date.fromisoformat(str(end)[:10])
    if first.day == 1 and last == first.replace(day=calendar.monthrange(first.year, first.month)[1]):
        return f"{first:%m/%Y}"
    return f"{first:%d/%m/%Y}–{last:%d/%m/%Y}"


def uses_regression(result: dict[str, Any]) -> bool:
    method, binding = result.get("method"), result.get("binding_estimate")
    return bool(result.get("model")) and (method == "regression" or binding == "regression")


def adjusted_baseline(period: dict[str, Any], result: dict[str, Any]) -> float | None:
    """The adjusted baseline of one reporting period (TOE)."""
    model = result.get("model") or {}
    if uses_regression(result):
        total = 0.0
        for variable, coefficient in zip(model.get("variables", []), model.get("coefficients", []), strict=False):
            if variable == "intercept":
                total += coefficient
            else:
                value = period.get(variable)
                if value is None:
                    return None
                total += coefficient * float(value)
        return total
    sec = (result.get("sec") or {}).get("sec_baseline")
    return None if sec is None else float(sec) * float(period.get("production") or 0)


def energy_chart(result: dict[str, Any], language: str | None = None) -> charts.Chart:
    periods = sorted((result.get("inputs") or {}).get("periods", []), key=lambda p: str(p.get("start")))
    labels, baseline, adjusted, actual = [], [], [], []
    for period in periods:
        labels.append(period_label(period["start"], period["end"]))
        energy = sum(float(v) for v in (period.get("energy_toe") or {}).values())
        if period.get("role") == "baseline":
            baseline.append(energy)
            adjusted.append(None)
            actual.append(None)
        else:
            baseline.append(None)
            adjusted.append(adjusted_baseline(period, result))
            actual.append(energy)
    series = [
        charts.Series(gettext("Baseline (before the project)"), baseline),
        charts.Series(gettext("Adjusted baseline"), adjusted),
        charts.Series(gettext("Actual"), actual),
    ]
    return charts.line_chart(
        "energy-chart",
        gettext("Energy use per period (TOE)"),
        gettext(
            "Energy use of the baseline periods, and for each reporting period the adjusted baseline and the "
            "actual use. The table below gives the same figures."
        ),
        labels,
        series,
        y_label=gettext("Energy (TOE)"),
        x_label=gettext("Period"),
        unit="TOE",
        decimals=3,
        language=language,
    )
