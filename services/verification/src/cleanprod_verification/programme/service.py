"""The programme summary: verified savings by sector and by ward/district against the programme target.

Savings are summed over every concluded case (a project that fell short of its claim still saved what the M&V
verified, and that counts toward the programme's reduction); the percentage is energy-weighted:
Σ savings / Σ adjusted baseline. Counts show how many cases were verified and not achieved.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from typing import Any

from sqlalchemy import Date, String, cast, func, text, tuple_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.local_time import LOCAL_TZ_NAME

from ..cases.models import VerificationCase
from ..conclusions.models import Conclusion
from .schemas import GroupSummary, PeriodKind, ProgrammeSummary, PublicGroup, PublicResults

C, V = Conclusion, VerificationCase


def _measures() -> list[Any]:
    return [
        func.count().label("cases"),
        func.count(
            func.distinct(
                func.coalesce(V.enterprise_tax_code, cast(V.enterprise_id, String), cast(V.facility_id, String))
            )
        ).label("enterprises"),
        func.count().filter(C.verdict == "verified").label("verified"),
        func.count().filter(C.verdict == "not_achieved").label("not_achieved"),
        func.coalesce(func.sum(C.savings_toe), 0.0).label("savings_toe"),
        func.coalesce(func.sum(C.savings_gj), 0.0).label("savings_gj"),
        func.coalesce(func.sum(C.savings_tco2), 0.0).label("savings_tco2"),
        func.coalesce(func.sum(C.adjusted_baseline_toe), 0.0).label("adjusted_baseline_toe"),
    ]


def _group(row: Any, target: float, **keys: Any) -> GroupSummary:
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


def _period(kind: PeriodKind) -> Any:
    """The period of conclusion as text, Hanoi time: `2026-Q3` or `2026` (sorts in time order)."""
    local = func.timezone(LOCAL_TZ_NAME, C.concluded_at)
    return func.to_char(local, 'YYYY"-Q"Q' if kind == "quarter" else "YYYY")


# The groupings of the summary, read in one pass over the conclusions (GROUPING SETS) instead of one query each:
# (name, its key columns). `grouping(...)` tells the rows of one grouping from another's, also where a key is NULL.
GROUPINGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("total", ()),
    ("by_sector", ("sector_code",)),
    ("by_district", ("district",)),
    ("by_ward", ("district", "ward")),
    ("by_period", ("period",)),
    ("by_sector_period", ("sector_code", "period")),
)
KEYS = ("sector_code", "district", "ward", "period")


def _grouping_id(columns: tuple[str, ...]) -> int:
    """PostgreSQL's `grouping(sector_code, district, ward, period)` of the rows grouped by `columns`: a bit per
    key, most significant first, set when the key is *not* grouped on."""
    return sum(1 << (len(KEYS) - 1 - i) for i, key in enumerate(KEYS) if key not in columns)


def _in_order(rows: list[Any], columns: tuple[str, ...]) -> list[Any]:
    """A grouping's rows in its keys' order, NULL last (as ORDER BY sorts them)."""
    return sorted(rows, key=lambda r: tuple((getattr(r, c) is None, getattr(r, c) or "") for c in columns))


async def summary(
    session: AsyncSession,
    *,
    target: float,
    sector: str | None,
    concluded_from: dt.date | None,
    concluded_to: dt.date | None,
    period_kind: PeriodKind = "quarter",
) -> ProgrammeSummary:
    local_day = cast(func.timezone(LOCAL_TZ_NAME, C.concluded_at), Date)
    keys = {
        "sector_code": V.sector_code,
        "district": V.district,
        "ward": V.ward,
        "period": _period(period_kind),
    }
    statement = (
        select(
            *[column.label(name) for name, column in keys.items()],
            func.grouping(*keys.values()).label("grouping_id"),
            *_measures(),
        )
        .select_from(C)
        .join(V, V.id == C.case_id)
        .group_by(func.grouping_sets(*[tuple_(*[keys[c] for c in columns]) for _, columns in GROUPINGS]))
    )
    if sector:
        statement = statement.where(V.sector_code == sector)
    if concluded_from:
        statement = statement.where(local_day >= concluded_from)
    if concluded_to:
        statement = statement.where(local_day <= concluded_to)
    rows = (await session.exec(statement)).all()
    grouped: dict[str, list[Any]] = {}
    for name, columns in GROUPINGS:
        grouped[name] = _in_order([r for r in rows if r.grouping_id == _grouping_id(columns)], columns)
    (total,) = grouped["total"]  # the empty grouping set gives one row, also when no conclusion matches
    return ProgrammeSummary(
        target_pct=target,
        concluded_from=concluded_from,
        concluded_to=concluded_to,
        period_kind=period_kind,
        by_period=[_group(r, target, period=r.period) for r in grouped["by_period"]],
        by_sector_period=[
            _group(r, target, sector_code=r.sector_code, period=r.period) for r in grouped["by_sector_period"]
        ],
        total=_group(total, target),
        by_sector=[_group(r, target, sector_code=r.sector_code) for r in grouped["by_sector"]],
        by_district=[_group(r, target, district=r.district) for r in grouped["by_district"]],
        by_ward=[_group(r, target, district=r.district, ward=r.ward) for r in grouped["by_ward"]],
    )


GENERATION = text("SELECT generation FROM programme_summary_generation WHERE id = 1")


class Summaries:
    """Computed summaries kept by (generation, parameters) and reused while the generation stays — so reading the
    summary costs one primary-key read, whatever the number of conclusions, and a pass over them once per change.

    Exact: the generation row moves on in the very transaction that writes a conclusion or changes a case's grouping
    columns (triggers, migration 0005; conclusions are insert-only), and it is read *before* the summary is computed,
    so what is kept under n is at least as new as n. One per app (`app.state`): each app has its own database."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._kept: OrderedDict[tuple[Any, ...], ProgrammeSummary] = OrderedDict()

    async def get(self, session: AsyncSession, **parameters: Any) -> ProgrammeSummary:
        generation = (await session.exec(GENERATION)).one()[0]  # type: ignore[call-overload]
        key = (generation, *sorted(parameters.items()))
        kept = self._kept.get(key)
        if kept is not None:
            self._kept.move_to_end(key)
            return kept
        computed = await summary(session, **parameters)
        self._kept[key] = computed
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)  # the least recently read, e.g. those of past generations
        return computed


