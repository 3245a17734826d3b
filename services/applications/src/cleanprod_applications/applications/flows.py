"""Every transition of an application, in one place: one function per action of the lifecycle
(`..domain.lifecycle` draws the arrows; `FLOWS` names the function that takes each one, and a test checks that it
covers every `Action`). Each runs in the caller's transaction and records its audit entry and its one outbox event
(`apply_transition`); anything the lifecycle does not draw is a 409.

The routes reach these through the kit's change pipeline (`cleanprod_kit.changes`: read access → lock →
If-Match → the flow here → commit → answer); the verification verdict arrives as an event (`..grants.events`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_contracts.v1 import events
from cleanprod_kit.audit import queue_audit
from cleanprod_kit.auth import Principal
from cleanprod_kit.errors import Conflict, Forbidden, NotFound, ServiceUnavailable, Unprocessable, field_error
from cleanprod_kit.models import utcnow
from cleanprod_kit.outbox import queue_event
from cleanprod_kit.roles import Role
from cleanprod_kit.rows import queue_changes

from ..access import owns
from ..calls.models import Call
from ..calls.service import call_of, terms_of, today
from ..db_types import touch
from ..documents.models import Document
from ..domain import (
    Action,
    ApplicationFacts,
    ApplicationStatus,
    Award,
    DailySequenceExhausted,
    IllegalTransition,
    Refusal,
    RefusalCode,
    ReviewSummary,
    Verdict,
    advance_amount,
    egov_status,
    format_dossier_code,
    local_date,
    may_perform,
    screen,
    screening_action,
    transition,
)
from ..domain.support_types import missing_documents, rule_of
from ..funding.models import FundingSource
from ..funding.service import commit_award, sources_of
from ..grants.models import PendingVerdict, Tranche, TrancheKind, TrancheStatus
from ..grants.schemas import DecisionBody
from ..grants.service import (
    OUTCOME_ACTIONS,
    award_for,
    lock_call,
    refusal_of,
    review_summary,
    settle_verdict,
    touch_committed,
    tranches_of,
)
from ..grants.verdicts import VerdictData, parse, service_actor
from ..notifications import rules as notification_rules
from ..reviews.service import assignments_of
from . import filing
from .completeness import ensure_complete
from .deadlines import clock_is_stopped, follow_clock
from .models import ENTITY, Application, DossierSequence
from .schemas import REQUIRED_TO_SUBMIT

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

SCREENING = Principal(
    subject="cleanprod-applications:screening", username="automatic screening", roles=frozenset({Role.SERVICE})
)
"""The actor recorded for automatic eligibility screening."""


# ---- the rules every transition shares ---------------------------------------------------------------------------


def ensure_legal(status: ApplicationStatus | str, action: Action) -> ApplicationStatus:
    """The status `action` leads to from `status`; 409 problem+json if the lifecycle draws no such arrow."""
    try:
        return transition(status, action)
    except IllegalTransition as exc:
        raise Conflict(
            code="invalid_transition",
            slug="illegal-transition",
            params={
                "status": str(exc.current),
                "action": str(action),
                "allowed": ", ".join(exc.allowed) if exc.allowed else "—",
            },
            status_now=str(exc.current),
            allowed_actions=list(exc.allowed),
        ) from None


def ensure_actor(principal: Principal, application: Application, action: Action) -> None:
    """The caller holds a role that may take `action`; an enterprise acts only on its own dossiers."""
    roles = {role for role in principal.roles if may_perform(role, action)}
    if not roles:
        raise Forbidden(code="role_may_not_act", params={"action": str(action)})
    if roles == {Role.ENTERPRISE} and not owns(principal, application):
        raise NotFound(code="application_not_found", params={"application_id": str(application.id)})


_SNAPSHOT_FIELDS = {
    "dossier_code",
    "version",
    "facility_id",
    "facility_name",
    "enterprise_id",
    "enterprise_tax_code",
    "enterprise_name",
    "sector_code",
    "title",
    "technology",
    "total_cost_vnd",
    "eligible_cost_vnd",
    "requested_support_vnd",
    "claimed_savings",
    "claimed_overall_saving_pct",
    "implementation_start",
    "implementation_end",
    "submitted_at",
    "approved_support_vnd",
    "award_limit",
    "decided_at",
    "started_on",
    "completed_on",
    "support_type",
}
"""The application's columns that `ApplicationEvent` carries under the same name."""


