from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from cleanprod_kit.ids import uuid7

from ..db_types import ServiceTable, created_at, moment, updated_at


class CaseStatus(StrEnum):
    """awaiting_assignment ─assign─► assigned ─declare independent─► measuring ─conclude─► concluded
                    │ ▲                              │
    declare conflict▼ └──assign another── conflict   └─assign another─► assigned"""

    AWAITING_ASSIGNMENT = "awaiting_assignment"
    ASSIGNED = "assigned"
    CONFLICT = "conflict"
    MEASURING = "measuring"
    CONCLUDED = "concluded"


class VerificationCase(ServiceTable, table=True):
    """One approved application's verification: the frozen baseline and claim, the facts it is judged by, and
    who verifies it. The figures of the conclusion live in ``conclusions``; measurements in ``measurements``."""

    __tablename__ = "verification_cases"
    __table_args__ = (
        UniqueConstraint("application_id", name="uq_verification_cases_application"),
        CheckConstraint(
            "claimed_overall_pct IS NULL OR (claimed_overall_pct > 0 AND claimed_overall_pct <= 100)",
            name="ck_verification_cases_claim",
        ),
        Index("ix_verification_cases_status", "status", "id"),
        Index("ix_verification_cases_sector", "sector_code", "id"),
        Index("ix_verification_cases_tax_code", "enterprise_tax_code", "id"),
        Index("ix_verification_cases_verifier", "verifier_subject", "id"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    application_id: uuid.UUID
    dossier_code: str | None = Field(default=None, max_length=64)
    status: str = Field(default=CaseStatus.AWAITING_ASSIGNMENT, sa_type=String(32))

    # who and what is verified (from the application.approved event, completed from the registry)
    facility_id: uuid.UUID
    facility_name: str | None = Field(default=None, max_length=300)
    enterprise_id: uuid.UUID | None = None
    enterprise_tax_code: str | None = Field(default=None, max_length=20)
    enterprise_name: str | None = Field(default=None, max_length=300)
    sector_code: str | None = Field(default=None, max_length=32)
    products: list[str] = Field(default_factory=list, sa_type=JSONB, nullable=False)
    capacity_quantity: float | None = None
    capacity_unit: str | None = Field(default=None, max_length=32)
    ward: str | None = Field(default=None, max_length=120)
    district: str | None = Field(default=None, max_length=120)
    supplier_name: str | None = Field(default=None, max_length=300)
    supplier_tax_code: str | None = Field(default=None, max_length=20)
    project_title: str | None = Field(default=None, max_length=300)

    # the claim, frozen at approval
    claimed_overall_pct: float | None = None
    claimed_per_carrier: dict[str, float] = Field(default_factory=dict, sa_type=JSONB, nullable=False)
    approved_support_vnd: int | None = Field(default=None, sa_type=BigInteger)
    implementation_start: dt.date | None = None
    implementation_end: dt.date | None = None
    completed_on: dt.date | None = None
    completion_reported_at: dt.datetime | None = moment()

    # the baseline, frozen at approval: a copy of the registry's periods as they were
    baseline: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONB, nullable=False)
    baseline_frozen_at: dt.datetime | None = moment()
    baseline_note: str | None = Field(default=None, sa_type=Text)

    # the M&V plan: the baseline model and its degree-day basis (mv.models); None = production (+ given weather)
    mv_plan: dict[str, Any] | None = Field(default=None, sa_type=JSONB, nullable=True)
    # an officer-approved first day of reporting (else reporting starts after completed_on)
    reporting_start: dt.date | None = None
    reporting_start_note: str | None = Field(default=None, sa_type=Text)

    # the current verifier (history with declarations in verifier_assignments)
    verifier_subject: str | None = Field(default=None, max_length=255)
    verifier_username: str | None = Field(default=None, max_length=255)

    opened_by_event: uuid.UUID | None = None
    version: int = Field(default=1)
    created_at: dt.datetime = created_at()
    updated_at: dt.datetime = updated_at()

    @property
    def ready_to_conclude(self) -> bool:
        return self.completion_reported_at is not None
