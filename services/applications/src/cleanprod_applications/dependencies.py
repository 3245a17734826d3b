"""Route plumbing shared by the applications service's routers."""

from __future__ import annotations

import uuid

from fastapi import Request, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.auth import Principal
from cleanprod_kit.concurrency import check_if_match, set_etag

from .access import readable_application
from .applications.models import Application
from .applications.schemas import ApplicationPublic
from .applications.service import public_view
from .config import ApplicationsSettings


def settings_of(request: Request) -> ApplicationsSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def locked_application(request: Request, session: AsyncSession, principal: Principal,
                             application_id: uuid.UUID, *, if_match: bool = True) -> Application:
    """The application, readable by the caller (404 otherwise), locked FOR UPDATE, with If-Match checked
    (428 without it, 412 when stale) — or, with `if_match=False`, checked only when the client sent one."""
    application = await readable_application(session, principal, application_id, for_update=True)
    if if_match or request.headers.get("if-match") is not None:
        check_if_match(request, application.version)
    return application


async def answer(session: AsyncSession, principal: Principal, application: Application,
                 response: Response) -> ApplicationPublic:
    set_etag(response, application.version)
    return await public_view(session, principal, application)
