"""Payment and recovery steps of a tranche: `POST /api/v1/applications/{id}/tranches/{tranche_id}/<step>`, If-Match =
the tranche's version (its `ETag`), answered with the tranche after the step."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Request, Response

from cleanprod_kit.auth import CurrentPrincipal, Principal, require_roles
from cleanprod_kit.changes import check_version, lock_row
from cleanprod_kit.concurrency import set_etag
from cleanprod_kit.db import SessionDep
from cleanprod_kit.roles import Role

from ..access import readable_application
from ..applications.models import Application
from ..grants.models import Tranche
from ..grants.schemas import TranchePublic
from . import service
from .schemas import CollectionBody, PaidBody

router = APIRouter(prefix="/api/v1/applications/{application_id}/tranches/{tranche_id}", tags=["payments"])
STEP_RESPONSES: dict[int | str, dict[str, str]] = {
    403: {"description": "Four-eyes: the same person may not take two steps of one payment"},
    404: {"description": "No such application or tranche"},
    409: {"description": "The tranche is not at this step"},
    412: {"description": "If-Match is stale"},
    428: {"description": "If-Match is missing"},
}

Step = Callable[[Principal, Application, Tranche], Awaitable[object]]


async def _step(
    application_id: uuid.UUID,
    tranche_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Principal,
    response: Response,
    act: Step,
) -> TranchePublic:
    """Read access → the tranche locked FOR UPDATE → If-Match → the step → commit → the tranche and its ETag."""
    application = await readable_application(session, principal, application_id)
    tranche = await lock_row(session, await service.tranche_of(session, application, tranche_id))
    check_version(request, tranche.version)
    await act(principal, application, tranche)
    await session.commit()
    set_etag(response, tranche.version)
    return TranchePublic.model_validate(tranche, from_attributes=True)


@router.post(
    "/prepare",
    response_model=TranchePublic,
    dependencies=[Depends(require_roles(Role.FINANCE))],
    responses=STEP_RESPONSES,
)
async def prepare(
    application_id: uuid.UUID,
    tranche_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
) -> TranchePublic:
    """payable → prepared: finance draws up the payment order."""

    async def act(p: Principal, a: Application, t: Tranche) -> None:
        await service.prepare(session, p, a, t)

    return await _step(application_id, tranche_id, request, session, principal, response, act)


@router.post(
    "/approve",
    response_model=TranchePublic,
    dependencies=[Depends(require_roles(Role.OFFICER))],
    responses=STEP_RESPONSES,
)
async def approve(
    application_id: uuid.UUID,
    tranche_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
) -> TranchePublic:
    """prepared → approved: an officer other than the preparer approves the payment."""

    async def act(p: Principal, a: Application, t: Tranche) -> None:
        await service.approve(session, p, a, t)

    return await _step(application_id, tranche_id, request, session, principal, response, act)


@router.post(
    "/paid",
    response_model=TranchePublic,
    dependencies=[Depends(require_roles(Role.FINANCE))],
    responses=STEP_RESPONSES,
)
async def mark_paid(
    body: PaidBody,
    application_id: uuid.UUID,
    tranche_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
) -> TranchePublic:
    """approved → paid, with the value date, the treasury/bank reference and the amount (the tranche's)."""

    async def act(p: Principal, a: Application, t: Tranche) -> None:
        await service.mark_paid(session, p, a, t, body)

    return await _step(application_id, tranche_id, request, session, principal, response, act)


@router.post(
    "/collections",
    response_model=TranchePublic,
    dependencies=[Depends(require_roles(Role.FINANCE))],
    responses=STEP_RESPONSES,
)
async def collect(
    body: CollectionBody,
    application_id: uuid.UUID,
    tranche_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
) -> TranchePublic:
    """A part of a recovery collected; the recovery becomes `recovered` once collected in full."""

    async def act(p: Principal, a: Application, t: Tranche) -> None:
        await service.collect(session, p, a, t, body)

    return await _step(application_id, tranche_id, request, session, principal, response, act)
