"""The application lifecycle as business processes: every arrow of DESIGN.md's diagram is applied here, in the
caller's transaction, with its audit entry and its one outbox event.

Each route locks the application row (`FOR UPDATE`), checks `If-Match`, then calls one of these functions and
commits; the domain module (`..domain.lifecycle`) says which arrows exist — anything else is a 409.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_contracts.v1 import events
from cleanprod_kit.audit import record_audit
from cleanprod_kit.auth import Principal
from cleanprod_kit.errors import Conflict, ServiceUnavailable
from cleanprod_kit.models import utcnow
from cleanprod_kit.outbox import emit

from ..calls.models import Call
from ..calls.service import terms_of
from ..db_types import touch
from ..domain import (
    Action,
    ApplicationFacts,
    ApplicationStatus,
    DailySequenceExhausted,
    IllegalTransition,
    egov_status,
    format_dossier_code,
    local_date,
    screen,
    screening_action,
    transition,
)
from ..grants.models import Tranche
from .completeness import ensure_complete
from .deadlines import clock_is_stopped, follow_clock
from .models import Application, DossierSequence
from .schemas import REQUIRED_TO_SUBMIT

ENTITY = "application"

EVENT_TYPES: dict[Action, str] = {
    Action.SUBMIT: "application.submitted",
    Action.WITHDRAW: "application.withdrawn",
    Action.SCREEN_PASS: "application.screening_passed",
    Action.SCREEN_FAIL: "application.screening_failed",
    Action.DECIDE_APPROVE: "application.approved",
    Action.DECIDE_REJECT: "application.rejected",
    Action.REQUEST_CHANGES: "application.changes_requested",
    Action.RESUBMIT: "application.resubmitted",
    Action.START: "application.started",
    Action.COMPLETE: "application.completed",
    Action.RECORD_VERIFIED: "application.verified",
    Action.RECORD_NOT_ACHIEVED: "application.not_achieved",
}
assert set(EVENT_TYPES) == set(Action), "every lifecycle action has exactly one event type"

SCREENING = Principal(subject="cleanprod-applications:screening", username="automatic screening",
                      roles=frozenset({"service"}))
"""The actor recorded for automatic eligibility screening."""


def ensure_legal(status: ApplicationStatus | str, action: Action) -> ApplicationStatus:
    """The status `action` leads to from `status`; 409 problem+json if the lifecycle draws no such arrow."""
    try:
        return transition(status, action)
    except IllegalTransition as exc:
        raise Conflict(
            code="invalid_transition", slug="illegal-transition",
            params={"status": str(exc.current), "action": str(action),
                    "allowed": ", ".join(exc.allowed) if exc.allowed else "—"},
            status_now=str(exc.current), allowed_actions=list(exc.allowed),
        ) from None


async def tranches_of(session: AsyncSession, application: Application) -> list[Tranche]:
    rows = await session.exec(select(Tranche).where(Tranche.application_id == application.id)
                              .order_by(Tranche.created_at, Tranche.kind))  # type: ignore[arg-type]
    return list(rows.all())


_SNAPSHOT_FIELDS = {
    "dossier_code", "version", "facility_id", "facility_name", "enterprise_id", "enterprise_tax_code",
    "enterprise_name", "sector_code", "title", "technology", "total_cost_vnd", "eligible_cost_vnd",
    "requested_support_vnd", "claimed_savings", "claimed_overall_saving_pct", "implementation_start",
    "implementation_end", "submitted_at", "approved_support_vnd", "award_limit", "decided_at", "started_on",
    "completed_on",
}
"""The application's columns that `ApplicationEvent` carries under the same name."""


