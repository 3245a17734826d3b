"""Sectors and their energy-consumption norms; norms are chosen by the date of the period being judged."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_contracts.v1 import events
from cleanprod_kit.audit import field_changes, record_audit, snapshot
from cleanprod_kit.auth import Principal
from cleanprod_kit.errors import Conflict, NotFound, Unprocessable, field_error
from cleanprod_kit.outbox import emit

from .bands import normalise_band_text, parse_band
from .models import Norm, Sector
from .schemas import NormCreate, SectorCreate, SectorUpdate


async def create_sector(session: AsyncSession, principal: Principal, data: SectorCreate) -> Sector:
    if await session.get(Sector, data.code) is not None:
        raise Conflict(
            code="sector_exists",
            params={"sector": data.code},
            errors=[field_error("code", None, "sector_exists", sector=data.code)],
        )
    sector = Sector(**data.model_dump())
    session.add(sector)
    await session.flush()
    record_audit(session, principal, entity_type="sector", entity_id=sector.code, action="create")
    return sector


def norm_from(data: NormCreate) -> Norm:
    band = parse_band(data.capacity_band)
    return Norm(
        **data.model_dump(),
        band_min=band.minimum,
        band_min_inclusive=band.min_inclusive,
        band_max=band.maximum,
        band_max_inclusive=band.max_inclusive,
    )


def update_sector(session: AsyncSession, principal: Principal, sector: Sector, data: SectorUpdate) -> None:
    """Change a sector's names or priority. `sector` is row-locked and its If-Match already checked."""
    changes = data.model_dump(exclude_unset=True)
    before = sector.priority
    old = snapshot(sector)
    for field, value in changes.items():
        setattr(sector, field, value)
    sector.version += 1
    record_audit(
        session,
        principal,
        entity_type="sector",
        entity_id=sector.code,
        action="update",
        details={"fields": sorted(changes), "priority_before": before},
        changes=field_changes(old, snapshot(sector)),
    )


async def create_norm(session: AsyncSession, principal: Principal, data: NormCreate) -> Norm:
    if await session.get(Sector, data.sector_code) is None:
        raise Unprocessable(
            code="unknown_sector",
            params={"sector": data.sector_code},
            errors=[field_error("sector_code", None, "unknown_sector", sector=data.sector_code)],
        )
    norm = norm_from(data)
    clash = await _overlapping(session, norm)
    if clash is not None:
        raise Conflict(code="norm_overlap", params={"period": f"{clash.valid_from}–{clash.valid_to}"})
    session.add(norm)
    await session.flush()
    record_audit(
        session,
        principal,
        entity_type="norm",
        entity_id=norm.id,
        action="create",
        details={"circular": norm.circular, "product": norm.product},
    )
    emit(
        session,
        "registry.norm.created",
        aggregate_type="norm",
        aggregate_id=norm.id,
        payload=events.NormCreated(id=norm.id, sector_code=norm.sector_code, product=norm.product).payload(),
    )
    return norm


async def _overlapping(session: AsyncSession, norm: Norm) -> Norm | None:
    candidates = (
        await session.exec(
            select(Norm).where(
                Norm.sector_code == norm.sector_code,
                Norm.product == norm.product,
                Norm.valid_from <= norm.valid_to,
                Norm.valid_to >= norm.valid_from,
            )
        )
    ).all()
    for other in candidates:
        if normalise_band_text(other.capacity_band or "") == normalise_band_text(norm.capacity_band or ""):
            return other
    return None


async def lookup_norm(
    session: AsyncSession,
    *,
    sector: str,
    product: str,
    on: dt.date,
    capacity_band: str | None = None,
    capacity: float | None = None,
) -> Norm:
    """The one norm in force on `on` for the sector, product and band (by label or by a capacity value)."""
    candidates = list(
        (
            await session.exec(
                select(Norm).where(
                    Norm.sector_code == sector,
                    Norm.product == product,
                    Norm.valid_from <= on,
                    Norm.valid_to >= on,
                )
            )
        ).all()
    )
    if capacity_band is not None:
        wanted = normalise_band_text(capacity_band)
        candidates = [n for n in candidates if normalise_band_text(n.capacity_band or "") == wanted]
    elif capacity is not None:
        candidates = [n for n in candidates if parse_band(n.capacity_band).contains(capacity)]
    if not candidates:
        raise NotFound(
            f"No norm for sector '{sector}', product '{product}'"
            + (f", band '{capacity_band}'" if capacity_band else "")
            + (f", capacity {capacity}" if capacity is not None else "")
            + f" is in force on {on.isoformat()}. Check the product name and band with GET /api/v1/norms.",
            slug="norm-not-found",
            params={"sector": sector, "product": product, "on": on},
        )
    if len(candidates) > 1:
        bands = ", ".join(sorted({n.capacity_band or "(none)" for n in candidates}))
        raise Unprocessable(
            code="ambiguous_band",
            params={"bands": bands},
            errors=[field_error("query.capacity_band", None, "ambiguous_band", bands=bands)],
        )
    return candidates[0]


async def get_sector(session: AsyncSession, code: str) -> Sector:
    sector = await session.get(Sector, code)
    if sector is None:
        raise NotFound(code="record_not_found", params={"what": f"Sector '{code}'"})
    return sector
