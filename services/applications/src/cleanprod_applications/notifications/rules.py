"""Who is told what (issue 10). Every rule runs in the transaction of the change that causes it, so a
notification exists exactly when its cause was committed, and its dedupe key names that cause (an event id, an
assignment, a delivery), so a retried or replayed cause never tells anyone twice.

Application events go through one table (`EVENT_RULES`, event type → rule), called with the event just emitted
by `applications.flows.apply_transition` (every lifecycle transition) and by the supplement requests. Causes that
are not application events have one hook each, called where they happen: a reviewer assigned (reviews/service.py), the last review in
(reviews/service.py), a verifier assigned (verifiers/events.py), a webhook delivery dead-lettered
(integrations/delivery.py), a tranche paid (grants/service.py). Reminders and overdue checks are in scheduler.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.local_time import local_date
from cleanprod_kit.models import OutboxEvent
from cleanprod_kit.outbox import QueuedEvent

from ..applications.models import Application
from ..calls.models import Call
from ..grants.models import Tranche
from ..integrations.models import WebhookDelivery
from ..reviews.models import ReviewerAssignment
from ..verifiers.models import VerifierAssignment
from .models import NotificationKind as K
from .service import OFFICERS, Audience, notify

Event = OutboxEvent | QueuedEvent
"""An event just emitted (an ORM row) or queued (`cleanprod_kit.outbox.queue_event`): the rules read its id, type
and payload."""


def enterprise_link(application_id: uuid.UUID) -> str:
    return f"/enterprise/applications/{application_id}"


def officer_link(application_id: uuid.UUID) -> str:
    return f"/officer/applications/{application_id}"


def reviewer_link(application_id: uuid.UUID) -> str:
    return f"/review/{application_id}"


def verifier_link(verification_id: str | None) -> str:
    return f"/verify/{verification_id}" if verification_id else "/verify"


def _due_on(application: Application) -> str | None:
    return local_date(application.due_at).isoformat() if application.due_at else None


async def _tell_enterprise(
    session: AsyncSession, application: Application, event: Event, kind: K, **params: Any
) -> None:
    await notify(
        session,
        kind=kind,
        audience=Audience.enterprise(application.enterprise_id),
        params={"dossier_code": application.dossier_code, **params},
        link=enterprise_link(application.id),
        application_id=application.id,
        dedupe_key=f"{event.id}:{kind}",
    )


def _tranche(event: Event, kind: str) -> dict[str, Any] | None:
    return next((t for t in event.payload.get("tranches") or [] if t.get("kind") == kind), None)


async def _tranche_payable(session: AsyncSession, application: Application, event: Event, kind: str) -> None:
    """The enterprise is told when a tranche (advance on approval, balance on verification) becomes payable."""
    tranche = _tranche(event, kind)
    if tranche is None or tranche.get("status") != "payable" or not tranche.get("amount_vnd"):
        return
    await notify(
        session,
        kind=K.tranche_payable,
        audience=Audience.enterprise(application.enterprise_id),
        params={"dossier_code": application.dossier_code, "tranche": kind, "amount_vnd": tranche["amount_vnd"]},
        link=enterprise_link(application.id),
        application_id=application.id,
        dedupe_key=f"{event.id}:{K.tranche_payable}:{kind}",
    )


# ---- lifecycle events --------------------------------------------------------------------------------------------


async def _received(session: AsyncSession, application: Application, event: Event) -> None:
    await _tell_enterprise(
        session, application, event, K.dossier_received, title=application.title, due_on=_due_on(application)
    )


async def _ineligible(session: AsyncSession, application: Application, event: Event) -> None:
    reasons = [{"code": r.get("code"), "message": r.get("message")} for r in application.screening_reasons or []]
    await _tell_enterprise(session, application, event, K.screening_ineligible, reasons=reasons)


async def _changes_requested(session: AsyncSession, application: Application, event: Event) -> None:
    await _tell_enterprise(session, application, event, K.changes_requested, reason=application.decision_reason)


async def _decided(session: AsyncSession, application: Application, event: Event) -> None:
    approved = event.event_type == "application.approved"
    await _tell_enterprise(
        session,
        application,
        event,
        K.decision_made,
        outcome="approved" if approved else "rejected",
        amount_vnd=application.approved_support_vnd if approved else 0,
        reason=application.decision_reason,
    )
    if approved:
        await _tranche_payable(session, application, event, "advance")


async def _completed(session: AsyncSession, application: Application, event: Event) -> None:
    """The verifier of the case (if the verification service has assigned one) may start measuring."""
    verifier = await session.get(VerifierAssignment, application.id)
    if verifier is None:
        return
    await notify(
        session,
        kind=K.measurements_can_start,
        audience=Audience.user(verifier.verifier_subject),
        params={
            "dossier_code": application.dossier_code,
            "completed_on": application.completed_on.isoformat() if application.completed_on else None,
        },
        link=verifier_link(verifier.verification_id),
        application_id=application.id,
        dedupe_key=f"{event.id}:{K.measurements_can_start}",
    )


async def _supplement_requested(session: AsyncSession, application: Application, event: Event) -> None:
    items = (event.payload.get("supplement") or {}).get("items") or []
    await _tell_enterprise(
        session,
        application,
        event,
        K.supplement_requested,
        items=[i.get("needed") for i in items],
        note=event.payload.get("reason"),
    )


async def _verification_concluded(session: AsyncSession, application: Application, event: Event) -> None:
    verification = event.payload.get("verification") or {}
    await _tell_enterprise(
        session,
        application,
        event,
        K.verification_concluded,
        verdict=verification.get("verdict"),
        achieved_pct=round(100 * (verification.get("achieved_ratio") or 0), 1),
        balance_vnd=verification.get("balance_vnd") or 0,
        recover_vnd=verification.get("recover_vnd") or 0,
    )
    await _tranche_payable(session, application, event, "balance")


Rule = Callable[[AsyncSession, Application, Event], Awaitable[None]]

EVENT_RULES: dict[str, Rule] = {
    "application.submitted": _received,
    "application.resubmitted": _received,
    "application.screening_failed": _ineligible,
    "application.changes_requested": _changes_requested,
    "application.approved": _decided,
    "application.rejected": _decided,
    "application.completed": _completed,
    "application.verified": _verification_concluded,
    "application.not_achieved": _verification_concluded,
    "application.supplement_requested": _supplement_requested,
}
"""Application event type → who is told. Events not listed tell no one (withdrawn, screening passed, started,
supplement answered)."""


async def after_event(session: AsyncSession, application: Application, event: Event) -> None:
    """Called right after an application event was emitted (same transaction)."""
    rule = EVENT_RULES.get(event.event_type)
    if rule is not None:
        await rule(session, application, event)


async def tranche_paid(session: AsyncSession, application: Application, tranche: Tranche) -> None:
    """Finance recorded a tranche as paid (payments/service.py `mark_paid`, after an officer approved it)."""
    await notify(
        session,
        kind=K.tranche_paid,
        audience=Audience.enterprise(application.enterprise_id),
        params={
            "dossier_code": application.dossier_code,
            "tranche": str(tranche.kind),
            "amount_vnd": tranche.amount_vnd,
            "paid_on": tranche.paid_on.isoformat() if tranche.paid_on else None,
        },
        link=enterprise_link(application.id),
        application_id=application.id,
        dedupe_key=f"tranche_paid:{tranche.id}",
    )


# ---- reviews -----------------------------------------------------------------------------------------------------


async def review_assigned(session: AsyncSession, application: Application, assignment: ReviewerAssignment) -> None:
    await notify(
        session,
        kind=K.review_assigned,
        audience=Audience.user(assignment.reviewer_subject),
        params={
            "dossier_code": application.dossier_code,
            "title": application.title,
            "due_on": assignment.due_on.isoformat() if assignment.due_on else None,
        },
        link=reviewer_link(application.id),
        application_id=application.id,
        dedupe_key=f"review_assigned:{assignment.id}",
    )


async def reviews_maybe_complete(session: AsyncSession, application: Application, call: Call) -> None:
    """Officers are told once every assigned reviewer has declared and every one without a conflict has scored,
    when that makes at least the call's minimum number of reviews. Called after a review is submitted and after
    a declaration (a recusal may be what completes the set). The key carries the count: a further reviewer
    assigned and completed later tells them again."""
    assignments = list(
        await session.exec(select(ReviewerAssignment).where(ReviewerAssignment.application_id == application.id))
    )
    if any(a.conflict_declared is None or (not a.recused and a.scores is None) for a in assignments):
        return
    counted = sum(1 for a in assignments if not a.recused and a.scores is not None)
    if counted < call.min_reviews:
        return
    await notify(
        session,
        kind=K.ready_to_decide,
        audience=OFFICERS,
        params={"dossier_code": application.dossier_code, "reviews_counted": counted},
        link=officer_link(application.id),
        application_id=application.id,
        dedupe_key=f"ready_to_decide:{application.id}:{counted}",
    )


# ---- verification and webhooks -----------------------------------------------------------------------------------


async def verifier_assigned(
    session: AsyncSession,
    application: Application,
    *,
    verifier_subject: str,
    verification_id: str | None,
    event_id: Any,
) -> None:
    await notify(
        session,
        kind=K.verifier_assigned,
        audience=Audience.user(verifier_subject),
        params={"dossier_code": application.dossier_code, "verification_id": verification_id},
        link=verifier_link(verification_id),
        application_id=application.id,
        dedupe_key=f"{event_id}:{K.verifier_assigned}",
    )


async def webhook_dead_lettered(
    session: AsyncSession, *, delivery_id: uuid.UUID, subscription_id: uuid.UUID, url: str, attempts: int
) -> None:
    """Officers (who manage the e-gov subscriptions) are told a delivery was given up; one row per dead-lettering
    (a manual redelivery that dies again tells them again: the attempt count is in the key)."""
    delivery = await session.get(WebhookDelivery, delivery_id)
    application_id = None
    if delivery is not None and delivery.aggregate_type == "application":
        application_id = uuid.UUID(delivery.aggregate_id)
    await notify(
        session,
        kind=K.webhook_dead_lettered,
        audience=OFFICERS,
        params={
            "event_type": delivery.event_type if delivery else None,
            "url": url,
            "attempts": attempts,
            "subscription_id": str(subscription_id),
        },
        link=f"/officer/webhooks/{subscription_id}",
        application_id=application_id,
        dedupe_key=f"webhook_dead:{delivery_id}:{attempts}",
    )
