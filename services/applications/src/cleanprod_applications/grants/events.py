"""`verification.concluded` from the verification service: the verdict is recorded on a `completed` application
(`applications/flows.py`, `record_verdict`), kept for one that is `approved` or `in_progress` (the completion report
is late, or events crossed: the completing transaction applies it), and acknowledged, audited as ignored and logged
for one that can never take a verdict (see `.verdicts` for why none is refused)."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.auth import Principal
from cleanprod_kit.models import utcnow
from cleanprod_kit.outbox import EventConsumer, EventEnvelope

from ..applications import flows
from ..applications.audit import audit_application
from ..applications.models import Application
from ..domain import ApplicationStatus
from ..domain.support_types import rule_of
from .models import PendingVerdict
from .verdicts import EVENT_TYPE, VerdictData, parse, service_actor

log = logging.getLogger("cleanprod.applications.verdicts")

DEFERRABLE = frozenset({ApplicationStatus.APPROVED, ApplicationStatus.IN_PROGRESS})


async def _lock_application(session: AsyncSession, application_id: uuid.UUID) -> Application | None:
    statement = (
        select(Application)
        .where(Application.id == application_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.exec(statement)).first()


async def _defer(
    session: AsyncSession, actor: Principal, application: Application, data: VerdictData, envelope: EventEnvelope
) -> None:
    """Keep the verdict until the application is completed (only the first one: a second is ignored)."""
    statement = (
        pg_insert(PendingVerdict)
        .values(
            application_id=application.id,
            event_id=envelope.id,
            source=envelope.source[:64],
            data=data.model_dump(mode="json"),
            received_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["application_id"])
    )
    stored = (await session.exec(statement)).rowcount == 1
    reason = (
        f"Verdict '{data.verdict}' received before completion; it applies on completion."
        if stored
        else f"Verdict '{data.verdict}' ignored: an earlier verdict is already waiting for completion."
    )
    audit_application(
        session,
        actor,
        application,
        "verdict_deferred" if stored else "verdict_ignored",
        reason=reason,
        details={"event_id": str(envelope.id), "verification_id": data.verification_id},
    )
    if not stored:
        log.warning(
            "second early verdict ignored", extra={"application_id": str(application.id), "event_id": str(envelope.id)}
        )


def _ignore(
    session: AsyncSession, actor: Principal, application: Application, data: VerdictData, envelope: EventEnvelope
) -> None:
    log.warning(
        "verdict for an application that cannot take one ignored",
        extra={"application_id": str(application.id), "status": str(application.status), "event_id": str(envelope.id)},
    )
    audit_application(
        session,
        actor,
        application,
        "verdict_ignored",
        reason=f"Verdict '{data.verdict}' cannot apply to a {application.support_type} application in status "
        f"'{application.status}'.",
        details={"event_id": str(envelope.id), "verification_id": data.verification_id},
    )


def build_consumer(recovery_threshold_bp: int) -> EventConsumer:
    consumer = EventConsumer()

    @consumer.on(EVENT_TYPE)
    async def verification_concluded(session: AsyncSession, envelope: EventEnvelope) -> None:
        data = parse(envelope.data)
        actor = service_actor(envelope.source)
        application = await _lock_application(session, data.application_id)
        if application is None:
            log.warning(
                "verdict for an unknown application ignored",
                extra={"application_id": str(data.application_id), "event_id": str(envelope.id)},
            )
        elif not rule_of(application.support_type).savings_verified:  # settled on completion: nothing to verify
            _ignore(session, actor, application, data, envelope)
        elif application.status == ApplicationStatus.COMPLETED:
            await flows.record_verdict(
                session, actor, application, data, recovery_threshold_bp=recovery_threshold_bp, event_id=envelope.id
            )
        elif application.status in DEFERRABLE:
            await _defer(session, actor, application, data, envelope)
        else:
            _ignore(session, actor, application, data, envelope)

    return consumer
