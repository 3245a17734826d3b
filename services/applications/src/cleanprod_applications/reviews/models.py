from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from cleanprod_kit.ids import uuid7

from ..db_types import ServiceTable, created_at, moment
from ..domain import Review


class ReviewerAssignment(ServiceTable, table=True):
    """One reviewer on one application: assigned by an officer, then the reviewer's conflict-of-interest
    declaration, then (only without a conflict) their scores on the call's rubric."""

    __tablename__ = "reviewer_assignments"
    __table_args__ = (
        UniqueConstraint("application_id", "reviewer_subject", name="uq_reviewer_assignments_reviewer"),
        Index("ix_reviewer_assignments_reviewer", "reviewer_subject", "application_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    application_id: uuid.UUID = Field(foreign_key="applications.id")
    reviewer_subject: str = Field(max_length=255, description="Keycloak subject id (token `sub`)")
    reviewer_username: str = Field(max_length=255)
    assigned_by: str = Field(max_length=255)
    assigned_at: dt.datetime = created_at()
    # The day the review is due (assignment day + the review period in working days; migration 0011): reminders.
    due_on: dt.date | None = None

    conflict_declared: bool | None = Field(default=None, description="None until the reviewer declares")
    conflict_statement: str | None = Field(default=None, sa_type=Text)
    declared_at: dt.datetime | None = moment()

    scores: list[dict[str, Any]] | None = Field(default=None, sa_type=JSONB, nullable=True)
    score_pct: float | None = None
    recommendation: str | None = Field(default=None, sa_type=String(16))
    comment: str | None = Field(default=None, sa_type=Text)
    reviewed_at: dt.datetime | None = moment()

    # The reviewer's unfinished score sheet (saved as they go, read only by them, never counted; migration 0005).
    # Submitting the review clears it; `draft_version` is its own ETag (None: no draft).
    draft_scores: list[dict[str, Any]] | None = Field(default=None, sa_type=JSONB, nullable=True)
    draft_recommendation: str | None = Field(default=None, sa_type=String(16))
    draft_comment: str | None = Field(default=None, sa_type=Text)
    draft_version: int | None = None
    draft_saved_at: dt.datetime | None = moment()

    @property
    def recused(self) -> bool:
        return self.conflict_declared is True

    def as_review(self) -> Review:
        """This assignment as the domain's review value (for scoring summaries and decision rules)."""
        scores = [(s["criterion"], s["score"]) for s in self.scores] if self.scores is not None else None
        return Review(reviewer_id=self.reviewer_subject, recused=self.recused, scores=scores)
