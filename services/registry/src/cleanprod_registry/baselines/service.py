"""Baseline periods of a facility. Periods of one facility never overlap: writers lock the facility row, so two
concurrent inserts of overlapping periods cannot both pass the check."""

from __future__ import annotations

import uuid

from sqlmodel import and_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_contracts.v1 import events
from cleanprod_kit.audit import apply_changes, record_audit
from cleanprod_kit.auth import Principal
from cleanprod_kit.changes import lock_row, public_from
from cleanprod_kit.errors import NotFound, Unprocessable, field_error
from cleanprod_kit.outbox import emit
from cleanprod_kit.pagination import keyset_page

from ..access import ensure_writable
from ..facilities.models import Facility
from ..facilities.service import get_facility
from .models import Baseline
from .schemas import BaselineFields, BaselinePublic


def to_public(baseline: Baseline) -> BaselinePublic:
    return public_from(
        BaselinePublic,
        baseline,
        production={"quantity": baseline.production_quantity, "unit": baseline.production_unit},
    )


def _columns(data: BaselineFields) -> dict[str, object]:
    return {
        "period_start": data.period_start,
        "period_end": data.period_end,
        "production_quantity": data.production.quantity,
        "production_unit": data.production.unit,
        "consumption": [c.model_dump() for c in data.consumption],
        "cdd": data.cdd,
        "hdd": data.hdd,
        "estimated": data.estimated,
        "notes": data.notes,
    }


async def _refuse_overlap(
    session: AsyncSession, facility_id: uuid.UUID, data: BaselineFields, ignore: uuid.UUID | None = None
) -> None:
    statement = select(Baseline).where(
        Baseline.facility_id == facility_id,
        and_(Baseline.period_start <= data.period_end, Baseline.period_end >= data.period_start),
    )
    if ignore is not None:
        statement = statement.where(Baseline.id != ignore)
    clash = (await session.exec(statement)).first()
    if clash is not None:
        params = {
            "period": f"{data.period_start}–{data.period_end}",
            "other": f"{clash.period_start}–{clash.period_end}",
        }
        raise Unprocessable(
            code="period_overlap",
            params=params,
            errors=[field_error("period_start", "overlaps an existing period", "overlap", **params)],
        )


async def _writable_facility(session: AsyncSession, principal: Principal, facility_id: uuid.UUID) -> Facility:
    facility, enterprise = await get_facility(session, principal, facility_id)
    ensure_writable(principal, enterprise.tax_code, f"Facility {facility_id}")
    return await lock_row(session, facility)


async def add_baseline(
    session: AsyncSession, principal: Principal, facility_id: uuid.UUID, data: BaselineFields
) -> Baseline:
    await _writable_facility(session, principal, facility_id)
    await _refuse_overlap(session, facility_id, data)
    baseline = Baseline(facility_id=facility_id, **_columns(data))  # type: ignore[arg-type]
    session.add(baseline)
    await session.flush()
    record_audit(
        session,
        principal,
        entity_type="baseline",
        entity_id=baseline.id,
        action="create",
        details={"facility_id": str(facility_id), "period": [str(data.period_start), str(data.period_end)]},
    )
    emit(
        session,
        "registry.baseline.recorded",
        aggregate_type="facility",
        aggregate_id=facility_id,
        payload=events.BaselineRecorded(facility_id=facility_id, baseline_id=baseline.id).payload(),
    )
    return baseline


async def get_baseline(
    session: AsyncSession, principal: Principal, facility_id: uuid.UUID, baseline_id: uuid.UUID
) -> Baseline:
    await get_facility(session, principal, facility_id)
    baseline = await session.get(Baseline, baseline_id)
    if baseline is None or baseline.facility_id != facility_id:
        raise NotFound(
            f"Baseline {baseline_id} does not exist for facility {facility_id}.",
            code="record_not_found",
            params={"what": f"Baseline {baseline_id}"},
        )
    return baseline


async def replace_baseline(
    session: AsyncSession, principal: Principal, baseline: Baseline, data: BaselineFields
) -> None:
    await _writable_facility(session, principal, baseline.facility_id)
    await _refuse_overlap(session, baseline.facility_id, data, ignore=baseline.id)
    changed = apply_changes(baseline, _columns(data))
    record_audit(
        session,
        principal,
        entity_type="baseline",
        entity_id=baseline.id,
        action="update",
        details={"facility_id": str(baseline.facility_id)},
        changes=changed,
    )


async def list_baselines(
    session: AsyncSession, principal: Principal, facility_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[Baseline], str | None]:
    await get_facility(session, principal, facility_id)
    statement = select(Baseline).where(Baseline.facility_id == facility_id)
    return await keyset_page(
        session,
        statement,
        order_by=[Baseline.period_start, Baseline.id],  # type: ignore[list-item]
        key=lambda b: [b.period_start, b.id],
        limit=limit,
        cursor=cursor,
    )
