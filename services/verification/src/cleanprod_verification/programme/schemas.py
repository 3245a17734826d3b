from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class GroupSummary(BaseModel):
    sector_code: str | None = None
    district: str | None = None
    ward: str | None = None
    cases: int = Field(description="Concluded verifications")
    verified: int
    not_achieved: int
    savings_toe: float = Field(description="Verified (M&V) savings of every concluded case, whatever its verdict")
    savings_gj: float
    savings_tco2: float
    adjusted_baseline_toe: float = Field(description="What the projects would have used without the projects")
    savings_pct: float | None = Field(description="savings_toe / adjusted_baseline_toe × 100 (energy-weighted)")
    target_pct: float
    attainment_pct: float | None = Field(description="savings_pct / target_pct × 100")
    meets_target: bool


class ProgrammeSummary(BaseModel):
    target_pct: float
    concluded_from: dt.date | None
    concluded_to: dt.date | None
    total: GroupSummary
    by_sector: list[GroupSummary]
    by_district: list[GroupSummary]
    by_ward: list[GroupSummary]
