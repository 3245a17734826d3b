from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from cleanprod_kit.ids import uuid7

from ..db_types import ServiceTable, created_at


class Conclusion(ServiceTable, table=True):
    """The verifier's conclusion on a case: the verdict, the headline figures (columns, for the programme
    summary) and the full computation (``result``: every figure, the method, model statistics and the inputs
    used, with the measurement revisions). Written once; a trigger refuses UPDATE and DELETE."""

    __tablename__ = "conclusions"
    __table_args__ = (
        UniqueConstraint("case_id", name="uq_conclusions_case"),
        Index("ix_conclusions_verdict", "verdict"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="verification_cases.id")
    concluded_at: dt.datetime = created_at()
    concluded_by_subject: str = Field(max_length=255)
    concluded_by_name: str | None = Field(default=None, max_length=255)
    verdict: str = Field(sa_type=String(16))
    method: str = Field(sa_type=String(32))
    requires_review: bool
    review_note: str | None = Field(default=None, sa_type=Text)
    claimed_pct: float
    verified_pct: float | None = None
    achieved_ratio: float | None = None
    savings_toe: float
    savings_gj: float
    savings_tco2: float
    adjusted_baseline_toe: float
    reporting_energy_toe: float
    measurements_used: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONB, nullable=False)
    norm: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB, nullable=False)
    # json, not jsonb: the record is kept exactly as computed (jsonb would turn 1.38e+31 into an integer)
    result: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    # the programme summary's generation this conclusion's transaction made (set by a trigger, migration 0006)
    summary_generation: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=False, server_default=text("0"))
    )
