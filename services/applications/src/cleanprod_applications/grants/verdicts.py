"""Verification verdicts (event `verification.concluded` from the verification service):
`completed` → `verified` / `not_achieved`, recorded as the `service` actor, with the balance settled.

A verdict for an application that is not `completed` yet (`approved` or `in_progress`: the completion report is
late, or events crossed) is **stored** and applied by the transaction that completes the application. It is not
refused for a retry: the sender's outbox delivers in order and would hold back every later event behind it. A
verdict for an application that can never take one (rejected, withdrawn, already verified, …) is acknowledged,
audited as ignored and logged, for the same reason.
"""

from __future__ import annotations

import logging
import uuid
from fractions import Fraction
from typing import Any

from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_contracts.v1.events import VerificationConcluded
from cleanprod_kit.audit import record_audit
from cleanprod_kit.auth import Principal
from cleanprod_kit.errors import Unprocessable, field_error, validation_errors
from cleanprod_kit.models import utcnow
from cleanprod_kit.outbox import EventConsumer, EventEnvelope

from ..applications import flows
from ..applications.models import Application
from ..domain import Action, ApplicationStatus, Verdict, achieved_ratio
from .models import PendingVerdict
from .service import lock_call, settle_verdict

log = logging.getLogger("cleanprod.applications.verdicts")

EVENT_TYPE = "verification.concluded"
DEFERRABLE = frozenset({ApplicationStatus.APPROVED, ApplicationStatus.IN_PROGRESS})


class VerdictData(VerificationConcluded):
    """The contract's payload, its verdict read as this service's `Verdict` (the same two values)."""

    verdict: Verdict  # type: ignore[assignment]

    def ratio(self) -> Fraction | float | None:
        if self.verdict is Verdict.VERIFIED:
            return None
        if self.achieved_ratio is not None:
            return self.achieved_ratio
        if self.verified_savings_pct is not None and self.claimed_savings_pct:
            return achieved_ratio(self.verified_savings_pct, self.claimed_savings_pct)
        raise Unprocessable("A not_achieved verdict needs achieved_ratio (or verified_savings_pct and "
                            "claimed_savings_pct).", code="verdict_unreadable",
                            errors=[field_error("data.achieved_ratio", None, "required")])


def service_actor(source: str) -> Principal:
    name = source or "verification"
    return Principal(subject=f"service:{name}", username=name, roles=frozenset({"service"}))


def parse(data: dict[str, Any]) -> VerdictData:
    try:
        return VerdictData.model_validate(data)
    except ValidationError as exc:
        raise Unprocessable(code="verdict_unreadable", errors=validation_errors(exc.errors(), "data.")) from None


async def apply_verdict(session: AsyncSession, actor: Principal, application: Application, data: VerdictData, *,
                        recovery_threshold_bp: int, event_id: uuid.UUID | None) -> None:
    """completed → verified / not_achieved on a row-locked application, with the settlement."""
    action = Action.RECORD_VERIFIED if data.verdict is Verdict.VERIFIED else Action.RECORD_NOT_ACHIEVED
    flows.ensure_legal(application.status, action)
    ratio = data.ratio()
    call = await lock_call(session, application.call_id)
    settlement = await settle_verdict(session, application, call, data.verdict, ratio,
                                      recovery_threshold_bp=recovery_threshold_bp)
    application.verification_id = data.verification_id
    application.achieved_ratio = float(settlement.ratio_applied)
    application.verified_savings_pct = data.verified_savings_pct
    application.verified_at = utcnow()
    summary = {"verification_id": data.verification_id, "verdict": str(data.verdict),
               "achieved_ratio": float(settlement.ratio_applied), "verified_savings_pct": data.verified_savings_pct,
               "claimed_savings_pct": data.claimed_savings_pct, "balance_vnd": settlement.balance_vnd,
               "recover_vnd": settlement.recover_vnd, "total_support_vnd": settlement.total_support_vnd,
               "event_id": str(event_id) if event_id else None}
    which = f"Verification {data.verification_id}" if data.verification_id else "Verification"
    reason = (f"{which} concluded '{data.verdict}' (achieved ratio {float(settlement.ratio_applied):.4f}); "
              f"balance {settlement.balance_vnd} VND, recovery {settlement.recover_vnd} VND.")
    await flows.apply_transition(session, actor, application, call, action, reason=reason, details=summary,
                                 extra={"verification": summary})


async def _lock_application(session: AsyncSession, application_id: uuid.UUID) -> Application | None:
    statement = (select(Application).where(Application.id == application_id).with_for_update()
                 .execution_options(populate_existing=True))
    return (await session.exec(statement)).first()


async def apply_pending(session: AsyncSession, application: Application, *, recovery_threshold_bp: int) -> bool:
    """Apply a stored verdict right after the application reached `completed` (same transaction)."""
    pending = await session.get(PendingVerdict, application.id)
    if pending is None:
        return False
    await apply_verdict(session, service_actor(pending.source), application, parse(pending.data),
                        recovery_threshold_bp=recovery_threshold_bp, event_id=pending.event_id)
    await session.delete(pending)
    return True


def build_consumer(recovery_threshold_bp: int) -> EventConsumer:
    consumer = EventConsumer()

    @consumer.on(EVENT_TYPE)
    async def verification_concluded(session: AsyncSession, envelope: EventEnvelope) -> None:
        data = parse(envelope.data)
        actor = service_actor(envelope.source)
        application = await _lock_application(session, data.application_id)
        if application is None:
            log.warning("verdict for an unknown application ignored",
                        extra={"application_id": str(data.application_id), "event_id": str(envelope.id)})
            return
        if application.status == ApplicationStatus.COMPLETED:
            await apply_verdict(session, actor, application, data, recovery_threshold_bp=recovery_threshold_bp,
                                event_id=envelope.id)
            return
        if application.status in DEFERRABLE:
            statement = pg_insert(PendingVerdict).values(
                application_id=application.id, event_id=envelope.id, source=envelope.source[:64],
                data=data.model_dump(mode="json"), received_at=utcnow(),
            ).on_conflict_do_nothing(index_elements=["application_id"])
            stored = (await session.exec(statement)).rowcount == 1
            reason = (f"Verdict '{data.verdict}' received before completion; it applies on completion." if stored
                      else f"Verdict '{data.verdict}' ignored: an earlier verdict is already waiting for completion.")
            record_audit(session, actor, entity_type=flows.ENTITY, entity_id=application.id,
                         action="verdict_deferred" if stored else "verdict_ignored",
                         from_state=str(application.status), to_state=str(application.status), reason=reason,
                         details={"event_id": str(envelope.id), "verification_id": data.verification_id})
            if not stored:
                log.warning("second early verdict ignored", extra={"application_id": str(application.id),
                                                                   "event_id": str(envelope.id)})
            return
        log.warning("verdict for an application that cannot take one ignored",
                    extra={"application_id": str(application.id), "status": str(application.status),
                           "event_id": str(envelope.id)})
        record_audit(session, actor, entity_type=flows.ENTITY, entity_id=application.id, action="verdict_ignored",
                     from_state=str(application.status), to_state=str(application.status),
                     reason=f"Verdict '{data.verdict}' cannot apply to an application in status "
                            f"'{application.status}'.",
                     details={"event_id": str(envelope.id), "verification_id": data.verification_id})

    return consumer
