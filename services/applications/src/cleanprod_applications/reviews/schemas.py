from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import BaseModel, Field

from ..schemas import Flag, LongText, Reason, StrictBody, Text


class AssignmentBody(StrictBody):
    reviewer_subject: Text(255) = Field(description="Keycloak user id (`sub`)")
    reviewer_username: Text(255)


class BulkAssignmentItem(AssignmentBody):
    application_id: uuid.UUID
    version: int | None = Field(
        default=None,
        ge=1,
        description="The application's version as the officer saw it "
        "(optional, like If-Match on the single assignment; stale → 412 for this item)",
    )


class BulkAssignmentBody(StrictBody):
    assignments: list[BulkAssignmentItem] = Field(min_length=1, max_length=200)


class DeclarationBody(StrictBody):
    conflict: Flag = Field(description="true: I have a conflict of interest and recuse myself")
    statement: Reason = Field(
        description="What links (or does not link) you to the enterprise, its facility or its supplier"
    )


class Recommendation(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"


class ScoreEntry(StrictBody):
    criterion: Text(32)
    score: float = Field(strict=True, allow_inf_nan=False)


class ReviewBody(StrictBody):
    scores: list[ScoreEntry] = Field(min_length=1, max_length=30)
    recommendation: Recommendation
    comment: LongText


class DraftBody(StrictBody):
    """A half-finished score sheet: any subset of the criteria, the recommendation and comment when known.
    Each score given must fit the rubric already (known criterion, once, 0..max)."""

    scores: list[ScoreEntry] = Field(default_factory=list, max_length=30)
    recommendation: Recommendation | None = None
    comment: LongText | None = None


class DraftPublic(BaseModel):
    application_id: uuid.UUID
    reviewer_subject: str
    scores: list[ScoreEntry]
    recommendation: Recommendation | None
    comment: str | None
    version: int = Field(description="The draft's own version (its ETag); each save needs it as If-Match")
    saved_at: dt.datetime
    missing: list[str] = Field(
        description="What submitting still needs: `scores.<criterion>`, `recommendation`, "
        "`comment` (empty: ready to submit)"
    )
    score_pct: float | None = Field(description="The weighted score once every criterion is scored, else null")


class AssignmentPublic(BaseModel):
    id: uuid.UUID
    application_id: uuid.UUID
    reviewer_subject: str
    reviewer_username: str
    assigned_by: str
    assigned_at: dt.datetime
    due_on: dt.date | None = Field(description="The day the review is due (working days after the assignment)")
    conflict_declared: bool | None
    conflict_statement: str | None
    declared_at: dt.datetime | None
    recused: bool
    scores: list[ScoreEntry] | None
    score_pct: float | None = Field(description="Σ weight·score / Σ weight·max over the rubric, in percent")
    recommendation: Recommendation | None
    comment: str | None
    reviewed_at: dt.datetime | None