def tranche_state(tranche: Tranche, source_codes: Mapping[Any, str] | None) -> events.TrancheState:
    return events.TrancheState(
        kind=tranche.kind,
        planned_vnd=tranche.planned_vnd,
        amount_vnd=tranche.amount_vnd,
        status=tranche.status,
        source_code=(source_codes or {}).get(tranche.source_id),
        paid_vnd=tranche.paid_vnd,
        paid_on=tranche.paid_on,
    )


def event_payload(
    application: Application,
    call: Call,
    *,
    action: Action | str,
    previous: str,
    reason: str | None,
    actor: Principal,
    tranches: list[Tranche],
    extra: dict[str, Any] | None = None,
    source_codes: Mapping[Any, str] | None = None,
) -> dict[str, Any]:
    """A full snapshot of the dossier, so a consumer (verification, e-gov webhooks) needs no call back: the
    contract `ApplicationEvent`; `extra` sets its fields that only some events carry (screening reasons, …)."""
    code = egov_status(application.status, supplement_requested=application.open_supplement_id is not None)
    supplier = (
        events.Supplier(name=application.supplier_name, tax_code=application.supplier_tax_code)
        if application.supplier_name
        else None
    )
    return events.ApplicationEvent(
        **application.model_dump(include=_SNAPSHOT_FIELDS),
        action=str(action),
        previous_status=previous,
        application_id=application.id,
        status=str(application.status),
        egov_status=code.value if code is not None else None,
        reason=reason,
        actor=events.Actor(subject=actor.subject, name=actor.display_name, role=actor.primary_role),
        call_id=call.id,
        call_code=call.code,
        supplier=supplier,
        tranches=[tranche_state(t, source_codes) for t in tranches],
        savings_verified=rule_of(application.support_type).savings_verified,
        **(extra or {}),
    ).payload()


