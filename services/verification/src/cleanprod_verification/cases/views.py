from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Response

from cleanprod_kit.audit import audit_trail
from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.concurrency import set_etag
from cleanprod_kit.db import SessionDep
from cleanprod_kit.fields import Param
from cleanprod_kit.pagination import CursorParam, LimitParam, Page

from ..access import READ_ROLES
from . import service
from .models import CaseStatus
from .schemas import CasePublic, HistoryEntry

router = APIRouter(prefix="/api/v1/verifications", tags=["verification cases"])
readers = [Depends(require_roles(*READ_ROLES))]


@router.get("", response_model=Page[CasePublic], dependencies=readers)
async def list_cases(
    session: SessionDep, principal: CurrentPrincipal, limit: LimitParam = 50, cursor: CursorParam = None,
    status: CaseStatus | None = None, sector: Param | None = Query(None, max_length=32),
    application_id: uuid.UUID | None = None,
) -> Page[CasePublic]:
    rows, next_cursor = await service.list_cases(session, principal, status=status, sector=sector,
                                                 application_id=application_id, limit=limit, cursor=cursor)
    return Page(items=[service.to_public(c, k, with_periods=False) for c, k in rows], next_cursor=next_cursor)


@router.get("/{case_id}", response_model=CasePublic, dependencies=readers)
async def read_case(case_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal,
                    response: Response) -> CasePublic:
    case = await service.get_case(session, principal, case_id)
    set_etag(response, case.version)
    return service.to_public(case, await service.conclusion_of(session, case.id), with_periods=True)


@router.get("/{case_id}/history", response_model=list[HistoryEntry], dependencies=readers)
async def case_history(case_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal) -> list[HistoryEntry]:
    case = await service.get_case(session, principal, case_id)
    return [HistoryEntry.model_validate(entry, from_attributes=True)
            for entry in await audit_trail(session, service.ENTITY, case.id)]
