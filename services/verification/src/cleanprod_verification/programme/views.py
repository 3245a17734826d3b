from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from cleanprod_kit.auth import require_roles
from cleanprod_kit.errors import Unprocessable, field_error
from cleanprod_kit.fields import CalendarDate, Param

from ..access import SUMMARY_ROLES
from ..deps import DatabaseDep, SettingsDep, SummariesDep
from . import service
from .schemas import PeriodKind, ProgrammeSummary, PublicResults

router = APIRouter(prefix="/api/v1/programme", tags=["programme"])
public_router = APIRouter(prefix="/api/v1/public/results", tags=["public"])


@router.get("/summary", response_model=ProgrammeSummary, dependencies=[Depends(require_roles(*SUMMARY_ROLES))])
async def programme_summary(
    database: DatabaseDep,
    settings: SettingsDep,
    summaries: SummariesDep,
    sector: Param | None = Query(None, max_length=32),
    concluded_from: CalendarDate | None = Query(None, description="Concluded on or after (Hanoi date)"),
    concluded_to: CalendarDate | None = Query(None, description="Concluded on or before (Hanoi date)"),
    period: PeriodKind = Query("quarter", description="Time grouping of `by_period`: quarter or year"),
) -> ProgrammeSummary:
    if concluded_from and concluded_to and concluded_to < concluded_from:
        where = {"start": "concluded_from", "end": "concluded_to"}
        raise Unprocessable(
            code="range_order", params=where, errors=[field_error("query.concluded_to", None, "range_order", **where)]
        )
    return await summaries.get(
        database,
        target=settings.programme_target_percent,
        sector=sector,
        concluded_from=concluded_from,
        concluded_to=concluded_to,
        period_kind=period,
    )


@public_router.get("", response_model=PublicResults)
async def public_results(
    database: DatabaseDep,
    settings: SettingsDep,
    summaries: SummariesDep,
    period: PeriodKind = Query("quarter", description="Time grouping: quarter or year"),
) -> PublicResults:
    """The programme's verified savings for anyone, without a token: aggregates by sector, district and period,
    each group of at least `public_results_min_enterprises` enterprises (setting, default 3)."""
    full = await summaries.get(
        database,
        target=settings.programme_target_percent,
        sector=None,
        concluded_from=None,
        concluded_to=None,
        period_kind=period,
    )
    return service.public_results(full, settings.public_results_min_enterprises)
