"""Reviewer assignments, conflict-of-interest declarations and scored reviews. All three lock the application
row, so they serialise with the officer's decision (a review cannot slip in while a decision is being taken),
and each bumps the application's version: a decision taken on a stale view of the reviews gets 412."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.audit import record_audit
from cleanprod_kit.auth import Principal
from cleanprod_kit.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from cleanprod_kit.local_time import local_date
from cleanprod_kit.models import utcnow

from ..applications.models import ENTITY, Application
from ..calls.models import Call
from ..calls.service import call_of, rubric_of
from ..db_types import touch
from ..domain import ApplicationStatus, InvalidScores, weighted_score
from ..domain.scoring import ScoreProblem, ScoreProblemCode, validate_scores
from ..holiday_calendar import default_calendar
from ..notifications import rules as notification_rules
from .models import ReviewerAssignment
from .schemas import AssignmentBody, AssignmentPublic, DeclarationBody, DraftBody, DraftPublic, ReviewBody, ScoreEntry


def to_public(assignment: ReviewerAssignment) -> AssignmentPublic:
    return AssignmentPublic.model_validate(assignment, from_attributes=True)


async def assignments_of(session: AsyncSession, application_id: uuid.UUID) -> list[ReviewerAssignment]:
    """Every reviewer assigned to the application, in the order they were assigned."""
    rows = await session.exec(
        select(ReviewerAssignment)
        .where(ReviewerAssignment.application_id == application_id)
        .order_by(ReviewerAssignment.id)
    )  # type: ignore[arg-type]
    return list(rows.all())


def _under_review(application: Application, what: str) -> None:
    if application.status != ApplicationStatus.UNDER_REVIEW:
        raise Conflict(
            slug="not-under-review",
            params={"what": what, "status": str(application.status)},
            status_now=str(application.status),
        )


async def own_assignment(
    session: AsyncSession, principal: Principal, application: Application, *, for_update: bool = False
) -> ReviewerAssignment:
    """The caller's assignment on `application` (403 `not_assigned` without one); with `for_update`, row-locked."""
    statement = select(ReviewerAssignment).where(
        ReviewerAssignment.application_id == application.id, ReviewerAssignment.reviewer_subject == principal.subject
    )
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    assignment = (await session.exec(statement)).first()
    if assignment is None:
        raise Forbidden(slug="not-assigned")
    return assignment


def review_due_on(assigned_at: dt.datetime, review_days: int) -> dt.date:
    """The day a review is due: `review_days` working days (Vietnamese calendar) after the assignment."""
    return local_date(default_calendar().add_working_days(assigned_at, review_days))


async def assign(
    session: AsyncSession,
    principal: Principal,
    application: Application,
    body: AssignmentBody,
    *,
    review_days: int,
) -> ReviewerAssignment:
    _under_review(application, "Assigning reviewers")
    taken = (
        await session.exec(
            select(ReviewerAssignment.id).where(
                ReviewerAssignment.application_id == application.id,
                ReviewerAssignment.reviewer_subject == body.reviewer_subject,
            )
        )
    ).first()
    if taken is not None:
        raise Conflict(
            code="reviewer_already_assigned",
            params={"reviewer": body.reviewer_username},
            errors=[
                field_error("reviewer_subject", None, "reviewer_already_assigned", reviewer=body.reviewer_username)
            ],
        )
    now = utcnow()
    assignment = ReviewerAssignment(
        application_id=application.id,
        reviewer_subject=body.reviewer_subject,
        reviewer_username=body.reviewer_username,
        assigned_by=principal.display_name,
        assigned_at=now,
        due_on=review_due_on(now, review_days),
    )
    session.add(assignment)
    touch(application)
    record_audit(
        session,
        principal,
        entity_type=ENTITY,
        entity_id=application.id,
        action="assign_reviewer",
        details={"reviewer_subject": body.reviewer_subject, "reviewer_username": body.reviewer_username},
    )
    await session.flush()
    await notification_rules.review_assigned(session, application, assignment)
    return assignment


async def declare(
    session: AsyncSession, principal: Principal, application: Application, body: DeclarationBody
) -> ReviewerAssignment:
    assignment = await own_assignment(session, principal, application)
    _under_review(application, "Declaring a conflict of interest")
    if assignment.conflict_declared is not None:
        raise Conflict(slug="already-declared")
    assignment.conflict_declared = body.conflict
    assignment.conflict_statement = body.statement
    assignment.declared_at = utcnow()
    touch(application)
    record_audit(
        session,
        principal,
        entity_type=ENTITY,
        entity_id=application.id,
        action="declare_conflict",
        reason=body.statement,
        details={"conflict": body.conflict, "recused": body.conflict},
    )
    if body.conflict:  # a recusal may be what completes the set of reviews
        await session.flush()
        await notification_rules.reviews_maybe_complete(session, application, await call_of(session, application))
    return assignment


def ensure_may_score(assignment: ReviewerAssignment, application: Application) -> None:
    """Scoring (a draft or the review): under review, declared without a conflict, not submitted yet."""
    _under_review(application, "Scoring")
    if assignment.conflict_declared is None:
        raise Conflict(slug="declaration-required")
    if assignment.recused:
        raise Forbidden(slug="recused")
    if assignment.scores is not None:
        raise Conflict(slug="already-reviewed")


