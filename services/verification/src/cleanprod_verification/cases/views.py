from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import and_

from cleanprod_kit.audit import AuditRecord, audit_page
from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.concurrency import set_etag
from cleanprod_kit.db import SessionDep
from cleanprod_kit.models import AuditEntry
from cleanprod_kit.pagination import CursorParam, LimitParam, Page

from ..access import READ_ROLES
from . import service
from .models import CaseStatus
from .schemas import CasePublic

router = APIRouter(prefix="/api/v1/verifications", tags=["verification cases"])
readers = [Depends(require_roles(*READ_ROLES))]


@router.get("", response_model=Page[CasePublic], dependencies=readers)
async def list_cases(
    session: SessionDep, principal: CurrentPrincipal, limit: LimitParam = 50, cursor: CursorParam = None,
    status: CaseStatus | None = None, sector: str | None = Query(None, max_length=32),
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


@router.get("/{case_id}/history", response_model=Page[AuditRecord], dependencies=readers)
async def case_history(case_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal,
                       limit: LimitParam = 100, cursor: CursorParam = None) -> Page[AuditRecord]:
    """The case's audit trail, oldest first, in the kit's paged shape (the same in the three services)."""
    case = await service.get_case(session, principal, case_id)
    condition = and_(AuditEntry.entity_type == service.ENTITY, AuditEntry.entity_id == str(case.id))
    items, next_cursor = await audit_page(session, condition, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)
