from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import and_
from starlette.responses import StreamingResponse

from cleanprod_kit.audit import AuditRecord, audit_page
from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.concurrency import set_etag
from cleanprod_kit.db import SessionDep
from cleanprod_kit.exports import (
    EXPORT_RESPONSES,
    PAGE_SIZE,
    FormatQuery,
    export_response,
)
from cleanprod_kit.fields import Param
from cleanprod_kit.models import AuditEntry
from cleanprod_kit.pagination import CursorParam, LimitParam, Page

from ..access import READ_ROLES
from ..deps import DatabaseDep
from . import service
from .export import RESULT_COLUMNS
from .models import CaseStatus
from .schemas import CasePublic

router = APIRouter(prefix="/api/v1/verifications", tags=["verification cases"])
readers = [Depends(require_roles(*READ_ROLES))]


class CaseFilters:
    """The list's filters, shared by the list and its export."""

    def __init__(
        self,
        status: CaseStatus | None = None,
        sector: Param | None = Query(None, max_length=32),
        application_id: uuid.UUID | None = None,
    ) -> None:
        self.status, self.sector, self.application_id = status, sector, application_id

    def as_kwargs(self) -> dict[str, Any]:
        return {"status": self.status, "sector": self.sector, "application_id": self.application_id}


@router.get("", response_model=Page[CasePublic], dependencies=readers)
async def list_cases(
    session: SessionDep,
    principal: CurrentPrincipal,
    filters: Annotated[CaseFilters, Depends()],
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[CasePublic]:
    rows, next_cursor = await service.list_cases(session, principal, **filters.as_kwargs(), limit=limit, cursor=cursor)
    items = [service.to_public(c, k, with_periods=False, period_count=n) for c, k, n in rows]
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/export",
    dependencies=readers,
    response_class=StreamingResponse,
    responses=EXPORT_RESPONSES,
)
async def export_results(
    request: Request,
    principal: CurrentPrincipal,
    database: DatabaseDep,
    filters: Annotated[CaseFilters, Depends()],
    export_format: FormatQuery = "csv",
) -> StreamingResponse:
    """Verification results of the filtered list as CSV or XLSX: the same cases as `GET /verifications` for the
    caller (an enterprise only its own, a verifier only theirs), with each conclusion's figures."""

    async def fetch(cursor: str | None) -> tuple[list[Any], str | None]:
        async with database.session() as session:
            return await service.list_cases(session, principal, **filters.as_kwargs(), limit=PAGE_SIZE, cursor=cursor)

    return await export_response(request, export_format, "verification-results", RESULT_COLUMNS, fetch)


@router.get("/{case_id}", response_model=CasePublic, dependencies=readers)
async def read_case(
    case_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> CasePublic:
    case = await service.get_case(session, principal, case_id)
    set_etag(response, case.version)
    return service.to_public(case, await service.conclusion_of(session, case.id), with_periods=True)


@router.get("/{case_id}/history", response_model=Page[AuditRecord], dependencies=readers)
async def case_history(
    case_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
) -> Page[AuditRecord]:
    """The case's audit trail, oldest first, in the kit's paged shape (the same in the three services)."""
    case = await service.get_case(session, principal, case_id)
    condition = and_(AuditEntry.entity_type == service.ENTITY, AuditEntry.entity_id == str(case.id))
    items, next_cursor = await audit_page(session, condition, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)
