"""`verification.verifier_assigned` from the verification service → the verifier who may read the application.

One row per application: the case's current verifier. A replacement overwrites it, so the replaced verifier
loses access, as in the verification service (only the current verifier reads a case). Events are applied in
the sender's order; the `assigned_at` guard keeps a late duplicate of an older assignment from winning anyway.

An event this service cannot use (emitted before assignments carried `verifier_subject`, or for an application
it does not know) is acknowledged and logged, never refused: the sender's outbox delivers in order and a refused
event would hold back every later one, verdicts included. Such an assignment grants nothing here; an officer
re-assigning the verifier sends a complete event.
"""

from __future__ import annotations

import logging

from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_contracts.v1.events import VerifierAssigned
from cleanprod_kit.outbox import EventConsumer, EventEnvelope

from ..applications.audit import audit_application
from ..applications.models import Application
from ..grants.verdicts import service_actor
from ..notifications import rules as notification_rules
from .models import VerifierAssignment

log = logging.getLogger("cleanprod.applications.verifiers")

ASSIGNED = "verification.verifier_assigned"


async def record_assignment(session: AsyncSession, envelope: EventEnvelope) -> None:
    try:
        data = VerifierAssigned.model_validate(envelope.data)
    except ValidationError as exc:
        log.error(
            "verifier assignment ignored: %s", exc.errors(include_url=False)[:3], extra={"event_id": str(envelope.id)}
        )
        return
    application = await session.get(Application, data.application_id)
    if application is None:
        log.warning(
            "verifier assignment for an unknown application ignored",
            extra={"application_id": str(data.application_id), "event_id": str(envelope.id)},
        )
        return
    values = {
        "verification_id": data.verification_id,
        "verifier_subject": data.verifier_subject,
        "verifier_username": data.verifier_username,
        "assigned_at": envelope.occurred_at,
        "event_id": envelope.id,
    }
    statement = pg_insert(VerifierAssignment).values(application_id=application.id, **values)
    statement = statement.on_conflict_do_update(
        index_elements=["application_id"],
        set_=values,
        where=VerifierAssignment.__table__.c.assigned_at <= statement.excluded.assigned_at,  # type: ignore[attr-defined]
    )
    if (await session.exec(statement)).rowcount != 1:  # type: ignore[call-overload]
        return  # an older assignment arriving late changes nothing
    audit_application(
        session,
        service_actor(envelope.source),
        application,
        "verifier_assigned",
        reason=f"Verifier {data.verifier_username or data.verifier_subject} assigned by the verification "
        "service; they may read this application.",
        details={
            "event_id": str(envelope.id),
            "verification_id": data.verification_id,
            "verifier_subject": data.verifier_subject,
            "verifier_username": data.verifier_username,
        },
    )
    await notification_rules.verifier_assigned(
        session,
        application,
        verifier_subject=data.verifier_subject,
        verification_id=data.verification_id,
        event_id=envelope.id,
    )


def register(consumer: EventConsumer) -> None:
    consumer.on(ASSIGNED)(record_assignment)
