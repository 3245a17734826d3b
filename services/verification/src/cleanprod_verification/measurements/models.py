from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import CheckConstraint, Index, Text, UniqueConstraint, false
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from cleanprod_kit.ids import uuid7

from ..db_types import ServiceTable, created_at, updated_at


class Measurement(ServiceTable, table=True):
    """One reporting period of a case. Its figures live in revisions; ``revision`` is the latest one's number
    (and the ETag), the period columns mirror the latest revision so overlaps can be checked by a query."""

    __tablename__ = "measurements"
    __table_args__ = (
        Index("ix_measurements_case", "case_id", "period_start", "id"),
        CheckConstraint("period_end >= period_start", name="ck_measurements_period_order"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="verification_cases.id")
    period_start: dt.date
    period_end: dt.date
    revision: int = Field(default=1)
    # the latest revision withdrew it: left out of the computation
    withdrawn: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    created_by_subject: str = Field(max_length=255)
    created_at: dt.datetime = created_at()
    updated_at: dt.datetime = updated_at()


class MeasurementRevision(ServiceTable, table=True):
    """What the verifier recorded, once. Append-only (a trigger refuses UPDATE and DELETE): a correction is a
    new revision, and every earlier one stays readable."""

    __tablename__ = "measurement_revisions"
    __table_args__ = (
        UniqueConstraint("measurement_id", "revision", name="uq_measurement_revisions_number"),
        CheckConstraint("period_end >= period_start", name="ck_measurement_revisions_period_order"),
        CheckConstraint("production_quantity >= 0", name="ck_measurement_revisions_production"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    measurement_id: uuid.UUID = Field(foreign_key="measurements.id")
    revision: int
    period_start: dt.date
    period_end: dt.date
    production_quantity: float
    production_unit: str = Field(max_length=16)
    consumption: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONB, nullable=False)
    cdd: float | None = None
    hdd: float | None = None
    estimated: bool = Field(default=False)
    evidence: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB, nullable=False)
    # this revision withdraws the period (its figures are the previous revision's)
    withdrawn: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    reason: str | None = Field(default=None, sa_type=Text)
    recorded_by_subject: str = Field(max_length=255)
    recorded_by_name: str | None = Field(default=None, max_length=255)
    recorded_at: dt.datetime = created_at()
