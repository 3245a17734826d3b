from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Request, Response

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.changes import created
from cleanprod_kit.concurrency import set_etag
from cleanprod_kit.db import SessionDep
from cleanprod_kit.fields import CalendarDate, Param
from cleanprod_kit.idempotency import Created, create_once
from cleanprod_kit.pagination import CursorParam, LimitParam, Page
from cleanprod_kit.roles import Role

from ..deps import CallChange
from . import service
from .schemas import CallCreate, CallPublic, CallUpdate

router = APIRouter(prefix="/api/v1/calls", tags=["calls"])
officers = [Depends(require_roles(Role.OFFICER))]


@router.post(
    "",
    status_code=201,
    response_model=CallPublic,
    dependencies=officers,
    responses={409: {"description": "Code already used"}},
)
async def open_call(body: CallCreate, request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    async def create() -> Created:
        call = await service.create_call(session, principal, body)
        return created(service.to_public(call), version=call.version, location=f"/api/v1/calls/{call.id}")

    return await create_once(request, session, principal, body, create)


@router.get("", response_model=Page[CallPublic])
async def list_calls(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
    code: Param | None = Query(None, max_length=32),
    open_on: CalendarDate | None = Query(None, description="Only calls open on this date (Hanoi calendar)"),
) -> Page[CallPublic]:
    calls, next_cursor = await service.list_calls(session, code=code, open_on=open_on, limit=limit, cursor=cursor)
    return Page(items=[service.to_public(c) for c in calls], next_cursor=next_cursor)


@router.get("/{call_id}", response_model=CallPublic)
async def read_call(
    call_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> CallPublic:
    call = await service.get_call(session, call_id)
    set_etag(response, call.version)
    return service.to_public(call)


@router.patch("/{call_id}", response_model=CallPublic, dependencies=officers)
async def update_call(body: CallUpdate, change: CallChange, response: Response) -> CallPublic:
    call = await change.lock()
    await service.update_call(change.session, change.principal, call, body)
    return await change.answer(response, service.to_public)
