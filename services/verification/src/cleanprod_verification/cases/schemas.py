from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel


class FacilityFacts(BaseModel):
    id: uuid.UUID
    name: str | None
    sector_code: str | None
    products: list[str]
    capacity_quantity: float | None
    capacity_unit: str | None
    ward: str | None
    district: str | None


class EnterpriseFacts(BaseModel):
    id: uuid.UUID | None
    tax_code: str | None
    name: str | None


class SupplierFacts(BaseModel):
    name: str | None
    tax_code: str | None


class ClaimPublic(BaseModel):
    overall_percent: float | None
    per_carrier_percent: dict[str, float]


class VerifierPublic(BaseModel):
    subject: str
    username: str | None


class BaselinePublic(BaseModel):
    frozen_at: dt.datetime | None
    period_count: int
    note: str | None
    periods: list[dict[str, Any]] | None = None  # the frozen copy (detail view only)


class ConclusionBrief(BaseModel):
    verdict: str
    verified_savings_pct: float | None
    achieved_ratio: float | None
    method: str
    concluded_at: dt.datetime


class CasePublic(BaseModel):
    id: uuid.UUID
    application_id: uuid.UUID
    dossier_code: str | None
    status: str
    ready_to_conclude: bool
    project_title: str | None
    facility: FacilityFacts
    enterprise: EnterpriseFacts
    supplier: SupplierFacts | None
    claim: ClaimPublic
    approved_support_vnd: int | None
    implementation_start: dt.date | None
    implementation_end: dt.date | None
    completed_on: dt.date | None
    completion_reported_at: dt.datetime | None
    baseline: BaselinePublic
    mv_plan: dict[str, Any] | None = None  # the baseline model chosen (GET .../mv-plan); None: the default
    reporting_start: dt.date | None = None  # approved by an officer (else the day after completed_on)
    verifier: VerifierPublic | None
    conclusion: ConclusionBrief | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
