"""The case page's "Messages" and "Supplement requests" tabs: the thread with the enterprise (officers write shared
messages or internal notes, with a file) and the itemised supplement requests (an officer asks, with the
application's version as If-Match: a 412 shows the "changed meanwhile" banner with the typed items kept).
Auditors read both tabs without the forms; a forged POST gets the 403 page (`Officer`)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import messaging, security
from ..api import ChangedMeanwhile, Conflict, FieldErrors
from ..deps import ApiClient
from ..forms import Form
from ..i18n import _
from .case import CASE_PATH, _case
from .routes import Officer, OfficerReader

router = APIRouter(prefix="/officer")


async def _messages_tab(
    request: Request, api: Any, application_id: UUID, form: Form | None = None, status_code: int = 200
) -> HTMLResponse:
    response = await _case(
        request,
        api,
        application_id,
        "messages",
        messages=await messaging.thread_of(api, str(application_id)),
        message_form=form or Form({"visibility": "shared"}),
        visibilities=messaging.VISIBILITIES,
    )
    response.status_code = status_code
    return response


@router.get("/applications/{application_id}/messages", response_class=HTMLResponse)
async def messages(request: Request, application_id: UUID, user: OfficerReader, api: ApiClient) -> HTMLResponse:
    return await _messages_tab(request, api, application_id)


@router.post("/applications/{application_id}/messages", response_class=HTMLResponse)
@security.checks_csrf_itself
async def send_message(request: Request, application_id: UUID, user: Officer, api: ApiClient) -> Response:
    incoming = await messaging.receive(request, user.csrf_token)
    form = await messaging.send_message(api, str(application_id), incoming, staff=True)
    if form.has_errors:
        return await _messages_tab(request, api, application_id, form, status_code=422)
    return RedirectResponse(f"{CASE_PATH}/{application_id}/messages?sent=1#messages", status_code=303)


async def _supplements_tab(
    request: Request, api: Any, application_id: UUID, form: Form | None = None, status_code: int = 200
) -> HTMLResponse:
    application = await api.get(f"/applications/{application_id}")
    requests = await messaging.supplement_requests(api, application)
    form = form or Form({"version": str(application["version"])})
    response = await _case(
        request,
        api,
        application_id,
        "supplements",
        supplements=requests,
        form=form,
        item_rows=range(messaging.SUPPLEMENT_ITEM_ROWS),
        may_request=application["status"] == "under_review" and not application.get("open_supplement_id"),
    )
    response.status_code = status_code
    return response


@router.get("/applications/{application_id}/supplements", response_class=HTMLResponse)
async def supplements(request: Request, application_id: UUID, user: OfficerReader, api: ApiClient) -> HTMLResponse:
    return await _supplements_tab(request, api, application_id)


@router.post("/applications/{application_id}/supplements", response_class=HTMLResponse)
async def request_supplement(request: Request, application_id: UUID, user: Officer, api: ApiClient) -> Response:
    form = Form(await request.form())
    body = messaging.supplement_body(form)
    if not body["items"]:
        form.add_error("items.0.needed", _("Write at least one item the enterprise must supply"))
        return await _supplements_tab(request, api, application_id, form, status_code=422)
    try:
        await api.post(
            f"/applications/{application_id}/supplement-requests",
            json=body,
            if_match=f'"{form.get("version")}"',
            idempotency_key=form.idempotency_key,
        )
    except FieldErrors as problem:
        form.add_problem(problem)
        return await _supplements_tab(request, api, application_id, form, status_code=422)
    except ChangedMeanwhile:
        current = await api.get(f"/applications/{application_id}")
        form.changed_meanwhile = True
        form.values["version"] = str(current["version"])
        return await _supplements_tab(request, api, application_id, form, status_code=409)
    except Conflict as problem:
        form.add_error(None, problem.summary)
        return await _supplements_tab(request, api, application_id, form, status_code=409)
    return RedirectResponse(f"{CASE_PATH}/{application_id}/supplements?requested=1", status_code=303)
