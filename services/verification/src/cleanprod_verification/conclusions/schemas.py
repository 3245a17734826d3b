from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, Field

from cleanprod_kit.fields import StrictBody

from ..schemas import Text4000


class ConcludeBody(StrictBody):
    review_note: Text4000 | None = Field(
        default=None,
        description="Required when the computation asks for review (requires_review): what the verifier checked "
        "and why the figure stands",
    )


class SavingsFigures(BaseModel):
    toe: float
    gj: float
    tco2: float
    percent: float | None
    adjusted_baseline_toe: float
    reporting_energy_toe: float


class ResultPublic(BaseModel):
    verification_id: uuid.UUID
    application_id: uuid.UUID
    dossier_code: str | None
    status: str = Field(description="concluded, or preview (computed on the current data, not stored)")
    verdict: str
    verdict_reasons: list[str]
    achieved_ratio: float | None
    claimed_savings_pct: float
    verified_savings_pct: float | None
    programme_target_percent: float
    claim_tolerance_pp: float
    method: str
    binding_estimate: str | None
    savings: SavingsFigures
    requires_review: bool
    review_note: str | None
    warnings: list[str]
    fallback_reasons: list[str]
    model: dict[str, Any] | None = Field(
        description="Regression of the total: coefficients, R², CV(RMSE), NMBE, "
        "F-test, checks, savings uncertainty (null: none fitted)"
    )
    sec: dict[str, Any]
    carriers: list[dict[str, Any]]
    norm: dict[str, Any] = Field(description="The sector norm looked up (or why there is none) and the comparison")
    emission_factors: list[dict[str, Any]]
    measurements_used: list[dict[str, Any]] = Field(description="Each reporting period: measurement id + revision")
    inputs: dict[str, Any]
    concluded_at: dt.datetime | None
    concluded_by: str | None
    normalisation_dropped: list[str] = Field(
        default_factory=list, description="What the chosen model normalises for and this figure does not"
    )
    non_routine_adjustments: list[dict[str, Any]] = Field(
        default_factory=list, description="The approved IPMVP non-routine adjustments applied"
    )
    unadjusted: dict[str, Any] | None = Field(
        default=None, description="The total's figures before non-routine adjustments (null: none applied)"
    )
    computation: dict[str, Any] = Field(description="The complete computation record (schema_version 1)")
