"""Facilities belong to one enterprise; access follows the owning enterprise's tax code."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.sql import Select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_contracts.v1 import events
from cleanprod_kit.audit import apply_changes, record_audit
from cleanprod_kit.auth import Principal
from cleanprod_kit.changes import public_from
from cleanprod_kit.db import Database, Read
from cleanprod_kit.errors import NotFound, Unprocessable, field_error
from cleanprod_kit.outbox import emit
from cleanprod_kit.pagination import keyset_page

from ..access import ensure_readable, ensure_writable, visibility_filter
from ..enterprises.models import Enterprise
from ..enterprises.service import get_enterprise
from ..sectors.models import Sector
from .models import Facility
from .schemas import FacilityCreate, FacilityPublic, FacilityUpdate
from .search import PUBLIC_COLUMNS, PUBLIC_NAMES, ranked_page


def to_public(facility: Facility, tax_code: str | None) -> FacilityPublic:
    return public_from(FacilityPublic, facility, enterprise_tax_code=tax_code)


async def _require_sector(session: AsyncSession, code: str) -> None:
    if await session.get(Sector, code) is None:
        raise Unprocessable(
            code="unknown_sector",
            params={"sector": code},
            errors=[field_error("sector_code", None, "unknown_sector", sector=code)],
        )


# Built once: every facility read (and change) runs it, and SQLAlchemy memoises a statement's cache key on the
# statement object (issue 16).
_FACILITY_WITH_ENTERPRISE = (
    select(Facility, Enterprise)
    .join(Enterprise, Enterprise.id == Facility.enterprise_id)  # type: ignore[arg-type]
    .where(Facility.id == bindparam("facility_id"))
)


async def get_facility(
    session: AsyncSession, principal: Principal, facility_id: uuid.UUID
) -> tuple[Facility, Enterprise]:
    row = (await session.exec(_FACILITY_WITH_ENTERPRISE, params={"facility_id": facility_id})).first()
    if row is None:
        raise NotFound(code="record_not_found", params={"what": f"Facility {facility_id}"})
    facility, enterprise = row
    ensure_readable(principal, enterprise.tax_code, f"Facility {facility_id}")
    return facility, enterprise


# The facility read itself (issue 16): the public shape's columns and the enterprise's tax code, run on the driver
# directly (kit `Read`: no ORM session, no entities).
_PUBLIC_FACILITY = Read(
    select(
        *(getattr(Facility, name) for name in FacilityPublic.model_fields if name != "enterprise_tax_code"),
        col(Enterprise.tax_code).label("enterprise_tax_code"),
    )
    .join(Enterprise, Enterprise.id == Facility.enterprise_id)  # type: ignore[arg-type]
    .where(Facility.id == bindparam("facility_id"))
)


async def read_facility(database: Database, principal: Principal, facility_id: uuid.UUID) -> FacilityPublic:
    """What `get_facility` + `to_public` answer, the same rule (an enterprise reads only its own: 404 else)."""
    row = await database.fetch_one(_PUBLIC_FACILITY, facility_id=facility_id)
    if row is None:
        raise NotFound(code="record_not_found", params={"what": f"Facility {facility_id}"})
    ensure_readable(principal, row["enterprise_tax_code"], f"Facility {facility_id}")
    return FacilityPublic.model_validate(row)


async def enterprise_of(session: AsyncSession, facility: Facility) -> Enterprise:
    """The facility's enterprise (read with it by `get_facility`: no query then)."""
    enterprise = await session.get(Enterprise, facility.enterprise_id)
    assert enterprise is not None  # a foreign key
    return enterprise


async def create_facility(
    session: AsyncSession, principal: Principal, enterprise_id: uuid.UUID, data: FacilityCreate
) -> tuple[Facility, Enterprise]:
    enterprise = await get_enterprise(session, principal, enterprise_id)
    ensure_writable(principal, enterprise.tax_code, f"Enterprise {enterprise_id}")
    await _require_sector(session, data.sector_code)
    facility = Facility(enterprise_id=enterprise.id, **data.model_dump())
    session.add(facility)
    await session.flush()
    record_audit(
        session,
        principal,
        entity_type="facility",
        entity_id=facility.id,
        action="create",
        to_state=facility.status,
        details={"enterprise_id": str(enterprise.id)},
    )
    emit(
        session,
        "registry.facility.registered",
        aggregate_type="facility",
        aggregate_id=facility.id,
        payload=events.FacilityRegistered(
            id=facility.id, enterprise_id=enterprise.id, sector_code=facility.sector_code
        ).payload(),
    )
    return facility, enterprise


async def apply_update(
    session: AsyncSession, principal: Principal, facility: Facility, enterprise: Enterprise, data: FacilityUpdate
) -> None:
    ensure_writable(principal, enterprise.tax_code, f"Facility {facility.id}")
    changes = data.model_dump(exclude_unset=True)
    if changes.get("sector_code"):
        await _require_sector(session, changes["sector_code"])
    previous_status = facility.status
    changed = apply_changes(facility, changes)
    record_audit(
        session,
        principal,
        entity_type="facility",
        entity_id=facility.id,
        action="update",
        from_state=previous_status,
        to_state=facility.status,
        details={"fields": sorted(changes)},
        changes=changed,
    )
    emit(
        session,
        "registry.facility.updated",
        aggregate_type="facility",
        aggregate_id=facility.id,
        payload=events.FacilityUpdated(id=facility.id, fields=sorted(changes)).payload(),
    )


async def list_facilities(
    session: AsyncSession,
    principal: Principal,
    *,
    q: str | None,
    sector: str | None,
    ward: str | None,
    district: str | None,
    enterprise_id: uuid.UUID | None,
    status: str | None,
    limit: int,
    cursor: str | None,
    database: Database | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Facilities the caller may read, as answered (`FacilityPublic`'s fields, read as columns: no ORM entities):
    by relevance when `q` is given (facilities/search.py; `database`: its read pool serves what it can), else by
    id."""
    visible = visibility_filter(principal)

    def filtered(statement: Select[Any]) -> Select[Any]:
        if sector:
            statement = statement.where(Facility.sector_code == sector)
        if ward:
            statement = statement.where(Facility.ward == ward)
        if district:
            statement = statement.where(Facility.district == district)
        if enterprise_id:
            statement = statement.where(Facility.enterprise_id == enterprise_id)
        if status:
            statement = statement.where(Facility.status == status)
        return statement

    if q and q.split():

        def visible_and_filtered(statement: Select[Any]) -> Select[Any]:
            # rights as a semi-join, so a statement that needs no enterprise column reads no enterprise
            if visible is not None:
                statement = statement.where(col(Facility.enterprise_id).in_(select(Enterprise.id).where(visible)))
            return filtered(statement)

        narrow = visible is not None or enterprise_id is not None
        return await ranked_page(
            session, visible_and_filtered, q, limit=limit, cursor=cursor, narrow=narrow, database=database
        )
    statement = select(*PUBLIC_COLUMNS).join(Enterprise, Enterprise.id == Facility.enterprise_id)  # type: ignore[arg-type]
    if visible is not None:
        statement = statement.where(visible)
    rows, next_cursor = await keyset_page(
        session,
        filtered(statement),
        order_by=[Facility.id],  # type: ignore[list-item]
        key=lambda row: [row.id],
        limit=limit,
        cursor=cursor,
    )
    return [dict(zip(PUBLIC_NAMES, row, strict=True)) for row in rows], next_cursor
