"""Dates that make sense (issue 15): reporting starts after the project's completion, or on the reporting start
an officer approved; a period is recorded or concluded only once it has ended (Hà Nội's calendar); the frozen
baseline ends before the implementation starts. Each rule gives `errors[]` entries with catalogue codes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cleanprod_kit.errors import field_error
from cleanprod_kit.local_time import local_date
from cleanprod_kit.models import utcnow

from .models import VerificationCase


def today() -> dt.date:
    return local_date(utcnow())


def first_reporting_day(case: VerificationCase) -> tuple[dt.date | None, str]:
    """The first day a reporting period may start, and what it rests on. Before completion is reported, the
    planned implementation end stands in (the conclusion checks again against the reported completion)."""
    if case.reporting_start is not None:
        return case.reporting_start, "the reporting start an officer approved"
    if case.completed_on is not None:
        return case.completed_on + dt.timedelta(days=1), "the day after the project's completion"
    if case.implementation_end is not None:
        return case.implementation_end + dt.timedelta(days=1), "the day after the planned end of implementation"
    return None, ""


def reporting_period_errors(
    case: VerificationCase, start: dt.date, end: dt.date, *, prefix: str = "", on: dt.date | None = None
) -> list[dict[str, Any]]:
    errors = []
    first, _ = first_reporting_day(case)
    if first is not None and start < first:
        errors.append(
            field_error(
                f"{prefix}period_start",
                None,
                "reporting_before_completion",
                start=start,
                first_day=first,
            )
        )
    now = on or today()
    if end >= now:
        errors.append(field_error(f"{prefix}period_end", None, "period_not_ended", end=end, today=now))
    return errors


def baseline_errors(case: VerificationCase) -> list[dict[str, Any]]:
    """Frozen baseline periods that end on or after the first day of implementation."""
    if case.implementation_start is None:
        return []
    errors = []
    for i, p in enumerate(case.baseline):
        try:
            end = dt.date.fromisoformat(str(p.get("period_end")))
        except ValueError:
            continue  # an unreadable date is the computation's error, with its own field
        if end >= case.implementation_start:
            errors.append(
                field_error(
                    f"baseline[{i}].period_end",
                    None,
                    "baseline_after_implementation_start",
                    end=end,
                    implementation_start=case.implementation_start,
                )
            )
    return errors
