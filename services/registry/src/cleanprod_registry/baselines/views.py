from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, Response

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.changes import created
from cleanprod_kit.concurrency import set_etag
from cleanprod_kit.db import SessionDep
from cleanprod_kit.idempotency import Created, create_once
from cleanprod_kit.pagination import CursorParam, LimitParam, Page

from ..access import READ_ROLES, WRITE_ROLES
from ..deps import BaselineChange
from . import service
from .schemas import BaselineFields, BaselinePublic

router = APIRouter(prefix="/api/v1/facilities/{facility_id}/baselines", tags=["baselines"])
readers = [Depends(require_roles(*READ_ROLES))]
writers = [Depends(require_roles(*WRITE_ROLES))]


@router.post("", status_code=201, response_model=BaselinePublic, dependencies=writers)
async def record_baseline(
    facility_id: uuid.UUID, body: BaselineFields, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    async def create() -> Created:
        baseline = await service.add_baseline(session, principal, facility_id, body)
        return created(
            service.to_public(baseline),
            version=baseline.version,
            location=f"/api/v1/facilities/{facility_id}/baselines/{baseline.id}",
        )

    return await create_once(request, session, principal, body, create)


@router.get("", response_model=Page[BaselinePublic], dependencies=readers)
async def list_baselines(
    facility_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
) -> Page[BaselinePublic]:
    items, next_cursor = await service.list_baselines(session, principal, facility_id, limit=limit, cursor=cursor)
    return Page(items=[service.to_public(b) for b in items], next_cursor=next_cursor)


@router.get("/{baseline_id}", response_model=BaselinePublic, dependencies=readers)
async def read_baseline(
    facility_id: uuid.UUID, baseline_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> BaselinePublic:
    baseline = await service.get_baseline(session, principal, facility_id, baseline_id)
    set_etag(response, baseline.version)
    return service.to_public(baseline)


@router.put("/{baseline_id}", response_model=BaselinePublic, dependencies=writers)
async def correct_baseline(body: BaselineFields, change: BaselineChange, response: Response) -> BaselinePublic:
    baseline = await change.lock()
    await service.replace_baseline(change.session, change.principal, baseline, body)
    return await change.answer(response, service.to_public)
