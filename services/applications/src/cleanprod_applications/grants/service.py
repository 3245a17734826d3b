"""Grant decisions and payments: the officer's decision (four-eyes, minimum reviews, pass score, amount within
rate, cap and the call's remaining budget) and the tranches that follow it.

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
from cleanprod_kit.errors import Conflict, Forbidden
from cleanprod_kit.models import utcnow

from ..applications import flows
from ..applications.models import Application
from ..applications.service import assignments_of, call_of
from ..calls.models import Call
from ..calls.service import rubric_of
from ..domain import (
    Action,
    Award,
    Limit,
    RefusalCode,
    Settlement,
    Verdict,
    advance_amount,
    approved_support,
    decision_refusal,
    settle,
    summarise_reviews,
)
from ..domain.exact import bp, floor_share
from .models import Tranche, TrancheKind, TrancheStatus
from .schemas import DecisionBody, DecisionPreview, LimitPublic, Outcome, RefusalPublic

OUTCOME_ACTIONS = {
    Outcome.APPROVE: Action.DECIDE_APPROVE,
    Outcome.REJECT: Action.DECIDE_REJECT,
    Outcome.REQUEST_CHANGES: Action.REQUEST_CHANGES,
}


async def lock_call(session: AsyncSession, call_id: Any) -> Call:
    statement = select(Call).where(Call.id == call_id).with_for_update().execution_options(populate_existing=True)
    return (await session.exec(statement)).one()


def _award(application: Application, call: Call) -> Award:
    return approved_support(requested_vnd=application.requested_support_vnd or 0,
                            eligible_cost_vnd=application.eligible_cost_vnd or 0,
                            support_rate_bp=call.support_rate_bp, cap_vnd=call.cap_per_project_vnd,
                            remaining_budget_vnd=call.remaining_vnd)


async def preview(session: AsyncSession, principal: Principal, application: Application,
                  language: str) -> DecisionPreview:
    """What `decide` would compute now for this officer: the four limits, the award, and each outcome's refusal
    (four-eyes, minimum reviews, pass score, zero support) in the caller's language. Nothing is written."""
    call = await call_of(session, application)
    assignments = await assignments_of(session, application.id)
    summary = summarise_reviews(rubric_of(call), [a.as_review() for a in assignments], call.pass_score_pct)
    award = _award(application, call)
    figures = {Limit.REQUESTED: application.requested_support_vnd or 0,
               Limit.RATE: floor_share(application.eligible_cost_vnd or 0, bp(call.support_rate_bp)),
               Limit.CAP: call.cap_per_project_vnd, Limit.BUDGET: call.remaining_vnd}
    refusals: dict[str, RefusalPublic | None] = {}
    for outcome, action in OUTCOME_ACTIONS.items():
        refusal = decision_refusal(action=action, decider_id=principal.subject,
                                   assigned_reviewer_ids={a.reviewer_subject for a in assignments}, reviews=summary,
                                   min_reviews=call.min_reviews, award=award)
        refusals[str(outcome)] = None if refusal is None else RefusalPublic(
            code=str(refusal.code), message=messages.message(str(refusal.code), language, default=refusal.message)
            or refusal.message)
    return DecisionPreview(
        application_id=application.id, version=application.version, status=str(application.status),
        limits=[LimitPublic(limit=str(limit), amount_vnd=figures[limit], binding=limit in award.binding)
                for limit in Limit],
        limit=str(award.limit), award_vnd=award.amount_vnd, support_rate_bp=call.support_rate_bp,
        eligible_cost_vnd=application.eligible_cost_vnd or 0, refusals=refusals)


