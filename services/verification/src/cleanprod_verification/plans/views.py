"""The case's M&V plan (the verifier's choice of baseline model) and its approved reporting start (officer)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Response

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.concurrency import set_etag
from cleanprod_kit.db import SessionDep
from cleanprod_kit.roles import Role

from ..access import READ_ROLES
from ..cases.service import get_case
from ..deps import CaseChange
from ..measurements.service import ensure_open_for_measurements
from . import service
from .schemas import MVPlanBody, MVPlanPublic, ReportingStartBody, ReportingStartPublic
from .service import ensure_officer_may_set_reporting_start

router = APIRouter(prefix="/api/v1/verifications/{case_id}", tags=["M&V plan"])
readers = [Depends(require_roles(*READ_ROLES))]


@router.get("/mv-plan", response_model=MVPlanPublic, dependencies=readers)
async def read_plan(
    case_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> MVPlanPublic:
    case = await get_case(session, principal, case_id)
    set_etag(response, case.version)
    return service.plan_public(case)


@router.put("/mv-plan", response_model=MVPlanPublic, dependencies=[Depends(require_roles(Role.VERIFIER))])
async def set_plan(body: MVPlanBody, change: CaseChange, response: Response) -> MVPlanPublic:
    """The acting verifier chooses the baseline model while measuring (If-Match: the case's ETag)."""
    case = await change.lock(check=lambda locked: ensure_open_for_measurements(change.principal, locked))
    service.set_plan(change.session, change.principal, case, body)
    return await change.answer(response, service.plan_public)


@router.get("/reporting-start", response_model=ReportingStartPublic, dependencies=readers)
async def read_reporting_start(
    case_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> ReportingStartPublic:
    case = await get_case(session, principal, case_id)
    set_etag(response, case.version)
    return service.reporting_start_public(case)


@router.put(
    "/reporting-start", response_model=ReportingStartPublic, dependencies=[Depends(require_roles(Role.OFFICER))]
)
async def set_reporting_start(body: ReportingStartBody, change: CaseChange, response: Response) -> ReportingStartPublic:
    """An officer approves the first reporting day when it is not the day after completion (If-Match)."""
    case = await change.lock(check=ensure_officer_may_set_reporting_start)
    service.set_reporting_start(change.session, change.principal, case, body)
    return await change.answer(response, service.reporting_start_public)
