from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from cleanprod_kit.ids import uuid7

from ..db_types import ServiceTable, created_at, moment, search_column, updated_at, vnd
from ..domain import ApplicationStatus

ENTITY = "application"
"""An application's name as an audit entry's entity type and an event's aggregate type."""

_STATUSES = ", ".join(f"'{s.value}'" for s in ApplicationStatus)


class Application(ServiceTable, table=True):
    """A support application (hồ sơ đề nghị hỗ trợ). The facility and enterprise facts are copied from the
    registry when the draft is created, so the dossier keeps what was true when it was filed."""

    __tablename__ = "applications"
    __table_args__ = (
        UniqueConstraint("dossier_code", name="uq_applications_dossier_code"),
        CheckConstraint(f"status IN ({_STATUSES})", name="ck_applications_status"),
        CheckConstraint(
            "total_cost_vnd >= 0 AND eligible_cost_vnd >= 0 AND requested_support_vnd >= 0",
            name="ck_applications_amounts",
        ),
        CheckConstraint("approved_support_vnd IS NULL OR approved_support_vnd >= 0", name="ck_applications_approved"),
        Index("ix_applications_status", "status", "id"),
        Index("ix_applications_call", "call_id", "id"),
        Index("ix_applications_enterprise", "enterprise_id", "id"),
        Index("ix_applications_tax_code", "enterprise_tax_code", "id"),
        Index("ix_applications_due", "due_at", "id"),
        Index(
            "ix_applications_search",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    call_id: uuid.UUID = Field(foreign_key="calls.id")
    status: ApplicationStatus = Field(default=ApplicationStatus.DRAFT, sa_type=String(32))
    dossier_code: str | None = Field(default=None, max_length=32)

    facility_id: uuid.UUID
    facility_name: str = Field(max_length=300)
    enterprise_id: uuid.UUID
    enterprise_tax_code: str = Field(max_length=14)
    enterprise_name: str = Field(max_length=300)
    sector_code: str = Field(max_length=32)
    # Where the facility is (from the registry when the draft is started), for the officers' place filters.
    ward: str | None = Field(default=None, max_length=120)
    district: str | None = Field(default=None, max_length=120)

    # The dossier's content: empty (NULL, or [] for the claims) while a draft is being filled in step by step;
    # submission refuses the dossier until every part is there (applications/completeness.py).
    support_type: str = Field(default="technology_transfer", max_length=32)  # one of its call's support types
    title: str | None = Field(default=None, max_length=300)
    technology: str | None = Field(default=None, sa_type=Text)
    supplier_name: str | None = Field(default=None, max_length=300)
    supplier_tax_code: str | None = Field(default=None, max_length=14)
    total_cost_vnd: int | None = vnd(nullable=True, default=None)
    eligible_cost_vnd: int | None = vnd(nullable=True, default=None)
    requested_support_vnd: int | None = vnd(nullable=True, default=None)
    claimed_savings: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONB, nullable=False)
    claimed_overall_saving_pct: float | None = None
    implementation_start: dt.date | None = None
    implementation_end: dt.date | None = None

    first_submitted_at: dt.datetime | None = moment()
    submitted_at: dt.datetime | None = moment()
    screening_reasons: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONB, nullable=False)

    # The statutory time limit (applications/deadlines.py): working days promised at the first submission, the
    # clock's stops while a supplement is requested ([{stopped_at, restarted_at}], ISO instants), and the due
    # date they give (NULL while the clock is stopped) — stored, so the overdue list is one indexed query.
    processing_days: int | None = None
    clock_stops: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONB, nullable=False)
    due_at: dt.datetime | None = moment()
    # The open supplement request (supplements/): a sub-state of under_review — e-gov 5, clock stopped.
    open_supplement_id: uuid.UUID | None = Field(default=None)

    review_score_pct: float | None = None
    approved_support_vnd: int | None = vnd(nullable=True, default=None)
    award_limit: str | None = Field(default=None, max_length=16)
    decided_at: dt.datetime | None = moment()
    decided_by: str | None = Field(default=None, max_length=255)
    decision_reason: str | None = Field(default=None, sa_type=Text)

    started_on: dt.date | None = None
    completed_on: dt.date | None = None

    verification_id: str | None = Field(default=None, max_length=64)
    achieved_ratio: float | None = None
    verified_savings_pct: float | None = None
    verified_at: dt.datetime | None = moment()

    created_by: str = Field(max_length=255)
    search_text: str | None = search_column("title", "enterprise_name", "facility_name", "dossier_code")
    version: int = Field(default=1)
    created_at: dt.datetime = created_at()
    updated_at: dt.datetime = updated_at()


class DossierSequence(ServiceTable, table=True):
    """The last dossier number handed out per agency and Hanoi calendar day (incremented atomically with
    INSERT … ON CONFLICT DO UPDATE … RETURNING: the row lock orders concurrent submissions)."""

    __tablename__ = "dossier_sequences"

    agency_id: str = Field(primary_key=True, max_length=16)
    day: dt.date = Field(primary_key=True)
    last_value: int
