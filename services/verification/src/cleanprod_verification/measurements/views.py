from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, Response

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.changes import IfMatch, created, lock_row
from cleanprod_kit.concurrency import set_etag
from cleanprod_kit.db import SessionDep
from cleanprod_kit.idempotency import Created, create_once
from cleanprod_kit.pagination import CursorParam, LimitParam, Page
from cleanprod_kit.roles import Role

from ..access import READ_ROLES
from ..cases.service import get_case, readable_case
from ..deps import CaseChange, MVSettingsDep
from . import service
from .schemas import MeasurementCreate, MeasurementPublic, MeasurementRevise, WithdrawalBody

router = APIRouter(prefix="/api/v1/verifications/{case_id}/measurements", tags=["measurements"])
readers = [Depends(require_roles(*READ_ROLES))]
verifiers = [Depends(require_roles(Role.VERIFIER))]


def _location(case_id: uuid.UUID, measurement_id: uuid.UUID) -> str:
    return f"/api/v1/verifications/{case_id}/measurements/{measurement_id}"


@router.post("", status_code=201, response_model=MeasurementPublic, dependencies=verifiers)
async def record_measurement(
    case_id: uuid.UUID,
    body: MeasurementCreate,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    settings: MVSettingsDep,
) -> Response:
    """Record a measured period. A creating POST: no If-Match (so no `CaseChange`, whose routes document one);
    the case is read (access checked) and locked with the pipeline's own steps, so overlapping periods queue."""

    async def create() -> Created:
        case = await lock_row(session, await readable_case(session, principal, case_id))
        measurement, revisions = await service.record(session, principal, case, body, settings)
        return created(
            service.to_public(measurement, revisions),
            version=measurement.revision,
            location=_location(case.id, measurement.id),
        )

    return await create_once(request, session, principal, body, create)


@router.get("", response_model=Page[MeasurementPublic], dependencies=readers)
async def list_measurements(
    case_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: LimitParam = 200,
    cursor: CursorParam = None,
) -> Page[MeasurementPublic]:
    await get_case(session, principal, case_id)
    items, next_cursor = await service.page(session, case_id, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)


@router.get("/{measurement_id}", response_model=MeasurementPublic, dependencies=readers)
async def read_measurement(
    case_id: uuid.UUID, measurement_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> MeasurementPublic:
    await get_case(session, principal, case_id)
    measurement = await service.measurement_of_case(session, case_id, measurement_id)
    set_etag(response, measurement.revision)
    return service.to_public(measurement, await service.revisions_of(session, [measurement.id]))


async def _revise(
    measurement_id: uuid.UUID, body: MeasurementRevise, change: CaseChange, settings: MVSettingsDep
) -> Response:
    """If-Match names the measurement's revision (its ETag), not the case's version."""
    session, principal = change.session, change.principal

    async def create() -> Created:
        case = await change.lock(
            if_match=IfMatch.OTHER_ROW, check=lambda locked: service.ensure_open_for_measurements(principal, locked)
        )
        measurement = await service.measurement_of_case(session, case.id, measurement_id, for_update=True)
        change.check_version(measurement.revision)
        measurement, revisions = await service.revise(session, principal, case, measurement, body, settings)
        return created(
            service.to_public(measurement, revisions),
            version=measurement.revision,
            location=_location(case.id, measurement.id),
            status_code=201 if change.request.method == "POST" else 200,
        )

    return await change.create_once(body, create)


router.add_api_route(
    "/{measurement_id}/revisions",
    _revise,
    methods=["POST"],
    status_code=201,
    response_model=MeasurementPublic,
    dependencies=verifiers,
    summary="Correct a measurement: append a revision (If-Match: the measurement's ETag)",
)
router.add_api_route(
    "/{measurement_id}",
    _revise,
    methods=["PUT"],
    response_model=MeasurementPublic,
    dependencies=verifiers,
    name="revise_measurement_put",
    summary="Correct a measurement — same as POST .../revisions: appends a revision",
)


@router.post("/{measurement_id}/withdrawal", status_code=201, response_model=MeasurementPublic, dependencies=verifiers)
async def withdraw_measurement(measurement_id: uuid.UUID, body: WithdrawalBody, change: CaseChange) -> Response:
    """Withdraw a period recorded by mistake: appends a withdrawing revision with the reason (If-Match: the
    measurement's ETag); the computation leaves it out, every revision stays readable."""
    session, principal = change.session, change.principal

    async def create() -> Created:
        case = await change.lock(
            if_match=IfMatch.OTHER_ROW, check=lambda locked: service.ensure_open_for_measurements(principal, locked)
        )
        measurement = await service.measurement_of_case(session, case.id, measurement_id, for_update=True)
        change.check_version(measurement.revision)
        measurement, revisions = await service.withdraw(session, principal, case, measurement, body.reason)
        return created(
            service.to_public(measurement, revisions),
            version=measurement.revision,
            location=_location(case.id, measurement.id),
        )

    return await change.create_once(body, create)
