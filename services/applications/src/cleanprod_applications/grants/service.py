"""Grant decisions and payments: what a decision would award (four-eyes, minimum reviews, pass score, amount within
rate, cap and the call's remaining budget), the tranches that follow it and the settlement after verification.
The decision itself is a lifecycle transition: `applications/flows.py` (`decide`) takes it with these figures.

The budget is never over-committed: approving locks the call row FOR UPDATE inside the decision's transaction,
so concurrent approvals under one call take turns, and each sees what the previous one committed. (The database
also refuses `committed_vnd > budget_vnd` with a CHECK constraint, as a last line.)
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit import messages
from cleanprod_kit.auth import Principal
from cleanprod_kit.concurrency import get_for_update
from cleanprod_kit.errors import Conflict, NotFound, Unprocessable, field_error
from cleanprod_kit.models import utcnow

from ..applications.audit import audit_application
from ..applications.models import Application
from ..calls.models import Call
from ..calls.service import call_of, rubric_of, today
from ..db_types import touch
from ..domain import (
    Action,
    Award,
    Limit,
    Refusal,
    ReviewSummary,
    Settlement,
    Verdict,
    approved_support,
    decision_refusal,
    settle,
    summarise_reviews,
)
from ..domain.exact import bp, floor_share
from ..notifications import rules as notification_rules
from ..reviews.models import ReviewerAssignment
from ..reviews.service import assignments_of
from .models import Tranche, TrancheKind, TrancheStatus
from .schemas import DecisionPreview, LimitPublic, Outcome, PaymentBody, RefusalPublic

OUTCOME_ACTIONS = {
    Outcome.APPROVE: Action.DECIDE_APPROVE,
    Outcome.REJECT: Action.DECIDE_REJECT,
    Outcome.REQUEST_CHANGES: Action.REQUEST_CHANGES,
}


async def lock_call(session: AsyncSession, call_id: Any) -> Call:
    return await get_for_update(session, Call, call_id, what="Call")


async def tranches_of(session: AsyncSession, application: Application) -> list[Tranche]:
    rows = await session.exec(
        select(Tranche).where(Tranche.application_id == application.id).order_by(Tranche.created_at, Tranche.kind)
    )  # type: ignore[arg-type]
    return list(rows.all())


def award_for(application: Application, call: Call) -> Award:
    """The support an approval would grant now (the call's remaining budget as it stands)."""
    return approved_support(
        requested_vnd=application.requested_support_vnd or 0,
        eligible_cost_vnd=application.eligible_cost_vnd or 0,
        support_rate_bp=call.support_rate_bp,
        cap_vnd=call.cap_per_project_vnd,
        remaining_budget_vnd=call.remaining_vnd,
    )


def review_summary(call: Call, assignments: list[ReviewerAssignment]) -> ReviewSummary:
    """The reviews of the assigned reviewers, scored against the call's rubric and pass score."""
    return summarise_reviews(rubric_of(call), [a.as_review() for a in assignments], call.pass_score_pct)


def refusal_of(
    action: Action,
    principal: Principal,
    call: Call,
    assignments: list[ReviewerAssignment],
    summary: ReviewSummary,
    award: Award | None,
) -> Refusal | None:
    """Why `principal` may not take the decision `action` now (four-eyes, minimum reviews, pass score, zero
    support), or None."""
    return decision_refusal(
        action=action,
        decider_id=principal.subject,
        assigned_reviewer_ids={a.reviewer_subject for a in assignments},
        reviews=summary,
        min_reviews=call.min_reviews,
        award=award,
    )


async def preview(
    session: AsyncSession, principal: Principal, application: Application, language: str
) -> DecisionPreview:
    """What `decide` would compute now for this officer: the four limits, the award, and each outcome's refusal
    (four-eyes, minimum reviews, pass score, zero support) in the caller's language. Nothing is written."""
    call = await call_of(session, application)
    assignments = await assignments_of(session, application.id)
    summary = review_summary(call, assignments)
    award = award_for(application, call)
    figures = {
        Limit.REQUESTED: application.requested_support_vnd or 0,
        Limit.RATE: floor_share(application.eligible_cost_vnd or 0, bp(call.support_rate_bp)),
        Limit.CAP: call.cap_per_project_vnd,
        Limit.BUDGET: call.remaining_vnd,
    }
    refusals: dict[str, RefusalPublic | None] = {}
    if application.open_supplement_id is not None:  # every outcome waits for the enterprise's answer
        waiting = RefusalPublic(code="supplement_open", message=messages.message("supplement_open", language) or "")
        refusals = {str(outcome): waiting for outcome in OUTCOME_ACTIONS}
    for outcome, action in OUTCOME_ACTIONS.items():
        if str(outcome) in refusals:
            continue
        refusal = refusal_of(action, principal, call, assignments, summary, award)
        refusals[str(outcome)] = (
            None
            if refusal is None
            else RefusalPublic(
                code=str(refusal.code),
                message=messages.message(str(refusal.code), language, default=refusal.message) or refusal.message,
            )
        )
    return DecisionPreview(
        application_id=application.id,
        version=application.version,
        status=str(application.status),
        limits=[
            LimitPublic(limit=str(limit), amount_vnd=figures[limit], binding=limit in award.binding) for limit in Limit
        ],
        limit=str(award.limit),
        award_vnd=award.amount_vnd,
        support_rate_bp=call.support_rate_bp,
        eligible_cost_vnd=application.eligible_cost_vnd or 0,
        refusals=refusals,
    )


def touch_committed(call: Call) -> None:
    """`committed_vnd` is a running figure, not an officer-edited term: it does not bump the call's version (an
    officer editing the call's terms is not sent a 412 because an unrelated application was approved)."""
    call.updated_at = utcnow()


async def settle_verdict(
    session: AsyncSession,
    application: Application,
    call: Call,
    verdict: Verdict,
    ratio: Fraction | float | None,
    *,
    recovery_threshold_bp: int,
) -> Settlement:
    """Settle the balance (and any recovery) once verification has concluded; releases the part of the award that
    will never be paid back into the call's budget. `call` must be locked FOR UPDATE."""
    tranches = {t.kind: t for t in await tranches_of(session, application)}
    award = application.approved_support_vnd or 0
    advance = tranches.get(TrancheKind.ADVANCE)
    advance_paid = (advance.amount_vnd or 0) if advance is not None else 0
    settlement = settle(
        award_vnd=award,
        advance_paid_vnd=advance_paid,
        verdict=verdict,
        ratio=ratio,
        recovery_threshold_bp=recovery_threshold_bp,
    )
    basis = {
        "verdict": str(verdict),
        "ratio_applied": float(settlement.ratio_applied),
        "recovery_threshold_bp": recovery_threshold_bp,
        "award_vnd": award,
        "advance_paid_vnd": advance_paid,
    }
    balance = tranches.get(TrancheKind.BALANCE)
    if balance is None:
        balance = Tranche(
            application_id=application.id,
            kind=TrancheKind.BALANCE,
            planned_vnd=award - advance_paid,
            status=TrancheStatus.WITHHELD,
        )
        session.add(balance)
    balance.amount_vnd = settlement.balance_vnd
    balance.status = TrancheStatus.PAYABLE if settlement.balance_vnd else TrancheStatus.CANCELLED
    balance.basis = basis
    balance.updated_at = utcnow()
    if settlement.recover_vnd:
        session.add(
            Tranche(
                application_id=application.id,
                kind=TrancheKind.RECOVERY,
                planned_vnd=settlement.recover_vnd,
                amount_vnd=settlement.recover_vnd,
                status=TrancheStatus.RECOVERY_DUE,
                basis=basis,
            )
        )
    released = award - settlement.total_support_vnd
    if released:
        call.committed_vnd -= released
        touch_committed(call)
    return settlement


async def record_payment(
    session: AsyncSession, principal: Principal, application: Application, kind: TrancheKind, body: PaymentBody
) -> Tranche:
    """A payable tranche paid (the treasury's transfer, recorded by an officer): audited on the application, and
    the enterprise told (notifications). The application row is locked by the caller; its version moves."""
    tranche = (
        await session.exec(
            select(Tranche)
            .where(Tranche.application_id == application.id, Tranche.kind == kind)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).first()
    if tranche is None:
        raise NotFound(code="tranche_not_found", params={"kind": str(kind)})
    if tranche.status != TrancheStatus.PAYABLE:
        raise Conflict(code="tranche_not_payable", params={"kind": str(kind), "status": str(tranche.status)})
    if body.paid_on > today():
        raise Unprocessable(
            code="future_date",
            params={"today": today()},
            errors=[field_error("paid_on", None, "future_date", today=today())],
        )
    tranche.status = TrancheStatus.PAID
    tranche.paid_on = body.paid_on
    tranche.payment_reference = body.reference
    tranche.updated_at = utcnow()
    touch(application)
    audit_application(
        session,
        principal,
        application,
        "record_payment",
        reason=f"{kind} tranche of {tranche.amount_vnd} VND paid on {body.paid_on.isoformat()} ({body.reference}).",
        details={
            "kind": str(kind),
            "amount_vnd": tranche.amount_vnd,
            "paid_on": body.paid_on.isoformat(),
            "reference": body.reference,
        },
    )
    await notification_rules.tranche_paid(session, application, tranche)
    return tranche
