"""The enterprise's side of an application's thread and of its supplement requests, on the application page
(`#messages`, `#supplement-requests`): send a message (with a file), answer a supplement request item by item.
Every POST redirects back to the page (post/redirect/get); with errors the page comes back with them (422)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import messaging, security
from ..deps import ApiClient, Enterprise
from . import application_tasks as tasks
from .applications import render_page

router = APIRouter(prefix=tasks.APPLICATIONS_PATH)


@router.post("/{application_id}/messages", response_class=HTMLResponse)
@security.checks_csrf_itself
async def send_message(request: Request, application_id: UUID, user: Enterprise, api: ApiClient) -> Response:
    incoming = await messaging.receive(request, user.csrf_token)
    form = await messaging.send_message(api, str(application_id), incoming, staff=False)
    if form.has_errors:
        return await render_page(request, api, str(application_id), forms={"message": form}, status_code=422)
    return RedirectResponse(tasks.application_url(str(application_id)) + "?sent=1#messages", status_code=303)


@router.post("/{application_id}/supplement-requests/{request_id}/items/{item_id}", response_class=HTMLResponse)
@security.checks_csrf_itself
async def answer_item(
    request: Request, application_id: UUID, request_id: UUID, item_id: UUID, user: Enterprise, api: ApiClient
) -> Response:
    incoming = await messaging.receive(request, user.csrf_token)
    form, finished = await messaging.answer_item(api, str(application_id), str(request_id), str(item_id), incoming)
    if form.has_errors:
        return await render_page(
            request, api, str(application_id), forms={"items": {str(item_id): form}}, status_code=422
        )
    done = "answered=all" if finished else "answered=1"
    return RedirectResponse(
        tasks.application_url(str(application_id)) + f"?{done}#supplement-requests", status_code=303
    )
