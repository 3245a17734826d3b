"""An application's message thread and supplement requests, as both the enterprise's application page and the
officer's case page show them (one code for both audiences; each audience's routes say who may do what).

A message is sent in two calls: the text (`POST /applications/{id}/messages`, with an Idempotency-Key from the form)
and then, when a file was chosen, the file (`POST …/messages/{message_id}/attachments`). Forms with a file come in
through the one upload path (`uploads.receive`: the text fields before the file are read, the CSRF token checked,
the file streamed on as it arrives); the API's size and type rules are the one rule, and its refusals are said next
to the file field (`uploads.upload_error`)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from . import uploads
from .api import Api, ApiProblem, Conflict, FieldErrors, NotAllowed
from .forms import Form
from .i18n import N_, _

VISIBILITIES = {"shared": N_("Shared with the enterprise"), "internal": N_("Internal (Department staff only)")}
SUPPLEMENT_ITEM_ROWS = 5  # item fields the officer's form offers (empty ones are left out)
MAX_TEXT_BYTES = 20_000  # a message or an answer before the file: the API takes 4,000 characters (≤ 4 bytes each)


async def thread_of(api: Api, application_id: str) -> list[dict[str, Any]]:
    """The thread, oldest first (the API leaves out what the caller may not see)."""
    return await api.all_pages(f"/applications/{application_id}/messages", limit=200)


async def receive(request: Request, csrf_token: str) -> uploads.IncomingUpload:
    """A message or answer form: its text fields, then (maybe) its file (routes marked `checks_csrf_itself`)."""
    return await uploads.receive(request, csrf_token, max_field_bytes=MAX_TEXT_BYTES)


def _refused_file(problem: ApiProblem) -> bool:
    return isinstance(problem, (FieldErrors, Conflict, NotAllowed)) or problem.status in (413, 415)


async def send_message(api: Api, application_id: str, incoming: uploads.IncomingUpload, *, staff: bool) -> Form:
    """Send what the message form holds; the form comes back with its errors (none: sent)."""
    form = Form(incoming.fields)
    body = form.data(["body"])["body"]
    visibility = form.get("visibility") if staff else "shared"
    if not body:
        form.add_error("body", _("Write your message"))
        return form
    try:
        sent = await api.post(
            f"/applications/{application_id}/messages",
            json={"body": body, "visibility": visibility or "shared"},
            idempotency_key=form.idempotency_key,
        )
    except FieldErrors as problem:
        form.add_problem(problem)
        return form
    if incoming.has_file:
        try:
            await incoming.send(api, f"/applications/{application_id}/messages/{sent.data['id']}/attachments", {})
        except ApiProblem as problem:
            if not _refused_file(problem):
                raise
            # The text is sent; the file is not: say so at the file field, with the text gone from the form.
            form = Form({"visibility": visibility})
            why = uploads.upload_error(problem)
            form.add_error("file", _("The message was sent without its file: %(why)s", why=why))
    return form


async def supplement_requests(api: Api, application: dict[str, Any]) -> list[dict[str, Any]]:
    """The application's supplement requests, newest first; none asked unless it is or was under review."""
    if application.get("status") not in ("under_review", "approved", "rejected", "in_progress", "completed"):
        return []
    requests = await api.get(f"/applications/{application['id']}/supplement-requests")
    return list(reversed(requests))


def item_forms(requests: list[dict[str, Any]], given: dict[str, Form] | None = None) -> dict[str, Form]:
    """One answer form per unanswered item of the open request (item id → form)."""
    forms = dict(given or {})
    for request in requests:
        if request["status"] == "open":
            for item in request["items"]:
                if not item.get("answered_at"):
                    forms.setdefault(item["id"], Form())
    return forms


async def answer_item(
    api: Api, application_id: str, request_id: str, item_id: str, incoming: uploads.IncomingUpload
) -> tuple[Form, bool]:
    """Answer one item with a text, a file (uploaded as a document of the application first), or both. Returns
    the form (with errors) and whether the request is now answered in full."""
    form = Form(incoming.fields)
    answer = form.data(["answer"])["answer"]
    if not answer and not incoming.has_file:
        form.add_error("answer", _("Write an answer or choose a file (or both)"))
        return form, False
    body: dict[str, Any] = {"answer": answer}
    if incoming.has_file:
        try:
            document = await incoming.send(api, f"/applications/{application_id}/documents", {"kind": "other"})
        except ApiProblem as problem:
            if not _refused_file(problem):
                raise
            form.add_error("file", uploads.upload_error(problem))
            return form, False
        body["document_id"] = document.data["id"]
    path = f"/applications/{application_id}/supplement-requests/{request_id}/items/{item_id}/answer"
    try:
        result = await api.post(path, json={k: v for k, v in body.items() if v is not None})
    except FieldErrors as problem:
        form.add_problem(problem, {"document_id": "file"})
        return form, False
    except Conflict as problem:
        form.add_error(None, problem.summary)
        return form, False
    return form, result.data["status"] == "answered"


def supplement_body(form: Form) -> dict[str, Any]:
    """The officer's itemised request from the form: the filled item fields in order, and the covering note."""
    items = []
    for n in range(SUPPLEMENT_ITEM_ROWS):
        needed = form.data([f"items.{n}.needed"])[f"items.{n}.needed"]
        if needed:
            items.append({"needed": needed})
    body: dict[str, Any] = {"items": items}
    note = form.data(["note"])["note"]
    if note:
        body["note"] = note
    return body
