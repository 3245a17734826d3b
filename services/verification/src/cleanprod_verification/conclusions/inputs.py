"""From stored rows to the M&V computation's inputs (``mv.Period``), and M&V input errors back to the fields a
person fixes: the frozen baseline (``baseline[i]``), a measurement (``measurements[<id>]``) or the claim."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..measurements.models import Measurement, MeasurementRevision
from ..mv import CarrierQuantity, InputError, Period, Quantity


def _date(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return value  # the computation reports "start and end must be dates" with the field path


def _quantity(raw: Any) -> Quantity:
    raw = raw if isinstance(raw, dict) else {}
    return Quantity(raw.get("quantity"), raw.get("unit"))  # type: ignore[arg-type]


def period(start: Any, end: Any, production: Any, consumption: Any, cdd: Any, hdd: Any) -> Period:
    items = consumption if isinstance(consumption, list) else []
    return Period(
        start=_date(start),
        end=_date(end),
        production=_quantity(production),
        consumption=[
            CarrierQuantity(c.get("carrier"), c.get("quantity"), c.get("unit"))  # type: ignore[arg-type]
            for c in items
            if isinstance(c, dict)
        ],
        cdd=cdd,
        hdd=hdd,
    )


def baseline_periods(frozen: Sequence[dict[str, Any]]) -> list[Period]:
    return [
        period(
            p.get("period_start"),
            p.get("period_end"),
            p.get("production"),
            p.get("consumption"),
            p.get("cdd"),
            p.get("hdd"),
        )
        for p in frozen
    ]


def revision_period(rev: MeasurementRevision) -> Period:
    return period(
        rev.period_start,
        rev.period_end,
        {"quantity": rev.production_quantity, "unit": rev.production_unit},
        rev.consumption,
        rev.cdd,
        rev.hdd,
    )


@dataclass(frozen=True)
class ReportingInput:
    measurement: Measurement
    revision: MeasurementRevision

    def used(self) -> dict[str, Any]:
        return {
            "measurement_id": str(self.measurement.id),
            "revision": self.revision.revision,
            "period_start": self.revision.period_start.isoformat(),
            "period_end": self.revision.period_end.isoformat(),
            "estimated": self.revision.estimated,
        }


_INDEXED = re.compile(r"^(baseline_periods|reporting_periods)\[(\d+)\](.*)$")
_RENAMES = {".start": ".period_start", ".end": ".period_end"}


def _tail(rest: str) -> str:
    for old, new in _RENAMES.items():
        if rest == old:
            return new
    return rest


def map_problem_errors(errors: Sequence[InputError], reporting: Sequence[ReportingInput]) -> list[dict[str, str]]:
    """M&V field paths → the service's: baseline[i].period_start, measurements[<id>].consumption[0].unit, ..."""
    out = []
    for error in errors:
        for item in error.as_problem_errors():
            field, message = item["field"], item["message"]
            match = _INDEXED.match(field)
            if match:
                kind, index, rest = match.group(1), int(match.group(2)), _tail(match.group(3))
                if kind == "baseline_periods":
                    field = f"baseline[{index}]{rest}"
                elif index < len(reporting):
                    ref = reporting[index]
                    field = f"measurements[{ref.measurement.id}]{rest}"
                    message = f"{message} (measurement {ref.measurement.id}, revision {ref.revision.revision})"
                message = _name_siblings(message, reporting)
            elif field == "baseline_periods":
                field = "baseline"
            elif field == "reporting_periods":
                field = "measurements"
            out.append({"field": field, "message": message, "code": item["code"]})
    return out


_SIBLING = re.compile(r"(baseline_periods|reporting_periods)\[(\d+)\]")


def _name_siblings(message: str, reporting: Sequence[ReportingInput]) -> str:
    """Messages that name another period ("overlaps reporting_periods[3] (...)") name it our way."""

    def rename(match: re.Match[str]) -> str:
        index = int(match.group(2))
        if match.group(1) == "baseline_periods":
            return f"baseline[{index}]"
        return f"measurement {reporting[index].measurement.id}" if index < len(reporting) else match.group(0)

    return _SIBLING.sub(rename, message)
