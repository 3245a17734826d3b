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


class RefreezeStatus(StrEnum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"


class BaselineRefreeze(ServiceTable, table=True):
    """Re-freezing a baseline that was wrong at approval: an officer proposes the registry's current periods,
    the case's verifier confirms (four-eyes). The old baseline and the figures on it stay in this row."""

    __tablename__ = "baseline_refreezes"
    __table_args__ = (Index("ix_baseline_refreezes_case", "case_id", "requested_at"),)

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="verification_cases.id")
    status: str = Field(default=RefreezeStatus.PROPOSED, sa_type=String(16))
    reason: str = Field(sa_type=Text)
    old_baseline: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONB, nullable=False)
    new_baseline: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONB, nullable=False)
    requested_by_subject: str = Field(max_length=255)
    requested_by_name: str | None = Field(default=None, max_length=255)
    requested_at: dt.datetime = created_at()
    confirmed_by_subject: str | None = Field(default=None, max_length=255)
    confirmed_by_name: str | None = Field(default=None, max_length=255)
    confirmed_at: dt.datetime | None = moment()
    # the figures on the old and on the new baseline when it was confirmed (None: not computable then)
    old_result: dict[str, Any] | None = Field(default=None, sa_type=JSONB, nullable=True)
    new_result: dict[str, Any] | None = Field(default=None, sa_type=JSONB, nullable=True)
    version: int = Field(default=1)
