from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Numeric, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from cleanprod_kit.ids import uuid7

from ..db_types import ServiceTable, created_at, updated_at, vnd


class Call(ServiceTable, table=True):
    """A programme round (đợt hỗ trợ). `committed_vnd` is the sum of the support approved under it; the
    database itself refuses a row where it would exceed the budget."""

    __tablename__ = "calls"
    __table_args__ = (
        UniqueConstraint("code", name="uq_calls_code"),
        CheckConstraint("closes_on >= opens_on", name="ck_calls_dates_in_order"),
        CheckConstraint("committed_vnd >= 0 AND committed_vnd <= budget_vnd", name="ck_calls_budget_not_overcommitted"),
        CheckConstraint("support_rate_bp BETWEEN 1 AND 10000", name="ck_calls_support_rate"),
        CheckConstraint("cap_per_project_vnd > 0", name="ck_calls_cap_positive"),
        CheckConstraint("min_reviews >= 1", name="ck_calls_min_reviews"),
        CheckConstraint("pass_score_pct >= 0 AND pass_score_pct <= 100", name="ck_calls_pass_score"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    code: str = Field(max_length=32)
    title: str = Field(max_length=300)
    description: str | None = Field(default=None, sa_type=Text)
    opens_on: dt.date
    closes_on: dt.date
    budget_vnd: int = vnd()
    committed_vnd: int = vnd(default=0)
    support_rate_bp: int
    cap_per_project_vnd: int = vnd()
    eligible_sectors: list[str] = Field(default_factory=list, sa_type=JSONB, nullable=False)
    # What the call funds (domain/support_types.py); calls before migration 0014 fund technology transfer.
    support_types: list[str] = Field(default_factory=lambda: ["technology_transfer"], sa_type=JSONB, nullable=False)
    criteria: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONB, nullable=False)
    min_reviews: int
    pass_score_pct: Decimal = Field(sa_type=Numeric(5, 2))
    created_by: str = Field(max_length=255)
    version: int = Field(default=1)
    created_at: dt.datetime = created_at()
    updated_at: dt.datetime = updated_at()

    @property
    def remaining_vnd(self) -> int:
        return self.budget_vnd - self.committed_vnd
