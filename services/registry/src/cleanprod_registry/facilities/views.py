from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import and_, or_

from cleanprod_kit.audit import AuditRecord, audit_page
from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.concurrency import check_if_match, get_for_update, set_etag
from cleanprod_kit.db import SessionDep
from cleanprod_kit.fields import Param
from cleanprod_kit.idempotency import Created, create_once
from cleanprod_kit.models import AuditEntry
from cleanprod_kit.pagination import CursorParam, LimitParam, Page

from ..access import READ_ROLES, WRITE_ROLES
from . import service
from .models import Facility, FacilityStatus
from .schemas import FacilityCreate, FacilityPublic, FacilityUpdate

router = APIRouter(prefix="/api/v1", tags=["facilities"])
readers = [Depends(require_roles(*READ_ROLES))]
writers = [Depends(require_roles(*WRITE_ROLES))]


@router.post("/enterprises/{enterprise_id}/facilities", status_code=201, response_model=FacilityPublic,
             dependencies=writers)
async def register_facility(enterprise_id: uuid.UUID, body: FacilityCreate, request: Request, session: SessionDep,
                            principal: CurrentPrincipal) -> Response:
    async def create() -> Created:
        facility, enterprise = await service.create_facility(session, principal, enterprise_id, body)
        return Created(201, service.to_public(facility, enterprise.tax_code),
                       {"ETag": f'"{facility.version}"', "Location": f"/api/v1/facilities/{facility.id}"})

    return await create_once(request, session, principal, body, create)


@router.get("/enterprises/{enterprise_id}/facilities", response_model=Page[FacilityPublic], dependencies=readers)
async def list_enterprise_facilities(enterprise_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal,
                                     limit: LimitParam = 50, cursor: CursorParam = None) -> Page[FacilityPublic]:
    from ..enterprises.service import get_enterprise

    await get_enterprise(session, principal, enterprise_id)
    rows, next_cursor = await service.list_facilities(session, principal, q=None, sector=None, ward=None,
                                                      district=None, enterprise_id=enterprise_id, status=None,
                                                      limit=limit, cursor=cursor)
    return Page(items=[service.to_public(f, t) for f, t in rows], next_cursor=next_cursor)


@router.get("/facilities", response_model=Page[FacilityPublic], dependencies=readers)
async def list_facilities(
    session: SessionDep, principal: CurrentPrincipal, limit: LimitParam = 50, cursor: CursorParam = None,
    q: Param | None = Query(None, max_length=200, description="Accent-insensitive words in name or address"),
    sector: Param | None = Query(None, max_length=32), ward: Param | None = Query(None, max_length=120),
    district: Param | None = Query(None, max_length=120), enterprise_id: uuid.UUID | None = None,
    status: FacilityStatus | None = None,
) -> Page[FacilityPublic]:
    rows, next_cursor = await service.list_facilities(session, principal, q=q, sector=sector, ward=ward,
                                                      district=district, enterprise_id=enterprise_id,
                                                      status=status, limit=limit, cursor=cursor)
    return Page(items=[service.to_public(f, t) for f, t in rows], next_cursor=next_cursor)


@router.get("/facilities/{facility_id}", response_model=FacilityPublic, dependencies=readers)
async def read_facility(facility_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal,
                        response: Response) -> FacilityPublic:
    facility, enterprise = await service.get_facility(session, principal, facility_id)
    set_etag(response, facility.version)
    return service.to_public(facility, enterprise.tax_code)


@router.patch("/facilities/{facility_id}", response_model=FacilityPublic, dependencies=writers)
async def update_facility(facility_id: uuid.UUID, body: FacilityUpdate, request: Request, session: SessionDep,
                          principal: CurrentPrincipal, response: Response) -> FacilityPublic:
    _, enterprise = await service.get_facility(session, principal, facility_id)
    facility = await get_for_update(session, Facility, facility_id, what="Facility")
    check_if_match(request, facility.version)
    await service.apply_update(session, principal, facility, enterprise, body)
    await session.commit()
    set_etag(response, facility.version)
    return service.to_public(facility, enterprise.tax_code)


@router.get("/facilities/{facility_id}/history", response_model=Page[AuditRecord], dependencies=readers)
async def facility_history(facility_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal,
                           limit: LimitParam = 100, cursor: CursorParam = None) -> Page[AuditRecord]:
    """Every recorded change of the facility and of its baseline periods, oldest first."""
    await service.get_facility(session, principal, facility_id)
    condition = or_(
        and_(AuditEntry.entity_type == "facility", AuditEntry.entity_id == str(facility_id)),
        and_(AuditEntry.entity_type == "baseline", AuditEntry.details["facility_id"].astext == str(facility_id)),
    )
    items, next_cursor = await audit_page(session, condition, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)
