"""Reviewer assignments, conflict-of-interest declarations and scored reviews. All three lock the application
row, so they serialise with the officer's decision (a review cannot slip in while a decision is being taken),
and each bumps the application's version: a decision taken on a stale view of the reviews gets 412."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.audit import record_audit
from cleanprod_kit.auth import Principal
from cleanprod_kit.errors import Conflict, Forbidden, Unprocessable, field_error
from cleanprod_kit.models import utcnow

from ..applications.flows import ENTITY
from ..applications.models import Application
from ..calls.models import Call
from ..calls.service import rubric_of
from ..db_types import touch
from ..domain import ApplicationStatus, InvalidScores, weighted_score
from .models import ReviewerAssignment
from .schemas import AssignmentBody, AssignmentPublic, DeclarationBody, ReviewBody, ScoreEntry


def to_public(assignment: ReviewerAssignment) -> AssignmentPublic:
    return AssignmentPublic(
        id=assignment.id, application_id=assignment.application_id,
        reviewer_subject=assignment.reviewer_subject, reviewer_username=assignment.reviewer_username,
        assigned_by=assignment.assigned_by, assigned_at=assignment.assigned_at,
        conflict_declared=assignment.conflict_declared, conflict_statement=assignment.conflict_statement,
        declared_at=assignment.declared_at, recused=assignment.recused,
        scores=[ScoreEntry.model_validate(s) for s in assignment.scores] if assignment.scores is not None else None,
        score_pct=assignment.score_pct, recommendation=assignment.recommendation, comment=assignment.comment,
        reviewed_at=assignment.reviewed_at,
    )


def _under_review(application: Application, what: str) -> None:
    if application.status != ApplicationStatus.UNDER_REVIEW:
        raise Conflict(slug="not-under-review", params={"what": what, "status": str(application.status)},
                       status_now=str(application.status))


async def _own_assignment(session: AsyncSession, principal: Principal, application: Application) -> ReviewerAssignment:
    assignment = (await session.exec(
        select(ReviewerAssignment).where(ReviewerAssignment.application_id == application.id,
                                         ReviewerAssignment.reviewer_subject == principal.subject)
    )).first()
    if assignment is None:
        raise Forbidden(slug="not-assigned")
    return assignment


async def assign(session: AsyncSession, principal: Principal, application: Application,
                 body: AssignmentBody) -> ReviewerAssignment:
    _under_review(application, "Assigning reviewers")
    taken = (await session.exec(
        select(ReviewerAssignment.id).where(ReviewerAssignment.application_id == application.id,
                                            ReviewerAssignment.reviewer_subject == body.reviewer_subject)
    )).first()
    if taken is not None:
        raise Conflict(code="reviewer_already_assigned", params={"reviewer": body.reviewer_username},
                       errors=[field_error("reviewer_subject", None, "reviewer_already_assigned",
                                           reviewer=body.reviewer_username)])
    assignment = ReviewerAssignment(application_id=application.id, reviewer_subject=body.reviewer_subject,
                                    reviewer_username=body.reviewer_username, assigned_by=principal.display_name)
    session.add(assignment)
    touch(application)
    record_audit(session, principal, entity_type=ENTITY, entity_id=application.id, action="assign_reviewer",
                 details={"reviewer_subject": body.reviewer_subject, "reviewer_username": body.reviewer_username})
    await session.flush()
    return assignment


async def declare(session: AsyncSession, principal: Principal, application: Application,
                  body: DeclarationBody) -> ReviewerAssignment:
    assignment = await _own_assignment(session, principal, application)
    _under_review(application, "Declaring a conflict of interest")
    if assignment.conflict_declared is not None:
        raise Conflict(slug="already-declared")
    assignment.conflict_declared = body.conflict
    assignment.conflict_statement = body.statement
    assignment.declared_at = utcnow()
    touch(application)
    record_audit(session, principal, entity_type=ENTITY, entity_id=application.id, action="declare_conflict",
                 reason=body.statement, details={"conflict": body.conflict, "recused": body.conflict})
    return assignment


async def review(session: AsyncSession, principal: Principal, application: Application, call: Call,
                 body: ReviewBody) -> ReviewerAssignment:
    assignment = await _own_assignment(session, principal, application)
    _under_review(application, "Scoring")
    if assignment.conflict_declared is None:
        raise Conflict(slug="declaration-required")
    if assignment.recused:
        raise Forbidden(slug="recused")
    if assignment.scores is not None:
        raise Conflict(slug="already-reviewed")
    pairs = [(entry.criterion, entry.score) for entry in body.scores]
    try:
        score = weighted_score(rubric_of(call), pairs)
    except InvalidScores as exc:
        raise Unprocessable(code="scores_invalid", errors=[field_error(f"scores.{p.criterion}", p.message, str(p.code))
                                    for p in exc.problems]) from None
    assignment.scores = [{"criterion": c, "score": s} for c, s in pairs]
    assignment.score_pct = float(score.percent)
    assignment.recommendation = body.recommendation
    assignment.comment = body.comment
    assignment.reviewed_at = utcnow()
    touch(application)
    record_audit(session, principal, entity_type=ENTITY, entity_id=application.id, action="submit_review",
                 reason=body.comment, details={"score_pct": assignment.score_pct,
                                               "recommendation": str(body.recommendation)})
    return assignment
