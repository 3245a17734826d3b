"""Grant decisions and payments: what a decision would award (four-eyes, minimum reviews, pass score, amount within
rate, cap and the call's remaining budget), the tranches that follow it and the settlement after verification.
The decision itself is a lifecycle transition: `applications/flows.py` (`decide`) takes it with these figures.

The budget is never over-committed: approving locks the call row FOR UPDATE inside the decision's transaction,
so concurrent approvals under one call take turns, and each sees what the previous one committed. (The database
also refuses `committed_vnd > budget_vnd` with a CHECK constraint, as a last line.)
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit import messages
from cleanprod_kit.auth import Principal
from cleanprod_kit.concurrency import get_for_update
from cleanprod_kit.models import utcnow

from ..applications.models import Application
from ..calls.models import Call
from ..calls.service import call_of, rubric_of
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
from ..domain.funding import available_for
from ..domain.support_types import rule_of
from ..funding.models import FundingSource
from ..funding.service import allocations_of, balances, sources_of
from ..reviews.models import ReviewerAssignment
from ..reviews.service import assignments_of
from .models import Tranche, TrancheKind, TrancheStatus
from .schemas import DecisionPreview, LimitPublic, Outcome, RefusalPublic

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


def available_vnd(application: Application, call: Call, sources: list[FundingSource]) -> int:
    """The budget limit of an award: what the sources that may fund the application's support type have left
    (never more than the call's remaining budget)."""
    return min(call.remaining_vnd, available_for(balances(sources), application.support_type))


def award_for(application: Application, call: Call, sources: list[FundingSource]) -> Award:
    """The support an approval would grant now: the call's terms within the support type's ceilings
    (domain/support_types.py) and the sources' remaining budget as it stands."""
    rule = rule_of(application.support_type)
    return approved_support(
        requested_vnd=application.requested_support_vnd or 0,
        eligible_cost_vnd=application.eligible_cost_vnd or 0,
        support_rate_bp=rule.rate_bp(call.support_rate_bp),
        cap_vnd=rule.cap_vnd(call.cap_per_project_vnd),
        remaining_budget_vnd=available_vnd(application, call, sources),
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
    sources = await sources_of(session, call.id)
    award = award_for(application, call, sources)
    rule = rule_of(application.support_type)
    figures = {
        Limit.REQUESTED: application.requested_support_vnd or 0,
        Limit.RATE: floor_share(application.eligible_cost_vnd or 0, bp(rule.rate_bp(call.support_rate_bp))),
        Limit.CAP: rule.cap_vnd(call.cap_per_project_vnd),
        Limit.BUDGET: available_vnd(application, call, sources),
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
        support_rate_bp=rule.rate_bp(call.support_rate_bp),
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
    """Settle the balance (and any recovery) once verification has concluded, source by source: each source's part
    of the award is settled on its own advance (docs/applications.md "Money"), and the part of it that will never
    be paid back is released into that source and the call. `call` must be locked FOR UPDATE; the sources are
    locked here."""
    tranches = await tranches_of(session, application)
    sources = {s.id: s for s in await sources_of(session, call.id, lock=True)}
    total = Settlement(Verdict(verdict), Fraction(1), 0, 0, 0)
    for allocation in await allocations_of(session, application.id):
        own = {t.kind: t for t in tranches if t.source_id == allocation.source_id}
        settlement = _settle_part(
            session,
            application,
            allocation.source_id,
            allocation.amount_vnd,
            own,
            verdict,
            ratio,
            recovery_threshold_bp,
        )
        released = allocation.amount_vnd - settlement.total_support_vnd
        source = sources[allocation.source_id]
        source.committed_vnd -= released
        source.updated_at = utcnow()
        call.committed_vnd -= released
        total = Settlement(
            settlement.verdict,
            settlement.ratio_applied,
            total.balance_vnd + settlement.balance_vnd,
            total.recover_vnd + settlement.recover_vnd,
            total.total_support_vnd + settlement.total_support_vnd,
        )
    touch_committed(call)
    return total


def _settle_part(
    session: AsyncSession,
    application: Application,
    source_id: Any,
    award: int,
    tranches: dict[TrancheKind, Tranche],
    verdict: Verdict,
    ratio: Fraction | float | None,
    recovery_threshold_bp: int,
) -> Settlement:
    """One source's part: its balance tranche becomes payable (or cancelled) and a recovery is raised if due.

    The settlement counts the advance as granted whether or not finance has paid it yet, so what the enterprise
    keeps does not depend on how quickly the payment went out. A recovery from an advance that was never paid
    has nothing to recover: the recovered share is cut from the unpaid advance instead (`_net_against_advance`)."""
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
            source_id=source_id,
            kind=TrancheKind.BALANCE,
            planned_vnd=award - advance_paid,
            status=TrancheStatus.WITHHELD,
        )
        session.add(balance)
    balance.amount_vnd = settlement.balance_vnd
    balance.status = TrancheStatus.PAYABLE if settlement.balance_vnd else TrancheStatus.CANCELLED
    balance.basis = basis
    balance.updated_at = utcnow()
    balance.version += 1
    if settlement.recover_vnd and advance is not None and advance.status != TrancheStatus.PAID:
        _net_against_advance(advance, settlement.recover_vnd, basis)
        return replace(settlement, recover_vnd=0)
    if settlement.recover_vnd:
        session.add(
            Tranche(
                application_id=application.id,
                source_id=source_id,
                kind=TrancheKind.RECOVERY,
                planned_vnd=settlement.recover_vnd,
                amount_vnd=settlement.recover_vnd,
                status=TrancheStatus.RECOVERY_DUE,
                basis=basis,
            )
        )
    return settlement


def _net_against_advance(advance: Tranche, recover_vnd: int, basis: dict[str, Any]) -> None:
    """A shortfall below the threshold while the advance is still unpaid: no recovery is raised (nothing was paid
    to recover); the advance is cut to what the enterprise keeps, `advance − recovery`, and cancelled when that is
    0. A payment order already prepared or approved was for the old amount, so the advance goes back to payable
    and its preparation and approval start again (the books count the cut as cancelled: planned − amount)."""
    advance.amount_vnd = (advance.amount_vnd or 0) - recover_vnd
    advance.status = TrancheStatus.PAYABLE if advance.amount_vnd else TrancheStatus.CANCELLED
    advance.prepared_by = advance.prepared_by_name = advance.prepared_at = None
    advance.approved_by = advance.approved_by_name = advance.approved_at = None
    advance.basis = {**advance.basis, **basis, "netted_recovery_vnd": recover_vnd}
    advance.updated_at = utcnow()
    advance.version += 1
