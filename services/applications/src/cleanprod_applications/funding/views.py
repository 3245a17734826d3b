from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Response

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.changes import created
from cleanprod_kit.db import SessionDep
from cleanprod_kit.idempotency import Created
from cleanprod_kit.roles import Role

from ..access import READ_ROLES, readable_application
from ..calls.service import get_call
from ..db_types import touch
from ..deps import CallChange
from . import service
from .schemas import ApplicationFunding, CallFunding, FundingSourceBody, FundingSourcePublic, FundingSourceUpdate

router = APIRouter(tags=["funding"])
MONEY_READERS = (Role.OFFICER, Role.FINANCE, Role.AUDITOR, Role.SERVICE)


@router.get(
    "/api/v1/calls/{call_id}/funding-sources",
    response_model=list[FundingSourcePublic],
    responses={404: {"description": "No such call"}},
)
async def list_sources(
    call_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> list[FundingSourcePublic]:
    """The sources a call's budget is made of, in the order awards draw on them."""
    call = await get_call(session, call_id)
    return [service.source_public(s) for s in await service.sources_of(session, call.id)]


@router.post(
    "/api/v1/calls/{call_id}/funding-sources",
    status_code=201,
    response_model=FundingSourcePublic,
    dependencies=[Depends(require_roles(Role.OFFICER))],
    responses={409: {"description": "Code already used in this call"}},
)
async def add_source(body: FundingSourceBody, change: CallChange) -> Response:
    """A further source for the call (If-Match = the call's version): the budget grows by its amount; awards
    draw on it after the existing ones."""

    async def create() -> Created:
        call = await change.lock()
        source = await service.add_source_to_call(change.session, change.principal, call, body)
        touch(call)
        return created(
            service.source_public(source), version=source.version, location=f"/api/v1/calls/{call.id}/funding-sources"
        )

    return await change.create_once(body, create)


@router.patch(
    "/api/v1/calls/{call_id}/funding-sources/{source_id}",
    response_model=FundingSourcePublic,
    dependencies=[Depends(require_roles(Role.OFFICER))],
    responses={
        404: {"description": "No such call or source"},
        409: {"description": "The amount would be below what the source has committed"},
    },
)
async def update_source(
    source_id: uuid.UUID, body: FundingSourceUpdate, change: CallChange, response: Response
) -> FundingSourcePublic:
    """A source's name, conditions or amount (If-Match = the call's version, as for adding one: the call's budget
    moves by the amount's difference). Answered with the source; the ETag is the call's new version."""
    call = await change.lock()
    source = await service.update_source(change.session, change.principal, call, source_id, body)
    touch(call)  # the budget is one of the call's terms: its version moves
    return await change.answer(response, lambda _call: service.source_public(source))


@router.get(
    "/api/v1/calls/{call_id}/funding",
    response_model=CallFunding,
    dependencies=[Depends(require_roles(*MONEY_READERS))],
    responses={404: {"description": "No such call"}},
)
async def call_funding(call_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal) -> CallFunding:
    """Committed, paid, cancelled, outstanding and recovered, per source and for the call (awarded = paid +
    cancelled + outstanding)."""
    return await service.call_funding(session, await get_call(session, call_id))


@router.get(
    "/api/v1/applications/{application_id}/funding",
    response_model=ApplicationFunding,
    dependencies=[Depends(require_roles(*READ_ROLES))],
    responses={404: {"description": "No such application, or not yours"}},
)
async def application_funding(
    application_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> ApplicationFunding:
    """The award per source and its money (the same figures as the call's report)."""
    application = await readable_application(session, principal, application_id)
    return await service.application_funding(session, application)
