from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from cleanprod_kit.ids import uuid7

from ..db_types import ServiceTable, created_at, updated_at


class Baseline(ServiceTable, table=True):
    """One baseline period of a facility: production and consumption per energy carrier."""

    __tablename__ = "baselines"
    __table_args__ = (
        UniqueConstraint("facility_id", "period_start", name="uq_baselines_facility_start"),
        CheckConstraint("period_end >= period_start", name="ck_baselines_period_order"),
        Index("ix_baselines_facility", "facility_id", "period_start"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    facility_id: uuid.UUID = Field(foreign_key="facilities.id")
    period_start: dt.date
    period_end: dt.date
    production_quantity: float
    production_unit: str = Field(max_length=16)
    consumption: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONB, nullable=False)
    cdd: float | None = Field(default=None)
    hdd: float | None = Field(default=None)
    estimated: bool = Field(default=False)
    notes: str | None = Field(default=None, max_length=2000)
    version: int = Field(default=1)
    created_at: dt.datetime = created_at()
    updated_at: dt.datetime = updated_at()
