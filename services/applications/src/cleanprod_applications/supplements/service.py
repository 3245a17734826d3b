"""Supplement requests (yêu cầu bổ sung): an officer lists what a dossier under review lacks, the enterprise
answers item by item, and the last answer returns the dossier to processing.

Choice (docs/applications.md, "Supplement requests"): a **sub-state of under_review**, not a lifecycle status.
The application stays `under_review` (so the lifecycle's arrows and its 144-pair table are unchanged) while
`open_supplement_id` names the open request; meanwhile it reports e-gov 5, its statutory clock is stopped, the
enterprise may attach documents, and no decision can be taken. `request_changes` (→ changes_requested, a new
submission and screening) stays the way to send a dossier back for rework.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.auth import Principal
from cleanprod_kit.changes import public_from
from cleanprod_kit.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from cleanprod_kit.models import utcnow
from cleanprod_kit.outbox import emit

from ..access import owns
from ..applications import flows
from ..applications.audit import audit_application
from ..applications.deadlines import clock_is_stopped, follow_clock
from ..applications.models import Application
from ..calls.service import call_of
from ..db_types import touch
from ..documents.models import Document
from ..domain import ApplicationStatus
from ..notifications import rules as notification_rules
from .models import SupplementItem, SupplementRequest
from .schemas import AnswerBody, SupplementItemPublic, SupplementRequestBody, SupplementRequestPublic

EVENT_TYPES = {
    "supplement_requested": "application.supplement_requested",
    "supplement_answered": "application.supplement_answered",
}
"""What happened → its outbox event type (a mapping, so the kit's publisher scan reads every type)."""


def to_public(request: SupplementRequest, items: list[SupplementItem]) -> SupplementRequestPublic:
    return public_from(
        SupplementRequestPublic,
        request,
        items=[SupplementItemPublic.model_validate(i, from_attributes=True) for i in items],
    )


async def items_of(session: AsyncSession, request_id: uuid.UUID) -> list[SupplementItem]:
    rows = await session.exec(
        select(SupplementItem).where(SupplementItem.request_id == request_id).order_by(SupplementItem.position)
    )  # type: ignore[arg-type]
    return list(rows.all())


async def list_requests(session: AsyncSession, application: Application) -> list[SupplementRequestPublic]:
    rows = await session.exec(
        select(SupplementRequest)
        .where(SupplementRequest.application_id == application.id)
        .order_by(SupplementRequest.id)
    )  # type: ignore[arg-type]
    return [to_public(r, await items_of(session, r.id)) for r in rows.all()]


def _summary(items: list[SupplementItem]) -> list[dict[str, Any]]:
    return [
        {
            "position": i.position,
            "needed": i.needed,
            "answer": i.answer,
            "document_id": str(i.document_id) if i.document_id else None,
        }
        for i in items
    ]


async def _event(
    session: AsyncSession,
    principal: Principal,
    application: Application,
    what: str,
    request: SupplementRequest,
    items: list[SupplementItem],
) -> None:
    call = await call_of(session, application)
    status = str(application.status)
    event = emit(
        session,
        EVENT_TYPES[what],
        aggregate_type=flows.ENTITY,
        aggregate_id=application.id,
        payload=flows.event_payload(
            application,
            call,
            action=what,
            previous=status,
            reason=request.note,
            actor=principal,
            tranches=[],
            extra={"supplement": {"request_id": str(request.id), "status": request.status, "items": _summary(items)}},
        ),
    )
    await notification_rules.after_event(session, application, event)


async def request_supplement(
    session: AsyncSession, principal: Principal, application: Application, body: SupplementRequestBody
) -> tuple[SupplementRequest, list[SupplementItem]]:
    """On a row-locked application (If-Match checked): open the request, stop the clock, report e-gov 5."""
    if application.status != ApplicationStatus.UNDER_REVIEW:
        raise Conflict(
            code="not_under_review",
            params={"what": "A supplement request", "status": str(application.status)},
            status_now=str(application.status),
        )
    if application.open_supplement_id is not None:
        raise Conflict(code="supplement_already_open", request_id=str(application.open_supplement_id))
    request = SupplementRequest(
        application_id=application.id,
        note=body.note,
        requested_by_subject=principal.subject,
        requested_by_name=principal.display_name,
    )
    session.add(request)
    await session.flush()
    items = [
        SupplementItem(request_id=request.id, position=n, needed=item.needed)
        for n, item in enumerate(body.items, start=1)
    ]
    session.add_all(items)
    was_stopped = clock_is_stopped(application)
    application.open_supplement_id = request.id
    touch(application)
    follow_clock(application, was_stopped, utcnow())
    await session.flush()
    audit_application(
        session,
        principal,
        application,
        "request_supplement",
        reason=body.note,
        details={"request_id": str(request.id), "items": _summary(items)},
    )
    await _event(session, principal, application, "supplement_requested", request, items)
    return request, items


async def answer_item(
    session: AsyncSession,
    principal: Principal,
    application: Application,
    request_id: uuid.UUID,
    item_id: uuid.UUID,
    body: AnswerBody,
) -> tuple[SupplementRequest, list[SupplementItem]]:
    """On a row-locked application: the owning enterprise answers one item; the last answer closes the request,
    restarts the clock and returns the dossier to processing (e-gov 4)."""
    if not owns(principal, application):
        raise Forbidden(code="supplement_answer_forbidden")
    request = await session.get(SupplementRequest, request_id)
    if request is None or request.application_id != application.id:
        raise NotFound(code="supplement_request_not_found", params={"request_id": str(request_id)})
    items = await items_of(session, request.id)
    item = next((i for i in items if i.id == item_id), None)
    if item is None:
        raise NotFound(code="supplement_item_not_found", params={"item_id": str(item_id)})
    if request.status != "open" or item.answered_at is not None:
        raise Conflict(code="supplement_item_answered", params={"position": item.position})
    if body.answer is None and body.document_id is None:
        raise Unprocessable(
            code="supplement_answer_empty", errors=[field_error("answer", None, "supplement_answer_empty")]
        )
    if body.document_id is not None:
        document = await session.get(Document, body.document_id)
        if document is None or document.application_id != application.id:
            raise Unprocessable(
                code="supplement_document_unknown",
                errors=[field_error("document_id", str(body.document_id), "supplement_document_unknown")],
            )
    now = utcnow()
    item.answer, item.document_id = body.answer, body.document_id
    item.answered_by_subject, item.answered_by_name, item.answered_at = principal.subject, principal.display_name, now
    touch(application)  # the dossier changed: a decision taken on an older view gets 412
    audit_application(
        session,
        principal,
        application,
        "answer_supplement_item",
        details={
            "request_id": str(request.id),
            "position": item.position,
            "needed": item.needed,
            "answer": item.answer,
            "document_id": str(item.document_id) if item.document_id else None,
        },
    )
    if all(i.answered_at is not None for i in items):
        request.status, request.answered_at = "answered", now
        was_stopped = clock_is_stopped(application)
        application.open_supplement_id = None
        follow_clock(application, was_stopped, now)
        await session.flush()
        audit_application(
            session,
            principal,
            application,
            "supplement_answered",
            details={"request_id": str(request.id), "items": _summary(items)},
        )
        await _event(session, principal, application, "supplement_answered", request, items)
    await session.flush()
    return request, items