def _public(group: GroupSummary) -> PublicGroup:
    return PublicGroup(
        sector_code=group.sector_code,
        district=group.district,
        period=group.period,
        enterprises=group.enterprises,
        verified=group.verified,
        savings_toe=group.savings_toe,
        savings_gj=group.savings_gj,
        savings_tco2=group.savings_tco2,
        savings_pct=group.savings_pct,
        target_pct=group.target_pct,
        meets_target=group.meets_target,
    )


def public_results(full: ProgrammeSummary, min_enterprises: int) -> PublicResults:
    """The public face of the summary: only the aggregates, and no group of fewer than `min_enterprises`
    enterprises (a group of one would be that enterprise's own figures). The total is suppressed the same way."""
    suppressed = 0

    def keep(groups: list[GroupSummary]) -> list[PublicGroup]:
        nonlocal suppressed
        shown = [g for g in groups if g.enterprises >= min_enterprises]
        suppressed += len(groups) - len(shown)
        return [_public(g) for g in shown]

    total = _public(full.total) if full.total.enterprises >= min_enterprises else None
    return PublicResults(
        target_pct=full.target_pct,
        period_kind=full.period_kind,
        min_enterprises=min_enterprises,
        total=total,
        by_sector=keep(full.by_sector),
        by_district=keep(full.by_district),
        by_period=keep(full.by_period),
        suppressed_groups=suppressed,
    )
