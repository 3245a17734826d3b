"""Re-freezing a case's baseline: an officer proposes, the verifier confirms (four-eyes)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Response

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.changes import IfMatch
from cleanprod_kit.concurrency import set_etag
from cleanprod_kit.db import SessionDep, release
from cleanprod_kit.roles import Role

from ..access import READ_ROLES
from ..cases.service import frozen_period, get_case, readable_case
from ..conclusions.inputs import ReportingInput
from ..conclusions.service import adjustment_rows, figures
from ..deps import CaseChange, MVSettingsDep, RegistryDep
from ..measurements.service import ensure_open_for_measurements, latest_inputs
from . import service
from .schemas import RefreezeConfirm, RefreezeCreate, RefreezePublic

router = APIRouter(prefix="/api/v1/verifications/{case_id}/baseline-refreezes", tags=["baseline re-freeze"])
readers = [Depends(require_roles(*READ_ROLES))]


@router.get("", response_model=list[RefreezePublic], dependencies=readers)
async def list_refreezes(case_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal) -> list[RefreezePublic]:
    await get_case(session, principal, case_id)
    return [service.to_public(r) for r in await service.of_case(session, case_id)]


@router.post("", status_code=201, response_model=RefreezePublic, dependencies=[Depends(require_roles(Role.OFFICER))])
async def propose_refreeze(
    case_id: uuid.UUID, body: RefreezeCreate, change: CaseChange, registry: RegistryDep, response: Response
) -> RefreezePublic:
    """An officer proposes the registry's current baseline periods (If-Match: the case's ETag). The registry is
    asked with no transaction open; the case is then locked and checked again."""
    session = change.session
    case = await readable_case(session, change.principal, case_id)
    service.ensure_may_refreeze(case)
    change.check_version(case.version)
    facility_id = case.facility_id
    await release(session)
    periods = [frozen_period(p) for p in await registry.baselines(facility_id)]
    case = await change.lock(check=service.ensure_may_refreeze)
    refreeze = service.propose(session, change.principal, case, body, periods)
    await change.commit()
    set_etag(response, case.version)
    return service.to_public(refreeze)


@router.post(
    "/{refreeze_id}/confirmation", response_model=RefreezePublic, dependencies=[Depends(require_roles(Role.VERIFIER))]
)
async def confirm_refreeze(
    refreeze_id: uuid.UUID, body: RefreezeConfirm, change: CaseChange, response: Response, mv_settings: MVSettingsDep
) -> RefreezePublic:
    """The case's acting verifier confirms (If-Match: the case's ETag): the baseline changes, every figure is
    recomputed on it, and the figures on the old baseline stay in the record."""
    session, principal = change.session, change.principal
    case = await change.lock(
        check=lambda locked: ensure_open_for_measurements(principal, locked), if_match=IfMatch.REQUIRED
    )
    refreeze = await service.refreeze_of_case(session, case.id, refreeze_id, for_update=True)
    service.ensure_may_confirm(principal, refreeze)
    reporting = [ReportingInput(m, r) for m, r in await latest_inputs(session, case.id)]
    adjustments = await adjustment_rows(session, case)
    old, new = figures(case, [list(case.baseline), list(refreeze.new_baseline)], reporting, adjustments, mv_settings)
    service.confirm(session, principal, case, refreeze, body, (old, new))
    await change.commit()
    set_etag(response, case.version)
    return service.to_public(refreeze)
