from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import CheckConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from cleanprod_kit.ids import uuid7

from ..db_types import ServiceTable, created_at, updated_at, vnd
from ..domain.funding import SourceKind


class FundingSource(ServiceTable, table=True):
    """One source of a call's budget (city budget, a donor programme). `committed_vnd` is what the awards taken from
    it still stand for; the database refuses a row where it would exceed the amount or go below zero, as the last
    line behind the row lock every decision takes on it."""

    __tablename__ = "funding_sources"
    __table_args__ = (
        UniqueConstraint("call_id", "code", name="uq_funding_sources_call_code"),
        CheckConstraint("amount_vnd > 0", name="ck_funding_sources_amount_positive"),
        CheckConstraint(
            "committed_vnd >= 0 AND committed_vnd <= amount_vnd", name="ck_funding_sources_not_overcommitted"
        ),
        Index("ix_funding_sources_call", "call_id", "rank", "id"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    call_id: uuid.UUID = Field(foreign_key="calls.id")
    code: str = Field(max_length=32)
    name: str = Field(max_length=300)
    kind: SourceKind = Field(sa_type=String(32))
    rank: int = Field(default=0)
    amount_vnd: int = vnd()
    committed_vnd: int = vnd(default=0)
    support_types: list[str] = Field(default_factory=list, sa_type=JSONB, nullable=False)
    conditions: str | None = Field(default=None, sa_type=Text)
    version: int = Field(default=1)
    created_at: dt.datetime = created_at()
    updated_at: dt.datetime = updated_at()

    @property
    def remaining_vnd(self) -> int:
        return self.amount_vnd - self.committed_vnd


class AwardAllocation(ServiceTable, table=True):
    """The part of an application's award one source pays."""

    __tablename__ = "award_allocations"
    __table_args__ = (CheckConstraint("amount_vnd > 0", name="ck_award_allocations_amount_positive"),)

    application_id: uuid.UUID = Field(primary_key=True, foreign_key="applications.id")
    source_id: uuid.UUID = Field(primary_key=True, foreign_key="funding_sources.id")
    amount_vnd: int = vnd()
    created_at: dt.datetime = created_at()
