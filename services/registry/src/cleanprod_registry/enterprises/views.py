from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import and_

from cleanprod_kit.audit import AuditRecord, audit_page
from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.changes import created
from cleanprod_kit.concurrency import set_etag
from cleanprod_kit.db import SessionDep
from cleanprod_kit.fields import Param
from cleanprod_kit.idempotency import Created, create_once
from cleanprod_kit.models import AuditEntry
from cleanprod_kit.pagination import CursorParam, LimitParam, Page

from ..access import READ_ROLES, WRITE_ROLES
from ..deps import EnterpriseChange
from . import service
from .models import Enterprise
from .schemas import EnterpriseCreate, EnterprisePublic, EnterpriseUpdate

router = APIRouter(prefix="/api/v1/enterprises", tags=["enterprises"])
readers = [Depends(require_roles(*READ_ROLES))]
writers = [Depends(require_roles(*WRITE_ROLES))]


@router.post(
    "",
    status_code=201,
    response_model=EnterprisePublic,
    dependencies=writers,
    responses={409: {"description": "Tax code already registered"}},
)
async def register_enterprise(
    body: EnterpriseCreate, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    async def create() -> Created:
        enterprise = await service.create_enterprise(session, principal, body)
        public = EnterprisePublic.model_validate(enterprise, from_attributes=True)
        return created(public, version=enterprise.version, location=f"/api/v1/enterprises/{enterprise.id}")

    return await create_once(request, session, principal, body, create)


@router.get("", response_model=Page[EnterprisePublic], dependencies=readers)
async def list_enterprises(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
    q: Param | None = Query(None, max_length=200, description="Accent-insensitive words in name, tax code or address"),
    ward: Param | None = Query(None, max_length=120),
    district: Param | None = Query(None, max_length=120),
    tax_code: Param | None = Query(None, max_length=20),
) -> Page[EnterprisePublic]:
    items, next_cursor = await service.list_enterprises(
        session, principal, q=q, ward=ward, district=district, tax_code=tax_code, limit=limit, cursor=cursor
    )
    return Page(
        items=[EnterprisePublic.model_validate(e, from_attributes=True) for e in items], next_cursor=next_cursor
    )


@router.get("/{enterprise_id}", response_model=EnterprisePublic, dependencies=readers)
async def read_enterprise(
    enterprise_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> Enterprise:
    enterprise = await service.get_enterprise(session, principal, enterprise_id)
    set_etag(response, enterprise.version)
    return enterprise


@router.patch("/{enterprise_id}", response_model=EnterprisePublic, dependencies=writers)
async def update_enterprise(body: EnterpriseUpdate, change: EnterpriseChange, response: Response) -> EnterprisePublic:
    enterprise = await change.lock()  # 404 before 428/412 for strangers
    service.apply_update(enterprise, change.principal, body, change.session)
    return await change.answer(response, EnterprisePublic)


@router.get("/{enterprise_id}/history", response_model=Page[AuditRecord], dependencies=readers)
async def enterprise_history(
    enterprise_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
) -> Page[AuditRecord]:
    """Every recorded change of the enterprise (who, role, when, what, request id), oldest first."""
    await service.get_enterprise(session, principal, enterprise_id)
    condition = and_(AuditEntry.entity_type == "enterprise", AuditEntry.entity_id == str(enterprise_id))
    items, next_cursor = await audit_page(session, condition, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)