async def apply_transition(
    session: AsyncSession,
    principal: Principal,
    application: Application,
    call: Call,
    action: Action,
    *,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Move along one drawn arrow: new status, version + 1, one audit entry, one outbox event, and the
    notifications that event causes (notifications/rules.py). The audit entry, the event and the notifications
    are queued rows (`cleanprod_kit.rows`): written together, in one statement, when the change commits."""
    previous = str(application.status)
    was_stopped = clock_is_stopped(application)
    application.status = ensure_legal(application.status, action)
    touch(application)
    follow_clock(application, was_stopped, utcnow())
    queue_audit(
        session,
        principal,
        entity_type=ENTITY,
        entity_id=application.id,
        action=str(action),
        from_state=previous,
        to_state=str(application.status),
        reason=reason,
        details=details,
    )
    # Tranches exist only once a grant is approved: no query before that.
    tranches = await tranches_of(session, application) if application.approved_support_vnd is not None else []
    source_codes = {s.id: s.code for s in await sources_of(session, call.id)} if tranches else {}
    event = queue_event(
        session,
        EVENT_TYPES[action],
        aggregate_type=ENTITY,
        aggregate_id=application.id,
        payload=event_payload(
            application,
            call,
            action=action,
            previous=previous,
            reason=reason,
            actor=principal,
            tranches=tranches,
            extra=extra,
            source_codes=source_codes,
        ),
    )
    await notification_rules.after_event(session, application, event)


_COUNTERS = DossierSequence.__table__  # type: ignore[attr-defined]
_NEXT_NUMBER = (
    pg_insert(_COUNTERS)
    .values(agency_id=bindparam("agency_id"), day=bindparam("day"), last_value=1)
    .on_conflict_do_update(index_elements=["agency_id", "day"], set_={"last_value": _COUNTERS.c.last_value + 1})
    .returning(_COUNTERS.c.last_value)
)
"""Built once, on the table (a Core statement: on the ORM class it took SQLAlchemy's ORM bulk-insert path); each
submission only binds its agency and day."""


async def allocate_dossier_code(session: AsyncSession, agency_id: str, at: dt.datetime) -> str:
    """The next `<agency>-<YYMMDD>-<NNNN>` for the Hanoi calendar day of `at`. The counter row stays locked until
    the submitting transaction ends, so concurrent submissions get consecutive, distinct numbers (and a rolled
    back submission gives its number back)."""
    day = local_date(at)
    sequence = int((await session.exec(_NEXT_NUMBER, params={"agency_id": agency_id, "day": day})).scalar_one())  # type: ignore[call-overload]
    return dossier_code(agency_id, at, sequence)


def dossier_code(agency_id: str, at: dt.datetime, sequence: int) -> str:
    """`<agency>-<YYMMDD>-<NNNN>` of the day's number `sequence` (503 once the day's numbers are used up)."""
    try:
        return format_dossier_code(agency_id, local_date(at), sequence)
    except DailySequenceExhausted:
        raise ServiceUnavailable(code="dossier_numbers_exhausted") from None


def _facts(application: Application) -> ApplicationFacts:
    return ApplicationFacts(
        facility_sector=application.sector_code,
        total_cost_vnd=application.total_cost_vnd,
        eligible_cost_vnd=application.eligible_cost_vnd,
        requested_support_vnd=application.requested_support_vnd,
        implementation_start=application.implementation_start,
        implementation_end=application.implementation_end,
        claimed_overall_saving_pct=application.claimed_overall_saving_pct,
    )


# ---- submit, resubmit, and the screening that follows at once ----------------------------------------------------


async def file_dossier(
    session: AsyncSession,
    principal: Principal,
    application: Application,
    action: Action,
    *,
    reason: str | None,
    agency_id: str,
    processing_days: int,
) -> None:
    """draft → submitted (`Action.SUBMIT`, dossier code given) or changes_requested → submitted
    (`Action.RESUBMIT`, same dossier code), then screened at once: submitted → under_review or ineligible with
    reasons, both arrows recorded. An incomplete dossier is refused first (422 listing every missing or
    inconsistent field, nothing changed)."""
    ensure_actor(principal, application, action)
    call = await call_of(session, application)
    ensure_legal(application.status, action)
    ensure_complete({name: getattr(application, name) for name in REQUIRED_TO_SUBMIT})
    await _ensure_documents(session, application, rule_of(application.support_type).documents_to_submit)
    took = filing.taken(session, application)
    now = took.at if took is not None else utcnow()  # the counter's day is this moment's
    reasons = screen(terms_of(call), _facts(application), now)
    first = application.dossier_code is None
    if first:
        # Everything that reads is done: the daily counter row is locked from this statement (or from the locked
        # read that took the number with the row, `filing.py`) until the commit (numbers are gap-free), and only
        # in-memory work is left — the two transitions' audit entries, events and notifications are queued
        # rows, written with the application's one UPDATE at commit. Nothing is flushed before this statement:
        # the application is changed only after it.
        if took is not None and took.number is not None:
            application.dossier_code = dossier_code(agency_id, now, took.number)
        else:
            application.dossier_code = await allocate_dossier_code(session, agency_id, now)
        application.first_submitted_at = now
        application.processing_days = processing_days  # the promise made at reception; later settings don't move it
    application.submitted_at = now
    await apply_transition(
        session,
        principal,
        application,
        call,
        action,
        reason=reason,
        details={"dossier_code": application.dossier_code, "first_submission": first},
    )
    await record_screening(session, application, call, reasons)
    # The application's new columns go with the queued rows: the commit is one statement (UPDATE + INSERTs).
    queue_changes(session, application)


async def record_screening(session: AsyncSession, application: Application, call: Call, reasons: list[Any]) -> None:
    """submitted → under_review (no reasons) or ineligible (with them), by the automatic screening actor."""
    screening = [{"code": str(r.code), "message": r.message, "field": r.field} for r in reasons]
    application.screening_reasons = screening
    summary = (
        "; ".join(r.message for r in reasons)
        if reasons
        else "Eligible: call open, sector eligible, amounts within the call's rules."
    )
    await apply_transition(
        session,
        SCREENING,
        application,
        call,
        screening_action(reasons),
        reason=summary,
        details={"reasons": screening},
        extra={"screening_reasons": screening},
    )


async def _ensure_documents(session: AsyncSession, application: Application, required: frozenset[str]) -> None:
    """422 `documents_missing` listing each document kind the support type requires and the dossier lacks."""
    if not required:
        return
    attached = set((await session.exec(select(Document.kind).where(Document.application_id == application.id))).all())
    missing = missing_documents(required, {str(k) for k in attached})
    if missing:
        raise Unprocessable(
            code="documents_missing",
            params={"kinds": ", ".join(missing), "support_type": application.support_type},
            errors=[field_error("documents", None, "document_required", kind=kind) for kind in missing],
        )


# ---- withdraw, start, complete -----------------------------------------------------------------------------------


async def withdraw(
    session: AsyncSession, principal: Principal, application: Application, *, reason: str | None
) -> None:
    """draft → withdrawn."""
    ensure_actor(principal, application, Action.WITHDRAW)
    await apply_transition(
        session, principal, application, await call_of(session, application), Action.WITHDRAW, reason=reason
    )


def _not_in_future(day: dt.date, name: str) -> None:
    if day > today():
        raise Unprocessable(
            code="future_date",
            params={"today": today()},
            errors=[field_error(name, None, "future_date", today=today())],
        )


async def start(
    session: AsyncSession,
    principal: Principal,
    application: Application,
    *,
    started_on: dt.date | None,
    reason: str | None,
) -> None:
    """approved → in_progress (the enterprise reports that work began; an officer may record it)."""
    ensure_actor(principal, application, Action.START)
    ensure_legal(application.status, Action.START)
    day = started_on or today()
    _not_in_future(day, "started_on")
    application.started_on = day
    await apply_transition(
        session,
        principal,
        application,
        await call_of(session, application),
        Action.START,
        reason=reason,
        details={"started_on": day.isoformat()},
    )


async def complete(
    session: AsyncSession,
    principal: Principal,
    application: Application,
    *,
    completed_on: dt.date | None,
    reason: str | None,
    recovery_threshold_bp: int,
) -> None:
    """in_progress → completed; a verification verdict that arrived early is applied in the same transaction."""
    ensure_actor(principal, application, Action.COMPLETE)
    ensure_legal(application.status, Action.COMPLETE)
    day = completed_on or today()
    _not_in_future(day, "completed_on")
    if application.started_on and day < application.started_on:
        params = {"started_on": application.started_on}
        raise Unprocessable(
            code="completed_before_start",
            params=params,
            errors=[field_error("completed_on", None, "completed_before_start", **params)],
        )
    rule = rule_of(application.support_type)
    await _ensure_documents(session, application, rule.documents_to_complete)
    application.completed_on = day
    if not rule.savings_verified:
        # Nothing to measure (an assessment delivers its report): the balance is payable on completion.
        call = await lock_call(session, application.call_id)
        await settle_verdict(
            session, application, call, Verdict.VERIFIED, None, recovery_threshold_bp=recovery_threshold_bp
        )
    await apply_transition(
        session,
        principal,
        application,
        await call_of(session, application),
        Action.COMPLETE,
        reason=reason,
        details={"completed_on": day.isoformat(), "savings_verified": rule.savings_verified},
    )
    if rule.savings_verified:
        await _apply_pending_verdict(session, application, recovery_threshold_bp=recovery_threshold_bp)


# ---- the officer's decision --------------------------------------------------------------------------------------


def _ensure_no_open_supplement(application: Application) -> None:
    """Decisions wait for the answer: the clock is stopped and the dossier is incomplete."""
    if application.open_supplement_id is not None:
        raise Conflict(code="supplement_open", request_id=str(application.open_supplement_id))


def _refuse(refusal: Refusal | None, call: Call, award: Award | None) -> None:
    """403 for four-eyes (the decider reviews this application), 409 for every other refusal."""
    if refusal is None:
        return
    slug = str(refusal.code).replace("_", "-")
    if refusal.code is RefusalCode.DECIDER_IS_REVIEWER:
        raise Forbidden(refusal.message, slug=slug, code=str(refusal.code))
    extensions = {"remaining_budget_vnd": call.remaining_vnd} if award is not None else {}
    raise Conflict(refusal.message, slug=slug, code=str(refusal.code), **extensions)


def _grant(
    session: AsyncSession,
    application: Application,
    call: Call,
    sources: list[FundingSource],
    award: Award,
    advance_share_bp: int,
) -> dict[str, Any]:
    """An approval's money: the award committed against the call's sources (locked FOR UPDATE) in their order, and
    per source that pays a part, an advance tranche payable (or cancelled when zero) and the balance withheld until
    verification. Returns the audit details it adds."""
    application.approved_support_vnd = award.amount_vnd
    application.award_limit = str(award.limit)
    parts = commit_award(session, application, call, sources, award.amount_vnd)
    touch_committed(call)
    for source, part in parts:
        advance = advance_amount(part, advance_share_bp)
        session.add(
            Tranche(
                application_id=application.id,
                source_id=source.id,
                kind=TrancheKind.ADVANCE,
                planned_vnd=advance,
                amount_vnd=advance,
                status=TrancheStatus.PAYABLE if advance else TrancheStatus.CANCELLED,
                basis={"advance_share_bp": advance_share_bp, "award_vnd": part},
            )
        )
        session.add(
            Tranche(
                application_id=application.id,
                source_id=source.id,
                kind=TrancheKind.BALANCE,
                planned_vnd=part - advance,
                amount_vnd=None,
                status=TrancheStatus.WITHHELD,
                basis={
                    "award_vnd": part,
                    "paid_after": "verification"
                    if rule_of(application.support_type).savings_verified
                    else "completion",
                },
            )
        )
    return {
        "approved_support_vnd": award.amount_vnd,
        "limit": str(award.limit),
        "binding_limits": sorted(str(b) for b in award.binding),
        "remaining_budget_vnd": call.remaining_vnd,
        "funding": [{"source": source.code, "amount_vnd": part} for source, part in parts],
    }


def _record_decision(
    principal: Principal, application: Application, body: DecisionBody, summary: ReviewSummary
) -> dict[str, Any]:
    application.review_score_pct = float(summary.mean.percent) if summary.mean is not None else None
    application.decided_at = utcnow()
    application.decided_by = principal.display_name
    application.decision_reason = body.reason
    return {
        "outcome": str(body.outcome),
        "review_score_pct": application.review_score_pct,
        "reviews_counted": summary.counted,
    }


async def decide(
    session: AsyncSession, principal: Principal, application: Application, body: DecisionBody, *, advance_share_bp: int
) -> None:
    """under_review → approved (support = min(requested, rate × eligible, cap, remaining budget); an advance
    tranche becomes payable, the balance is withheld until verification), rejected, or changes_requested.
    Approving locks the call row, so concurrent approvals under one call never over-commit its budget."""
    action = OUTCOME_ACTIONS[body.outcome]
    ensure_legal(application.status, action)
    _ensure_no_open_supplement(application)
    approving = action is Action.DECIDE_APPROVE
    call = await (lock_call(session, application.call_id) if approving else call_of(session, application))
    # Approving locks the call's sources too (in their order): no source is ever over-committed.
    sources = await sources_of(session, call.id, lock=approving)
    assignments = await assignments_of(session, application.id)
    summary = review_summary(call, assignments)
    award = award_for(application, call, sources) if approving else None
    _refuse(
        refusal_of(action, principal, call, assignments, summary, award),
        call,
        award,
    )
    details = _record_decision(principal, application, body, summary)
    if award is not None:
        details |= _grant(session, application, call, sources, award, advance_share_bp)
    await apply_transition(
        session,
        principal,
        application,
        call,
        action,
        reason=body.reason,
        details=details,
        extra={"review_score_pct": application.review_score_pct},
    )


# ---- the verification verdict ------------------------------------------------------------------------------------


async def record_verdict(
    session: AsyncSession,
    actor: Principal,
    application: Application,
    data: VerdictData,
    *,
    recovery_threshold_bp: int,
    event_id: Any,
) -> None:
    """completed → verified / not_achieved on a row-locked application, with the settlement."""
    action = Action.RECORD_VERIFIED if data.verdict is Verdict.VERIFIED else Action.RECORD_NOT_ACHIEVED
    ensure_legal(application.status, action)
    ratio = data.ratio()
    call = await lock_call(session, application.call_id)
    settlement = await settle_verdict(
        session, application, call, data.verdict, ratio, recovery_threshold_bp=recovery_threshold_bp
    )
    application.verification_id = data.verification_id
    application.achieved_ratio = float(settlement.ratio_applied)
    application.verified_savings_pct = data.verified_savings_pct
    application.verified_at = utcnow()
    summary = {
        "verification_id": data.verification_id,
        "verdict": str(data.verdict),
        "achieved_ratio": float(settlement.ratio_applied),
        "verified_savings_pct": data.verified_savings_pct,
        "claimed_savings_pct": data.claimed_savings_pct,
        "balance_vnd": settlement.balance_vnd,
        "recover_vnd": settlement.recover_vnd,
        "total_support_vnd": settlement.total_support_vnd,
        "event_id": str(event_id) if event_id else None,
    }
    which = f"Verification {data.verification_id}" if data.verification_id else "Verification"
    reason = (
        f"{which} concluded '{data.verdict}' (achieved ratio {float(settlement.ratio_applied):.4f}); "
        f"balance {settlement.balance_vnd} VND, recovery {settlement.recover_vnd} VND."
    )
    await apply_transition(
        session, actor, application, call, action, reason=reason, details=summary, extra={"verification": summary}
    )


async def _apply_pending_verdict(
    session: AsyncSession, application: Application, *, recovery_threshold_bp: int
) -> bool:
    """Apply a stored verdict right after the application reached `completed` (same transaction)."""
    pending = await session.get(PendingVerdict, application.id)
    if pending is None:
        return False
    await record_verdict(
        session,
        service_actor(pending.source),
        application,
        parse(pending.data),
        recovery_threshold_bp=recovery_threshold_bp,
        event_id=pending.event_id,
    )
    await session.delete(pending)
    return True


Flow = Callable[..., Awaitable[None]]

FLOWS: Mapping[Action, Flow] = MappingProxyType(
    {
        Action.SUBMIT: file_dossier,
        Action.RESUBMIT: file_dossier,
        Action.SCREEN_PASS: record_screening,
        Action.SCREEN_FAIL: record_screening,
        Action.WITHDRAW: withdraw,
        Action.DECIDE_APPROVE: decide,
        Action.DECIDE_REJECT: decide,
        Action.REQUEST_CHANGES: decide,
        Action.START: start,
        Action.COMPLETE: complete,
        Action.RECORD_VERIFIED: record_verdict,
        Action.RECORD_NOT_ACHIEVED: record_verdict,
    }
)
"""The one function that takes each arrow of the lifecycle (several outcomes of one step share theirs)."""
