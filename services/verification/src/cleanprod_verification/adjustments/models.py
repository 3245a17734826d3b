from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from cleanprod_kit.ids import uuid7

from ..db_types import ServiceTable, created_at, moment


class AdjustmentStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"


class BaselineAdjustment(ServiceTable, table=True):
    """An IPMVP non-routine adjustment: the verifier records it (reason, amount, evidence), an officer who did
    not record it approves or rejects it (four-eyes); only approved ones enter the computation."""

    __tablename__ = "baseline_adjustments"
    __table_args__ = (Index("ix_baseline_adjustments_case", "case_id", "recorded_at"),)

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="verification_cases.id")
    carrier: str = Field(max_length=64)
    quantity: float  # added to the adjusted baseline (negative: removed), in ``unit`` of ``carrier``
    unit: str = Field(max_length=16)
    amount_toe: float
    reason: str = Field(sa_type=Text)
    evidence: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB, nullable=False)
    status: str = Field(default=AdjustmentStatus.PROPOSED, sa_type=String(16))
    recorded_by_subject: str = Field(max_length=255)
    recorded_by_name: str | None = Field(default=None, max_length=255)
    recorded_at: dt.datetime = created_at()
    decided_by_subject: str | None = Field(default=None, max_length=255)
    decided_by_name: str | None = Field(default=None, max_length=255)
    decided_at: dt.datetime | None = moment()
    decision_note: str | None = Field(default=None, sa_type=Text)
    version: int = Field(default=1)
