from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import bindparam
from sqlmodel import select

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.changes import created
from cleanprod_kit.concurrency import set_etag
from cleanprod_kit.db import Read, SessionDep
from cleanprod_kit.fields import CalendarDate, Param, QueryFlag
from cleanprod_kit.idempotency import Created, create_once
from cleanprod_kit.pagination import CursorParam, LimitParam, Page, keyset_page, page_by_id

from ..access import MANAGE_ROLES, READ_ROLES
from ..deps import DatabaseDep, SectorChange
from . import service
from .models import Norm, Sector
from .schemas import NormCreate, NormPublic, SectorCreate, SectorPublic, SectorUpdate

router = APIRouter(prefix="/api/v1", tags=["sectors and norms"])
readers = [Depends(require_roles(*READ_ROLES))]
officers = [Depends(require_roles(*MANAGE_ROLES))]


# The most frequent read (issue 16): the public shape's columns, from statements built once and run on the driver
# directly (kit `Read`: no ORM session).
_ALL_SECTORS = select(*(getattr(Sector, name) for name in SectorPublic.model_fields)).order_by(Sector.code)
_SECTORS = Read(_ALL_SECTORS)
_SECTORS_BY_PRIORITY = Read(_ALL_SECTORS.where(Sector.priority == bindparam("priority")))


@router.get("/sectors", response_model=list[SectorPublic], dependencies=readers)
async def list_sectors(database: DatabaseDep, priority: QueryFlag | None = None) -> list[dict[str, Any]]:
    if priority is None:
        return await database.fetch(_SECTORS)
    return await database.fetch(_SECTORS_BY_PRIORITY, priority=priority)


@router.post("/sectors", status_code=201, response_model=SectorPublic, dependencies=officers)
async def create_sector(
    body: SectorCreate, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    async def create() -> Created:
        sector = await service.create_sector(session, principal, body)
        return Created(201, SectorPublic.model_validate(sector, from_attributes=True), {"ETag": '"1"'})

    return await create_once(request, session, principal, body, create)


@router.get("/sectors/{code}", response_model=SectorPublic, dependencies=readers)
async def read_sector(code: Param, session: SessionDep, response: Response) -> Sector:
    sector = await service.get_sector(session, code)
    set_etag(response, sector.version)
    return sector


@router.patch("/sectors/{code}", response_model=SectorPublic, dependencies=officers)
async def update_sector(body: SectorUpdate, change: SectorChange, response: Response) -> SectorPublic:
    sector = await change.lock()
    service.update_sector(change.session, change.principal, sector, body)
    return await change.answer(response, SectorPublic)


@router.get("/norms", response_model=Page[NormPublic], dependencies=readers)
async def list_norms(
    session: SessionDep,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
    sector: Param | None = Query(None, max_length=32),
    product: Param | None = Query(None, max_length=200),
    on: CalendarDate | None = Query(None, description="Only norms in force on this date"),
) -> Page[NormPublic]:
    statement = select(Norm)
    if sector:
        statement = statement.where(Norm.sector_code == sector)
    if product:
        statement = statement.where(Norm.product == product)
    if on:
        statement = statement.where(Norm.valid_from <= on, Norm.valid_to >= on)
    items, next_cursor = await page_by_id(session, statement, Norm.id, limit=limit, cursor=cursor)
    return Page(items=[NormPublic.model_validate(n, from_attributes=True) for n in items], next_cursor=next_cursor)


@router.get(
    "/norms/lookup",
    response_model=NormPublic,
    dependencies=readers,
    responses={404: {"description": "No norm of this sector and product is in force on that day"}},
)
async def lookup_norm(
    session: SessionDep,
    # Annotated form: with `= Query(...)` FastAPI drops the type's own validators of a required parameter.
    sector: Annotated[Param, Query(max_length=32)],
    product: Annotated[Param, Query(max_length=200)],
    on: Annotated[CalendarDate, Query(description="Date of the period being judged")],
    capacity_band: Param | None = Query(None, max_length=100),
    capacity: float | None = Query(None, gt=0, le=1e12, description="Capacity in the band's unit"),
) -> Norm:
    return await service.lookup_norm(
        session, sector=sector, product=product, on=on, capacity_band=capacity_band, capacity=capacity
    )


@router.post("/norms", status_code=201, response_model=NormPublic, dependencies=officers)
async def create_norm(body: NormCreate, request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    async def create() -> Created:
        norm = await service.create_norm(session, principal, body)
        return created(
            NormPublic.model_validate(norm, from_attributes=True), version=1, location=f"/api/v1/norms/{norm.id}"
        )

    return await create_once(request, session, principal, body, create)


# The portal's public page (no login): the sector list holds nothing confidential, so its staff schema is reused.
public_router = APIRouter(prefix="/api/v1/public", tags=["public"])


@public_router.get("/sectors", response_model=Page[SectorPublic])
async def list_public_sectors(
    session: SessionDep, limit: LimitParam = 200, cursor: CursorParam = None, priority: QueryFlag | None = None
) -> Page[SectorPublic]:
    statement = select(Sector)
    if priority is not None:
        statement = statement.where(Sector.priority == priority)
    items, next_cursor = await keyset_page(
        session,
        statement,
        order_by=[Sector.code],  # type: ignore[list-item]
        key=lambda s: [s.code],
        limit=limit,
        cursor=cursor,
    )
    return Page(items=[SectorPublic.model_validate(s, from_attributes=True) for s in items], next_cursor=next_cursor)
