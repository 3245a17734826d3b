from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from cleanprod_kit.auth import require_roles
from cleanprod_kit.db import SessionDep
from cleanprod_kit.errors import Unprocessable, field_error
from cleanprod_kit.fields import CalendarDate, Param

from ..access import SUMMARY_ROLES
from . import service
from .schemas import ProgrammeSummary

router = APIRouter(prefix="/api/v1/programme", tags=["programme"])


@router.get("/summary", response_model=ProgrammeSummary, dependencies=[Depends(require_roles(*SUMMARY_ROLES))])
async def programme_summary(
    request: Request, session: SessionDep, sector: Param | None = Query(None, max_length=32),
    concluded_from: CalendarDate | None = Query(None, description="Concluded on or after (Hanoi date)"),
    concluded_to: CalendarDate | None = Query(None, description="Concluded on or before (Hanoi date)"),
) -> ProgrammeSummary:
    if concluded_from and concluded_to and concluded_to < concluded_from:
        raise Unprocessable(code="range_order", errors=[field_error("query.concluded_to", None, "range_order")])
    return await service.summary(session, target=request.app.state.settings.programme_target_percent,
                                 sector=sector, concluded_from=concluded_from, concluded_to=concluded_to)
