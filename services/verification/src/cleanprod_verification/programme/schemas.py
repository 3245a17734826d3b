from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

PeriodKind = Literal["quarter", "year"]


class GroupSummary(BaseModel):
    sector_code: str | None = None
    district: str | None = None
    ward: str | None = None
    period: str | None = Field(None, description="Quarter (`2026-Q3`) or year (`2026`) of conclusion, Hanoi time")
    enterprises: int = Field(description="Distinct enterprises among the cases")
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
    period_kind: PeriodKind
    by_period: list[GroupSummary] = Field(description="The whole programme per period of conclusion (oldest first)")
    by_sector_period: list[GroupSummary] = Field(description="Each sector per period of conclusion")


class PublicGroup(BaseModel):
    """A group of the public results: aggregates only (no enterprise, facility or case is named)."""

    sector_code: str | None = None
    district: str | None = None
    period: str | None = None
    enterprises: int
    verified: int
    savings_toe: float
    savings_gj: float
    savings_tco2: float
    savings_pct: float | None
    target_pct: float
    meets_target: bool


class PublicResults(BaseModel):
    """The programme's results for anyone: groups with fewer than `min_enterprises` enterprises are left out
    of their breakdown (counted in `suppressed_groups`) so no single enterprise's figures can be read off."""

    target_pct: float
    period_kind: PeriodKind
    min_enterprises: int
    total: PublicGroup | None
    by_sector: list[PublicGroup]
    by_district: list[PublicGroup]
    by_period: list[PublicGroup]
    suppressed_groups: int
