"""The in-app notifications of the caller (every role that logs in) and its preferences."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.db import SessionDep
from cleanprod_kit.fields import QueryFlag
from cleanprod_kit.pagination import CursorParam, LimitParam, Page

from . import inbox, preferences
from .inbox import PERSON_ROLES
from .schemas import NotificationPublic, PreferenceChange, PreferencePublic, UnreadCount
from .texts import language_of

router = APIRouter(prefix="/api/v1", tags=["notifications"], dependencies=[Depends(require_roles(*PERSON_ROLES))])


@router.get("/notifications", response_model=Page[NotificationPublic])
async def list_notifications(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    unread: Annotated[QueryFlag, Query(description="Only those the caller has not read")] = False,
    limit: LimitParam = 20,
    cursor: CursorParam = None,
) -> Page[NotificationPublic]:
    """Newest first, addressed to the caller, its enterprise or one of its roles; title and body in the request's
    language (Vietnamese unless Accept-Language asks for English)."""
    items, next_cursor = await inbox.list_for(
        session,
        principal,
        unread=unread,
        limit=limit,
        cursor=cursor,
        language=language_of(request.headers.get("accept-language")),
    )
    return Page(items=[NotificationPublic.model_validate(i) for i in items], next_cursor=next_cursor)


@router.get("/notifications/unread-count", response_model=UnreadCount)
async def unread_count(session: SessionDep, principal: CurrentPrincipal) -> UnreadCount:
    """How many the caller has not read (the portal's bell asks on every page)."""
    return UnreadCount(unread=await inbox.unread_count(session, principal))


@router.post("/notifications/read-all", status_code=204, response_class=Response)
async def mark_all_read(session: SessionDep, principal: CurrentPrincipal) -> Response:
    await inbox.mark_all_read(session, principal)
    await session.commit()
    return Response(status_code=204)


@router.post(
    "/notifications/{notification_id}/read",
    status_code=204,
    response_class=Response,
    responses={404: {"description": "No such notification for the caller"}},
)
async def mark_read(notification_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal) -> Response:
    await inbox.mark_read(session, principal, notification_id)
    await session.commit()
    return Response(status_code=204)


@router.get("/notification-preferences", response_model=list[PreferencePublic])
async def read_preferences(session: SessionDep, principal: CurrentPrincipal) -> list[PreferencePublic]:
    """Every kind, whether it is statutory, and whether the caller takes it in the portal and by e-mail."""
    return [PreferencePublic.model_validate(p) for p in await preferences.preferences_of(session, principal.subject)]


@router.put(
    "/notification-preferences",
    response_model=list[PreferencePublic],
    responses={422: {"description": "A statutory kind switched off (notification_statutory), or a bad change"}},
)
async def change_preferences(
    session: SessionDep,
    principal: CurrentPrincipal,
    changes: list[PreferenceChange] = Body(max_length=200),
) -> list[PreferencePublic]:
    """Switch kinds on or off per channel; the answer is the caller's whole new list."""
    answer = await preferences.change(session, principal, changes)
    await session.commit()
    return [PreferencePublic.model_validate(p) for p in answer]