async def decide(session: AsyncSession, principal: Principal, application: Application, body: DecisionBody, *,
                 advance_share_bp: int) -> None:
    """Take the decision on a row-locked application (If-Match already checked)."""
    action = OUTCOME_ACTIONS[body.outcome]
    flows.ensure_legal(application.status, action)
    call = await (lock_call(session, application.call_id) if action is Action.DECIDE_APPROVE
                  else call_of(session, application))
    assignments = await assignments_of(session, application.id)
    summary = summarise_reviews(rubric_of(call), [a.as_review() for a in assignments], call.pass_score_pct)
    award = None
    if action is Action.DECIDE_APPROVE:
        award = _award(application, call)
    refusal = decision_refusal(action=action, decider_id=principal.subject,
                               assigned_reviewer_ids={a.reviewer_subject for a in assignments}, reviews=summary,
                               min_reviews=call.min_reviews, award=award)
    if refusal is not None:
        slug = str(refusal.code).replace("_", "-")
        if refusal.code is RefusalCode.DECIDER_IS_REVIEWER:
            raise Forbidden(refusal.message, slug=slug, code=str(refusal.code))
        extensions = {"remaining_budget_vnd": call.remaining_vnd} if award is not None else {}
        raise Conflict(refusal.message, slug=slug, code=str(refusal.code), **extensions)

    application.review_score_pct = float(summary.mean.percent) if summary.mean is not None else None
    application.decided_at = utcnow()
    application.decided_by = principal.display_name
    application.decision_reason = body.reason
    details: dict[str, Any] = {"outcome": str(body.outcome), "review_score_pct": application.review_score_pct,
                               "reviews_counted": summary.counted}
    if award is not None:
        application.approved_support_vnd = award.amount_vnd
        application.award_limit = str(award.limit)
        call.committed_vnd += award.amount_vnd
        touch_committed(call)
        advance = advance_amount(award.amount_vnd, advance_share_bp)
        session.add(Tranche(application_id=application.id, kind=TrancheKind.ADVANCE, planned_vnd=advance,
                            amount_vnd=advance, status=TrancheStatus.PAYABLE if advance else TrancheStatus.CANCELLED,
                            basis={"advance_share_bp": advance_share_bp, "award_vnd": award.amount_vnd}))
        session.add(Tranche(application_id=application.id, kind=TrancheKind.BALANCE,
                            planned_vnd=award.amount_vnd - advance, amount_vnd=None, status=TrancheStatus.WITHHELD,
                            basis={"award_vnd": award.amount_vnd, "paid_after": "verification"}))
        details |= {"approved_support_vnd": award.amount_vnd, "limit": str(award.limit),
                    "binding_limits": sorted(str(b) for b in award.binding),
                    "remaining_budget_vnd": call.remaining_vnd}
    await flows.apply_transition(session, principal, application, call, action, reason=body.reason, details=details,
                                 extra={"review_score_pct": application.review_score_pct})


def touch_committed(call: Call) -> None:
    """`committed_vnd` is a running figure, not an officer-edited term: it does not bump the call's version (an
    officer editing the call's terms is not sent a 412 because an unrelated application was approved)."""
    call.updated_at = utcnow()


async def settle_verdict(session: AsyncSession, application: Application, call: Call, verdict: Verdict,
                         ratio: Fraction | float | None, *, recovery_threshold_bp: int) -> Settlement:
    """Settle the balance (and any recovery) once verification has concluded; releases the part of the award that
    will never be paid back into the call's budget. `call` must be locked FOR UPDATE."""
    tranches = {t.kind: t for t in await flows.tranches_of(session, application)}
    award = application.approved_support_vnd or 0
    advance = tranches.get(TrancheKind.ADVANCE)
    advance_paid = (advance.amount_vnd or 0) if advance is not None else 0
    settlement = settle(award_vnd=award, advance_paid_vnd=advance_paid, verdict=verdict, ratio=ratio,
                        recovery_threshold_bp=recovery_threshold_bp)
    basis = {"verdict": str(verdict), "ratio_applied": float(settlement.ratio_applied),
             "recovery_threshold_bp": recovery_threshold_bp, "award_vnd": award, "advance_paid_vnd": advance_paid}
    balance = tranches.get(TrancheKind.BALANCE)
    if balance is None:
        balance = Tranche(application_id=application.id, kind=TrancheKind.BALANCE, planned_vnd=award - advance_paid,
                          status=TrancheStatus.WITHHELD)
        session.add(balance)
    balance.amount_vnd = settlement.balance_vnd
    balance.status = TrancheStatus.PAYABLE if settlement.balance_vnd else TrancheStatus.CANCELLED
    balance.basis = basis
    balance.updated_at = utcnow()
    if settlement.recover_vnd:
        session.add(Tranche(application_id=application.id, kind=TrancheKind.RECOVERY,
                            planned_vnd=settlement.recover_vnd, amount_vnd=settlement.recover_vnd,
                            status=TrancheStatus.RECOVERY_DUE, basis=basis))
    released = award - settlement.total_support_vnd
    if released:
        call.committed_vnd -= released
        touch_committed(call)
    return settlement
