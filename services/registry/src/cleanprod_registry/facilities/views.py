from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import and_, or_
from starlette.responses import StreamingResponse

from cleanprod_kit.audit import AuditRecord, audit_page
from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.changes import created
from cleanprod_kit.concurrency import set_etag
from cleanprod_kit.db import SessionDep
from cleanprod_kit.exports import (
    EXPORT_RESPONSES,
    PAGE_SIZE,
    Column,
    FormatQuery,
    export_response,
)
from cleanprod_kit.idempotency import Created, create_once
from cleanprod_kit.models import AuditEntry
from cleanprod_kit.pagination import CursorParam, LimitParam, Page
from cleanprod_kit.roles import Role

from ..access import READ_ROLES, WRITE_ROLES
from ..deps import DatabaseDep, FacilityChange
from . import facts, service
from .filters import FacilityFiltersDep
from .schemas import FacilityCreate, FacilityPublic, FacilityUpdate

router = APIRouter(prefix="/api/v1", tags=["facilities"])
# Service accounts only (the gateway routes no /internal path).
internal_router = APIRouter(prefix="/internal/facilities", tags=["internal"], include_in_schema=False)
readers = [Depends(require_roles(*READ_ROLES))]
writers = [Depends(require_roles(*WRITE_ROLES))]


@router.post(
    "/enterprises/{enterprise_id}/facilities", status_code=201, response_model=FacilityPublic, dependencies=writers
)
async def register_facility(
    enterprise_id: uuid.UUID, body: FacilityCreate, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    async def create() -> Created:
        facility, enterprise = await service.create_facility(session, principal, enterprise_id, body)
        return created(
            service.to_public(facility, enterprise.tax_code),
            version=facility.version,
            location=f"/api/v1/facilities/{facility.id}",
        )

    return await create_once(request, session, principal, body, create)


@router.get("/enterprises/{enterprise_id}/facilities", response_model=Page[FacilityPublic], dependencies=readers)
async def list_enterprise_facilities(
    enterprise_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> dict[str, Any]:
    from ..enterprises.service import get_enterprise

    await get_enterprise(session, principal, enterprise_id)
    rows, next_cursor = await service.list_facilities(
        session,
        principal,
        q=None,
        sector=None,
        ward=None,
        district=None,
        enterprise_id=enterprise_id,
        status=None,
        limit=limit,
        cursor=cursor,
    )
    return {"items": rows, "next_cursor": next_cursor}


@router.get("/facilities", response_model=Page[FacilityPublic], dependencies=readers)
async def list_facilities(
    session: SessionDep,
    database: DatabaseDep,
    principal: CurrentPrincipal,
    filters: FacilityFiltersDep,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> dict[str, Any]:
    """The page as rows of the answer's columns, validated and serialised once, by the response model."""
    rows, next_cursor = await service.list_facilities(
        session, principal, **filters.as_kwargs(), limit=limit, cursor=cursor, database=database
    )
    return {"items": rows, "next_cursor": next_cursor}


FACILITY_COLUMNS = (
    Column("name", "Tên cơ sở", "Facility"),
    Column("enterprise_tax_code", "Mã số thuế doanh nghiệp", "Enterprise tax code"),
    Column("sector_code", "Ngành", "Sector"),
    Column("products", "Sản phẩm", "Products", value=lambda f: "; ".join(f.products)),
    Column("capacity_quantity", "Công suất", "Capacity", "number"),
    Column("capacity_unit", "Đơn vị công suất", "Capacity unit"),
    Column("address", "Địa chỉ", "Address"),
    Column("ward", "Phường/xã", "Ward/commune"),
    Column("district", "Quận/huyện", "District"),
    Column("latitude", "Vĩ độ", "Latitude", "number"),
    Column("longitude", "Kinh độ", "Longitude", "number"),
    Column("status", "Trạng thái", "Status"),
    Column("created_at", "Ngày đăng ký", "Registered at", "datetime"),
    Column("id", "Mã định danh", "Id"),
)


@router.get(
    "/facilities/export",
    dependencies=readers,
    response_class=StreamingResponse,
    responses=EXPORT_RESPONSES,
)
async def export_facilities(
    request: Request,
    principal: CurrentPrincipal,
    database: DatabaseDep,
    filters: FacilityFiltersDep,
    export_format: FormatQuery = "csv",
) -> StreamingResponse:
    """The filtered facilities list as CSV or XLSX (kit exports): same filters, rows and access rules as
    `GET /facilities` (an enterprise exports only its own). Vietnamese headers unless Accept-Language is English."""

    async def fetch(cursor: str | None) -> tuple[list[FacilityPublic], str | None]:
        async with database.session() as session:
            rows, next_cursor = await service.list_facilities(
                session, principal, **filters.as_kwargs(), limit=PAGE_SIZE, cursor=cursor
            )
            return [FacilityPublic.model_validate(row) for row in rows], next_cursor

    return await export_response(request, export_format, "facilities", FACILITY_COLUMNS, fetch)


@router.get("/facilities/{facility_id}", response_model=FacilityPublic, dependencies=readers)
async def read_facility(
    facility_id: uuid.UUID, database: DatabaseDep, principal: CurrentPrincipal, response: Response
) -> FacilityPublic:
    facility = await service.read_facility(database, principal, facility_id)
    set_etag(response, facility.version)
    return facility


@router.patch("/facilities/{facility_id}", response_model=FacilityPublic, dependencies=writers)
async def update_facility(body: FacilityUpdate, change: FacilityChange, response: Response) -> FacilityPublic:
    facility = await change.lock()
    enterprise = await service.enterprise_of(change.session, facility)
    await service.apply_update(change.session, change.principal, facility, enterprise, body)
    return await change.answer(response, lambda f: service.to_public(f, enterprise.tax_code))


@router.get("/facilities/{facility_id}/history", response_model=Page[AuditRecord], dependencies=readers)
async def facility_history(
    facility_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
) -> Page[AuditRecord]:
    """Every recorded change of the facility and of its baseline periods, oldest first."""
    await service.get_facility(session, principal, facility_id)
    condition = or_(
        and_(AuditEntry.entity_type == "facility", AuditEntry.entity_id == str(facility_id)),
        and_(AuditEntry.entity_type == "baseline", AuditEntry.details["facility_id"].astext == str(facility_id)),
    )
    items, next_cursor = await audit_page(session, condition, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)


@internal_router.get("/{facility_id}/facts", dependencies=[Depends(require_roles(Role.SERVICE))])
async def facility_with_enterprise(
    facility_id: uuid.UUID, database: DatabaseDep, principal: CurrentPrincipal
) -> dict[str, object]:
    """The facility and its enterprise in one answer (`cleanprod_contracts.v1.registry.FacilityWithEnterprise`):
    what the applications service records of both when an application is created, read in one statement."""
    return await facts.facility_facts(database, principal, facility_id)
