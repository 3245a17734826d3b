"""A kept programme summary stepped forward over the conclusions written since, instead of a pass over all of them.

Conclusions are insert-only, and each carries the generation its transaction made (migration 0006; the generation
row's lock serialises writers, so stamps follow commit order). A summary exact at generation `since` becomes the
summary at `until` by adding what the conclusions stamped (since, until] bring to each group they fall in — counts
and sums add; a group's distinct enterprises grow by the new conclusions' enterprises that had no earlier
conclusion *in that group* (under the same filter), which one indexed statement reads for all of them. The cost
depends on the new conclusions and their enterprises, not on the number of conclusions.
"""

from __future__ import annotations

import datetime as dt
import functools
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, literal, union_all
from sqlmodel import select

from cleanprod_kit.db import Database, Read

from .groups import GROUPINGS, C, Totals, V, group_summary, in_order, key_columns, key_of, matching
from .models import ENTERPRISE_KEY
from .schemas import GroupSummary, PeriodKind, ProgrammeSummary

# More new conclusions than this in one step (a summary left unread for long): a full pass instead, so that a
# step stays a bounded statement.
STEP_LIMIT = 500


@functools.cache
def _step_read(period_kind: PeriodKind, sector: bool, concluded_from: bool, concluded_to: bool) -> Read:
    """The one statement of a step, for the filters present (values bound per read): the new conclusions, and the
    earlier conclusions of their enterprises (the enterprise key's index), in whichever groups those fall."""
    figures = [
        *[column.label(name) for name, column in key_columns(period_kind).items()],
        ENTERPRISE_KEY.label("enterprise"),
        C.verdict,
        C.savings_toe,
        C.savings_gj,
        C.savings_tco2,
        C.adjusted_baseline_toe,
    ]
    where = {
        "sector": bindparam("sector") if sector else None,
        "concluded_from": bindparam("concluded_from") if concluded_from else None,
        "concluded_to": bindparam("concluded_to") if concluded_to else None,
    }
    new = matching(
        select(*figures, literal(True).label("new"))
        .select_from(C)
        .join(V, V.id == C.case_id)
        .where(C.summary_generation > bindparam("since"), C.summary_generation <= bindparam("until"))
        .limit(bindparam("limit")),
        **where,
    ).cte("new")
    earlier = matching(
        select(*figures, literal(False).label("new"))
        .select_from(C)
        .join(V, V.id == C.case_id)
        .where(ENTERPRISE_KEY.in_(select(new.c.enterprise)), C.summary_generation <= bindparam("since")),
        **where,
    )
    return Read(union_all(select(new), earlier))  # type: ignore[arg-type]


async def step(
    database: Database,
    kept: ProgrammeSummary,
    *,
    since: int,
    until: int,
    target: float,
    sector: str | None,
    concluded_from: dt.date | None,
    concluded_to: dt.date | None,
    period_kind: PeriodKind = "quarter",
) -> ProgrammeSummary | None:
    """`kept` (exact at generation `since`, of these parameters) at generation `until`; None when more than
    STEP_LIMIT conclusions came in between (then the caller makes a full pass). On the read pool: any snapshot
    taken after `until` was read sees every conclusion stamped up to it."""
    filters = {"sector": sector or None, "concluded_from": concluded_from, "concluded_to": concluded_to}
    read = _step_read(period_kind, *(value is not None for value in filters.values()))
    bound = {name: value for name, value in filters.items() if value is not None}
    rows = [
        SimpleNamespace(**row)
        for row in await database.fetch(read, since=since, until=until, limit=STEP_LIMIT + 1, **bound)
    ]
    added = [r for r in rows if r.new]
    if len(added) > STEP_LIMIT:
        return None
    before = [r for r in rows if not r.new]
    stepped: dict[str, Any] = {}
    for name, columns in GROUPINGS:
        was = kept.total if name == "total" else getattr(kept, name)
        groups = {(): was} if name == "total" else {key_of(g, columns): g for g in was}
        stepped[name] = _grouping(groups, columns, added, before, target)
    (total,) = stepped.pop("total")
    return kept.model_copy(update={"total": total, **stepped})


def _grouping(
    groups: dict[tuple[Any, ...], GroupSummary],
    columns: tuple[str, ...],
    new: list[Any],
    earlier: list[Any],
    target: float,
) -> list[GroupSummary]:
    """One grouping's groups with the new conclusions added, in order (a new group in its sorted place)."""
    seen = {(key_of(r, columns), r.enterprise) for r in earlier}  # (group, enterprise) already counted
    added: dict[tuple[Any, ...], Totals] = {}
    for row in new:
        key = key_of(row, columns)
        if key not in added:
            added[key] = Totals.of(groups.get(key))  # the group as kept, or a new one
        totals = added[key]
        totals.cases += 1
        totals.verified += row.verdict == "verified"
        totals.not_achieved += row.verdict == "not_achieved"
        totals.savings_toe += row.savings_toe
        totals.savings_gj += row.savings_gj
        totals.savings_tco2 += row.savings_tco2
        totals.adjusted_baseline_toe += row.adjusted_baseline_toe
        if (key, row.enterprise) not in seen:  # also a second new conclusion of one enterprise counts it once
            seen.add((key, row.enterprise))
            totals.enterprises += 1
    for key, totals in added.items():
        groups[key] = group_summary(totals, target, **dict(zip(columns, key, strict=True)))
    return in_order(list(groups.values()), columns)
