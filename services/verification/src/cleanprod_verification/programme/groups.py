"""What a group of the programme summary is: its groupings and keys, the filter of a summary's parameters, and
the figures of one group — shared by the full pass (service.py) and the step over new conclusions (increments.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, cast, func
from sqlmodel.sql.expression import SelectOfScalar

from cleanprod_kit.local_time import LOCAL_TZ_NAME

from ..cases.models import VerificationCase
from ..conclusions.models import Conclusion
from .schemas import GroupSummary, PeriodKind

C, V = Conclusion, VerificationCase

# The groupings of the summary: (name in ProgrammeSummary, its key columns).
GROUPINGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("total", ()),
    ("by_sector", ("sector_code",)),
    ("by_district", ("district",)),
    ("by_ward", ("district", "ward")),
    ("by_period", ("period",)),
    ("by_sector_period", ("sector_code", "period")),
)
KEYS = ("sector_code", "district", "ward", "period")


def _period(kind: PeriodKind) -> Any:
    """The period of conclusion as text, Hanoi time: `2026-Q3` or `2026` (sorts in time order)."""
    local = func.timezone(LOCAL_TZ_NAME, C.concluded_at)
    return func.to_char(local, 'YYYY"-Q"Q' if kind == "quarter" else "YYYY")


def key_columns(period_kind: PeriodKind) -> dict[str, Any]:
    """Each key of KEYS as the SQL expression it is grouped by."""
    return {"sector_code": V.sector_code, "district": V.district, "ward": V.ward, "period": _period(period_kind)}


def matching(
    statement: SelectOfScalar[Any] | Any,
    *,
    sector: str | Any | None,
    concluded_from: dt.date | Any | None,
    concluded_to: dt.date | Any | None,
) -> Any:
    """`statement` (over conclusions joined with their cases) narrowed to what a summary's parameters count: each
    filter a value, a bound parameter, or None (no filter)."""
    local_day = cast(func.timezone(LOCAL_TZ_NAME, C.concluded_at), Date)
    if sector is not None:
        statement = statement.where(V.sector_code == sector)
    if concluded_from is not None:
        statement = statement.where(local_day >= concluded_from)
    if concluded_to is not None:
        statement = statement.where(local_day <= concluded_to)
    return statement


def key_of(row: Any, columns: tuple[str, ...]) -> tuple[Any, ...]:
    """A row's (or a GroupSummary's) key in a grouping."""
    return tuple(getattr(row, c) for c in columns)


def in_order(rows: list[Any], columns: tuple[str, ...]) -> list[Any]:
    """A grouping's rows in its keys' order, NULL last (as ORDER BY sorts them)."""
    return sorted(rows, key=lambda r: tuple((getattr(r, c) is None, getattr(r, c) or "") for c in columns))


@dataclass
class Totals:
    """The additive figures of a group (and its distinct enterprises), from which its GroupSummary follows."""

    enterprises: int = 0
    cases: int = 0
    verified: int = 0
    not_achieved: int = 0
    savings_toe: float = 0.0
    savings_gj: float = 0.0
    savings_tco2: float = 0.0
    adjusted_baseline_toe: float = 0.0

    @classmethod
    def of(cls, group: GroupSummary | None) -> Totals:
        if group is None:
            return cls()
        return cls(
            enterprises=group.enterprises,
            cases=group.cases,
            verified=group.verified,
            not_achieved=group.not_achieved,
            savings_toe=group.savings_toe,
            savings_gj=group.savings_gj,
            savings_tco2=group.savings_tco2,
            adjusted_baseline_toe=group.adjusted_baseline_toe,
        )


def group_summary(row: Any, target: float, **keys: Any) -> GroupSummary:
    """One group's figures from its totals (a row of the full pass, or Totals)."""
    adjusted = float(row.adjusted_baseline_toe)
    savings = float(row.savings_toe)
    share = savings / adjusted * 100.0 if adjusted > 0 else None
    return GroupSummary(
        **keys,
        enterprises=row.enterprises,
        cases=row.cases,
        verified=row.verified,
        not_achieved=row.not_achieved,
        savings_toe=savings,
        savings_gj=float(row.savings_gj),
        savings_tco2=float(row.savings_tco2),
        adjusted_baseline_toe=adjusted,
        savings_pct=share,
        target_pct=target,
        attainment_pct=share / target * 100.0 if share is not None else None,
        meets_target=share is not None and share + 1e-9 >= target,
    )
