"""Events from the applications service, pushed to POST /internal/events (de-duplicated by event id in the kit).

- ``application.approved`` opens the case (idempotent on the application id);
- ``application.completed`` marks it ready to conclude (and opens it first if the approval never arrived).

A support type whose savings are not verified (a cleaner-production assessment: `savings_verified` false in the
event) opens no case: the event is acknowledged and the skip recorded in the audit log.

A payload that cannot be read is acknowledged and recorded, never refused: the sender delivers in order, and a
permanently refused event would hold back every later one. A registry that cannot be reached fails the delivery
(503) so the sender retries. The registry is asked before the event's transaction opens (the kit's
`EventConsumer.on(..., fetch=...)`), and only when the application has no case yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.audit import record_audit
from cleanprod_kit.db import release
from cleanprod_kit.outbox import EventConsumer, EventEnvelope

from ..registry import RegistryClient
from .events import APPROVED, COMPLETED, ApplicationFacts, UnreadableEvent, application_facts
from .service import RegistryFacts, case_exists, fetch_registry_facts, note_completion, open_case, service_actor

log = logging.getLogger("cleanprod.verification.events")


def _facts(session: AsyncSession, envelope: EventEnvelope) -> ApplicationFacts | None:
    try:
        return application_facts(envelope.data)
    except UnreadableEvent as exc:
        log.error("event ignored: %s", exc, extra={"event_id": str(envelope.id), "event_type": envelope.type})
        record_audit(
            session,
            service_actor(envelope.source),
            entity_type="event",
            entity_id=envelope.id,
            action="ignored",
            reason=f"{envelope.type} could not be read: {exc}.",
            details={"event_type": envelope.type, "aggregate_id": envelope.aggregate_id},
        )
        return None


def _not_verified(session: AsyncSession, envelope: EventEnvelope, facts: ApplicationFacts) -> bool:
    """True (and recorded) when the application's support type has no verification of savings."""
    if facts.savings_verified:
        return False
    record_audit(
        session,
        service_actor(envelope.source),
        entity_type="event",
        entity_id=envelope.id,
        action="no_case",
        reason=f"{envelope.type}: the savings of a {facts.support_type} project are not verified; no case opened.",
        details={"event_type": envelope.type, "application_id": str(facts.application_id)},
    )
    return True


def build_consumer(registry: Callable[[], RegistryClient], *, min_baseline_periods: int) -> EventConsumer:
    consumer = EventConsumer()

    async def fetch(session: AsyncSession, envelope: EventEnvelope) -> RegistryFacts | None:
        """The registry's facts for a case not opened yet (None: unreadable event, or the case exists)."""
        try:
            facts = application_facts(envelope.data)
        except UnreadableEvent:
            return None  # the handler records it
        if not facts.savings_verified or await case_exists(session, facts.application_id):
            return None
        await release(session)
        return await fetch_registry_facts(registry(), facts)

    @consumer.on(APPROVED, fetch=fetch)
    async def application_approved(
        session: AsyncSession, envelope: EventEnvelope, fetched: RegistryFacts | None
    ) -> None:
        facts = _facts(session, envelope)
        if facts is not None and not _not_verified(session, envelope, facts):
            await open_case(
                session,
                fetched,
                facts,
                actor=service_actor(envelope.source),
                event_id=envelope.id,
                min_baseline_periods=min_baseline_periods,
            )

    @consumer.on(COMPLETED, fetch=fetch)
    async def application_completed(
        session: AsyncSession, envelope: EventEnvelope, fetched: RegistryFacts | None
    ) -> None:
        facts = _facts(session, envelope)
        if facts is None or _not_verified(session, envelope, facts):
            return
        actor = service_actor(envelope.source)
        case = await open_case(
            session, fetched, facts, actor=actor, event_id=envelope.id, min_baseline_periods=min_baseline_periods
        )
        await note_completion(session, case, facts, actor=actor, event_id=envelope.id)

    return consumer
