from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import BaseModel, Field

from ..schemas import Flag, LongText, Reason, StrictBody, Text


class AssignmentBody(StrictBody):
    reviewer_subject: Text(255) = Field(description="Keycloak user id (`sub`)")
    reviewer_username: Text(255)


class DeclarationBody(StrictBody):
    conflict: Flag = Field(description="true: I have a conflict of interest and recuse myself")
    statement: Reason = Field(
        description="What links (or does not link) you to the enterprise, its facility or its supplier")


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


class AssignmentPublic(BaseModel):
    id: uuid.UUID
    application_id: uuid.UUID
    reviewer_subject: str
    reviewer_username: str
    assigned_by: str
    assigned_at: dt.datetime
    conflict_declared: bool | None
    conflict_statement: str | None
    declared_at: dt.datetime | None
    recused: bool
    scores: list[ScoreEntry] | None
    score_pct: float | None = Field(description="Σ weight·score / Σ weight·max over the rubric, in percent")
    recommendation: Recommendation | None
    comment: str | None
    reviewed_at: dt.datetime | None
