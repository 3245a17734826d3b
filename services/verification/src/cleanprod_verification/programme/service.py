"""The programme summary: verified savings by sector and by ward/district against the programme target.

Savings are summed over every concluded case (a project that fell short of its claim still saved what the M&V
verified, and that counts toward the programme's reduction); the percentage is energy-weighted:
Σ savings / Σ adjusted baseline. Counts show how many cases were verified and not achieved.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from typing import Any

from sqlalchemy import func, tuple_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.db import Database, Read

from . import increments
from .groups import GROUPINGS, KEYS, C, V, group_summary, in_order, key_columns, matching
from .models import ENTERPRISE_KEY, SummaryGeneration
from .schemas import GroupSummary, PeriodKind, ProgrammeSummary, PublicGroup, PublicResults


def _measures() -> list[Any]:
    return [
        func.count().label("cases"),
        func.count(func.distinct(ENTERPRISE_KEY)).label("enterprises"),
        func.count().filter(C.verdict == "verified").label("verified"),
        func.count().filter(C.verdict == "not_achieved").label("not_achieved"),
        func.coalesce(func.sum(C.savings_toe), 0.0).label("savings_toe"),
        func.coalesce(func.sum(C.savings_gj), 0.0).label("savings_gj"),
        func.coalesce(func.sum(C.savings_tco2), 0.0).label("savings_tco2"),
        func.coalesce(func.sum(C.adjusted_baseline_toe), 0.0).label("adjusted_baseline_toe"),
    ]


def _grouping_id(columns: tuple[str, ...]) -> int:
    """PostgreSQL's `grouping(sector_code, district, ward, period)` of the rows grouped by `columns`: a bit per
    key, most significant first, set when the key is *not* grouped on."""
    return sum(1 << (len(KEYS) - 1 - i) for i, key in enumerate(KEYS) if key not in columns)


async def summary(
    session: AsyncSession,
    *,
    target: float,
    sector: str | None,
    concluded_from: dt.date | None,
    concluded_to: dt.date | None,
    period_kind: PeriodKind = "quarter",
    generation: int | None = None,
) -> ProgrammeSummary:
    """The summary in one pass over the conclusions (GROUPING SETS) instead of one query per grouping; with
    `generation`, exactly the conclusions stamped up to it (so a kept summary can step on from there)."""
    keys = key_columns(period_kind)
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
    if generation is not None:
        statement = statement.where(C.summary_generation <= generation)
    statement = matching(statement, sector=sector or None, concluded_from=concluded_from, concluded_to=concluded_to)
    rows = (await session.exec(statement)).all()
    grouped: dict[str, list[GroupSummary]] = {}
    for name, columns in GROUPINGS:
        mine = in_order([r for r in rows if r.grouping_id == _grouping_id(columns)], columns)
        grouped[name] = [group_summary(r, target, **{c: getattr(r, c) for c in columns}) for r in mine]
    (total,) = grouped["total"]  # the empty grouping set gives one row, also when no conclusion matches
    return ProgrammeSummary(
        target_pct=target,
        concluded_from=concluded_from,
        concluded_to=concluded_to,
        period_kind=period_kind,
        total=total,
        **{name: groups for name, groups in grouped.items() if name != "total"},
    )


GENERATION = Read(
    select(SummaryGeneration.generation, SummaryGeneration.full_pass_from).where(SummaryGeneration.id == 1)
)


class Summaries:
    """Computed summaries kept per parameters with the generation they are exact at, so reading the summary costs
    one primary-key read while the generation stays, and after new conclusions one statement over just those
    (increments.py) — whatever the number of conclusions; a full pass only after any other change. The reads run
    on the read pool (kit `Database.fetch`); no session is opened unless a full pass is needed.

    Exact: the generation row moves on in the very transaction that writes a conclusion or changes a case's grouping
    columns (triggers, migrations 0005/0006; conclusions are insert-only, stamped with their generation) and it is
    read *before* the summary is computed or stepped, which then counts exactly the conclusions stamped up to it —
    so no read gets a summary older than the last conclusion it can see. A read that took an older generation than
    the one kept gets the kept one (newer is fine). One per app (`app.state`): each app has its own database; each
    replica keeps its own."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._kept: OrderedDict[tuple[Any, ...], tuple[int, ProgrammeSummary]] = OrderedDict()

    async def get(self, database: Database, **parameters: Any) -> ProgrammeSummary:
        row = await database.fetch_one(GENERATION)
        assert row is not None, "migration 0005 writes the generation row"
        return await self.at(database, row["generation"], row["full_pass_from"], **parameters)

    async def at(self, database: Database, generation: int, full_pass_from: int, **parameters: Any) -> ProgrammeSummary:
        """The summary at `generation` (just read, with its `full_pass_from`), or a newer one kept."""
        key = tuple(sorted(parameters.items()))
        kept = self._kept.get(key)
        if kept is not None and kept[0] >= generation:
            self._kept.move_to_end(key)
            return kept[1]
        computed = None
        if kept is not None and kept[0] >= full_pass_from:  # only conclusions inserted since: step over those
            computed = await increments.step(database, kept[1], since=kept[0], until=generation, **parameters)
        if computed is None:
            async with database.read_session() as session:
                computed = await summary(session, generation=generation, **parameters)
        newest = self._kept.get(key)
        if newest is None or newest[0] < generation:  # another request may have kept a newer one meanwhile
            self._kept[key] = (generation, computed)
        self._kept.move_to_end(key)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)  # the least recently read parameters
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