def _score_errors(problems: list[ScoreProblem]) -> Unprocessable:
    return Unprocessable(
        code="scores_invalid", errors=[field_error(f"scores.{p.criterion}", p.message, str(p.code)) for p in problems]
    )


async def review(
    session: AsyncSession, principal: Principal, application: Application, call: Call, body: ReviewBody
) -> ReviewerAssignment:
    assignment = await own_assignment(session, principal, application)
    ensure_may_score(assignment, application)
    return await _record_review(
        session,
        principal,
        application,
        call,
        assignment,
        [(entry.criterion, entry.score) for entry in body.scores],
        body.recommendation,
        body.comment,
    )


async def _record_review(
    session: AsyncSession,
    principal: Principal,
    application: Application,
    call: Call,
    assignment: ReviewerAssignment,
    pairs: list[tuple[str, float]],
    recommendation: str,
    comment: str,
) -> ReviewerAssignment:
    """The submitted review: what counts towards the decision. Any draft is cleared (a review never goes back)."""
    try:
        score = weighted_score(rubric_of(call), pairs)
    except InvalidScores as exc:
        raise _score_errors(list(exc.problems)) from None
    assignment.scores = [{"criterion": c, "score": s} for c, s in pairs]
    assignment.score_pct = float(score.percent)
    assignment.recommendation = recommendation
    assignment.comment = comment
    assignment.reviewed_at = utcnow()
    assignment.draft_scores = assignment.draft_recommendation = assignment.draft_comment = None
    assignment.draft_version = assignment.draft_saved_at = None
    touch(application)
    record_audit(
        session,
        principal,
        entity_type=ENTITY,
        entity_id=application.id,
        action="submit_review",
        reason=comment,
        details={"score_pct": assignment.score_pct, "recommendation": str(recommendation)},
    )
    await session.flush()
    await notification_rules.reviews_maybe_complete(session, application, call)
    return assignment


# ---- drafts: the reviewer's own unfinished score sheet -----------------------------------------------------------
# A draft is not audited, not evented and never counted; it does not bump the application's version (a decision
# is not refused because a reviewer saved a sheet). It has its own version for If-Match.


def draft_pairs(assignment: ReviewerAssignment) -> list[tuple[str, float]]:
    return [(s["criterion"], s["score"]) for s in assignment.draft_scores or []]


def draft_missing(call: Call, assignment: ReviewerAssignment) -> list[str]:
    scored = {c for c, _ in draft_pairs(assignment)}
    missing = [f"scores.{code}" for code in rubric_of(call).codes if code not in scored]
    return missing + [name for name in ("recommendation", "comment") if getattr(assignment, f"draft_{name}") is None]


def draft_public(call: Call, assignment: ReviewerAssignment) -> DraftPublic:
    if assignment.draft_version is None or assignment.draft_saved_at is None:
        raise NotFound(code="review_draft_not_found")
    missing = draft_missing(call, assignment)
    score = (
        None
        if any(m.startswith("scores.") for m in missing)
        else float(weighted_score(rubric_of(call), draft_pairs(assignment)).percent)
    )
    return DraftPublic(
        application_id=assignment.application_id,
        reviewer_subject=assignment.reviewer_subject,
        scores=[ScoreEntry.model_validate(s) for s in assignment.draft_scores or []],
        recommendation=assignment.draft_recommendation,
        comment=assignment.draft_comment,
        version=assignment.draft_version,
        saved_at=assignment.draft_saved_at,
        missing=missing,
        score_pct=score,
    )


def save_draft(assignment: ReviewerAssignment, application: Application, call: Call, body: DraftBody) -> bool:
    """Replace the draft with `body` (each given score checked against the rubric). True when it was created.
    The caller has checked `ensure_may_score` and the draft's If-Match."""
    pairs = [(entry.criterion, entry.score) for entry in body.scores]
    problems = [p for p in validate_scores(rubric_of(call), pairs) if p.code != ScoreProblemCode.MISSING]
    if problems:
        raise _score_errors(problems)
    created = assignment.draft_version is None
    assignment.draft_scores = [{"criterion": c, "score": s} for c, s in pairs]
    assignment.draft_recommendation = body.recommendation
    assignment.draft_comment = body.comment
    assignment.draft_version = 1 if created else (assignment.draft_version or 0) + 1
    assignment.draft_saved_at = utcnow()
    return created


async def submit_draft(
    session: AsyncSession, principal: Principal, application: Application, call: Call, assignment: ReviewerAssignment
) -> ReviewerAssignment:
    """The saved draft becomes the review: every criterion scored, a recommendation and a comment (422
    `review_incomplete` listing each missing item otherwise). The caller has checked `ensure_may_score`."""
    missing = draft_missing(call, assignment)
    if missing:
        raise Unprocessable(
            code="review_incomplete",
            params={"fields": ", ".join(missing)},
            errors=[field_error(m, None, "missing" if m.startswith("scores.") else "required") for m in missing],
        )
    assert assignment.draft_recommendation is not None and assignment.draft_comment is not None
    return await _record_review(
        session,
        principal,
        application,
        call,
        assignment,
        draft_pairs(assignment),
        assignment.draft_recommendation,
        assignment.draft_comment,
    )