def event_payload(application: Application, call: Call, *, action: Action | str, previous: str, reason: str | None,
                  actor: Principal, tranches: list[Tranche], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A full snapshot of the dossier, so a consumer (verification, e-gov webhooks) needs no call back: the
    contract `ApplicationEvent`; `extra` sets its fields that only some events carry (screening reasons, …)."""
    code = egov_status(application.status, supplement_requested=application.open_supplement_id is not None)
    supplier = (events.Supplier(name=application.supplier_name, tax_code=application.supplier_tax_code)
                if application.supplier_name else None)
    return events.ApplicationEvent(
        **application.model_dump(include=_SNAPSHOT_FIELDS), action=str(action), previous_status=previous,
        application_id=application.id, status=str(application.status),
        egov_status=code.value if code is not None else None, reason=reason,
        actor=events.Actor(subject=actor.subject, name=actor.display_name, role=actor.primary_role),
        call_id=call.id, call_code=call.code, supplier=supplier,
        tranches=[events.TrancheState(kind=t.kind, planned_vnd=t.planned_vnd, amount_vnd=t.amount_vnd, status=t.status)
                  for t in tranches],
        **(extra or {}),
    ).payload()


async def apply_transition(session: AsyncSession, principal: Principal, application: Application, call: Call,
                           action: Action, *, reason: str | None = None, details: dict[str, Any] | None = None,
                           extra: dict[str, Any] | None = None) -> None:
    """Move along one drawn arrow: new status, version + 1, one audit entry, one outbox event."""
    previous = str(application.status)
    was_stopped = clock_is_stopped(application)
    application.status = ensure_legal(application.status, action)
    touch(application)
    follow_clock(application, was_stopped, utcnow())
    record_audit(session, principal, entity_type=ENTITY, entity_id=application.id, action=str(action),
                 from_state=previous, to_state=str(application.status), reason=reason, details=details)
    # Tranches exist only once a grant is approved: no query before that.
    tranches = await tranches_of(session, application) if application.approved_support_vnd is not None else []
    emit(session, EVENT_TYPES[action], aggregate_type=ENTITY, aggregate_id=application.id,
         payload=event_payload(application, call, action=action, previous=previous, reason=reason, actor=principal,
                               tranches=tranches, extra=extra))


async def allocate_dossier_code(session: AsyncSession, agency_id: str, at: dt.datetime) -> str:
    """The next `<agency>-<YYMMDD>-<NNNN>` for the Hanoi calendar day of `at`. The counter row stays locked until
    the submitting transaction ends, so concurrent submissions get consecutive, distinct numbers (and a rolled
    back submission gives its number back)."""
    day = local_date(at)
    statement = (
        pg_insert(DossierSequence).values(agency_id=agency_id, day=day, last_value=1)
        .on_conflict_do_update(index_elements=["agency_id", "day"],
                               set_={"last_value": DossierSequence.last_value + 1})
        .returning(DossierSequence.last_value)  # type: ignore[arg-type]
    )
    sequence = int((await session.exec(statement)).scalar_one())
    try:
        return format_dossier_code(agency_id, day, sequence)
    except DailySequenceExhausted:
        raise ServiceUnavailable(code="dossier_numbers_exhausted") from None


def _facts(application: Application) -> ApplicationFacts:
    return ApplicationFacts(
        facility_sector=application.sector_code, total_cost_vnd=application.total_cost_vnd,
        eligible_cost_vnd=application.eligible_cost_vnd, requested_support_vnd=application.requested_support_vnd,
        implementation_start=application.implementation_start, implementation_end=application.implementation_end,
        claimed_overall_saving_pct=application.claimed_overall_saving_pct,
    )


async def submit(session: AsyncSession, principal: Principal, application: Application, call: Call, *,
                 action: Action, reason: str | None, agency_id: str, processing_days: int) -> None:
    """Submit (or resubmit) and screen at once: submitted → under_review or ineligible, both arrows recorded.
    An incomplete dossier is refused first (422 listing every missing or inconsistent field, nothing changed)."""
    ensure_legal(application.status, action)
    ensure_complete({name: getattr(application, name) for name in REQUIRED_TO_SUBMIT})
    now = utcnow()
    first = application.dossier_code is None
    if first:
        # Numbering comes last but one: the daily counter row stays locked until this transaction commits, so it
        # is taken when only in-memory work (audit rows, events) is left before the commit.
        application.first_submitted_at = now
        application.processing_days = processing_days  # the promise made at reception; later settings don't move it
    application.submitted_at = now
    reasons = screen(terms_of(call), _facts(application), now)
    screening = [{"code": str(r.code), "message": r.message, "field": r.field} for r in reasons]
    if first:
        application.dossier_code = await allocate_dossier_code(session, agency_id, now)
    await apply_transition(session, principal, application, call, action, reason=reason,
                           details={"dossier_code": application.dossier_code, "first_submission": first})
    application.screening_reasons = screening
    summary = ("; ".join(r.message for r in reasons) if reasons
               else "Eligible: call open, sector eligible, amounts within the call's rules.")
    await apply_transition(session, SCREENING, application, call, screening_action(reasons), reason=summary,
                           details={"reasons": screening}, extra={"screening_reasons": screening})
