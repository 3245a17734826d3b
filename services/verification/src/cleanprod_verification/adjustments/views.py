"""Non-routine adjustments of a case: the verifier records, an officer decides (four-eyes)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, Response

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.changes import IfMatch, created, lock_row
from cleanprod_kit.concurrency import set_etag
from cleanprod_kit.db import SessionDep
from cleanprod_kit.idempotency import Created, create_once
from cleanprod_kit.roles import Role

from ..access import READ_ROLES
from ..cases.service import get_case, readable_case
from ..deps import CaseChange
from ..measurements.service import ensure_open_for_measurements
from . import service
from .schemas import AdjustmentCreate, AdjustmentDecision, AdjustmentPublic

router = APIRouter(prefix="/api/v1/verifications/{case_id}/adjustments", tags=["non-routine adjustments"])
readers = [Depends(require_roles(*READ_ROLES))]


def _location(case_id: uuid.UUID, adjustment_id: uuid.UUID) -> str:
    return f"/api/v1/verifications/{case_id}/adjustments/{adjustment_id}"


@router.post("", status_code=201, response_model=AdjustmentPublic, dependencies=[Depends(require_roles(Role.VERIFIER))])
async def record_adjustment(
    case_id: uuid.UUID, body: AdjustmentCreate, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """The acting verifier records a non-routine adjustment (proposed until an officer decides)."""

    async def create() -> Created:
        case = await lock_row(session, await readable_case(session, principal, case_id))
        ensure_open_for_measurements(principal, case)
        adjustment = service.record(session, principal, case, body)
        await session.flush()
        return created(
            service.to_public(adjustment), version=adjustment.version, location=_location(case.id, adjustment.id)
        )

    return await create_once(request, session, principal, body, create)


@router.get("", response_model=list[AdjustmentPublic], dependencies=readers)
async def list_adjustments(
    case_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> list[AdjustmentPublic]:
    await get_case(session, principal, case_id)
    return [service.to_public(a) for a in await service.of_case(session, case_id)]


@router.post(
    "/{adjustment_id}/decision", response_model=AdjustmentPublic, dependencies=[Depends(require_roles(Role.OFFICER))]
)
async def decide_adjustment(
    adjustment_id: uuid.UUID, body: AdjustmentDecision, change: CaseChange, response: Response
) -> AdjustmentPublic:
    """An officer other than the recorder approves or rejects (If-Match: the adjustment's ETag)."""
    case = await change.lock(if_match=IfMatch.OTHER_ROW)
    adjustment = await service.adjustment_of_case(change.session, case.id, adjustment_id, for_update=True)
    change.check_version(adjustment.version)
    service.decide(change.session, change.principal, case, adjustment, body)
    await change.commit()
    set_etag(response, adjustment.version)
    return service.to_public(adjustment)
