"""What anyone may see without signing in. Built field by field (never from the staff schemas by exclusion), so
a field added to a staff view does not leak here by accident."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field

from ..calls.schemas import CriterionPublic
from ..schemas import DecimalNumber


class PublicCall(BaseModel):
    """A call (programme round) as the public portal shows it; same meanings as CallPublic, without the
    bookkeeping (version, timestamps, committed amount)."""

    id: uuid.UUID
    code: str
    title: str
    description: str | None
    opens_on: dt.date
    closes_on: dt.date
    is_open: bool = Field(description="Whether today (Hanoi time) is within opens_on..closes_on")
    budget_vnd: int
    remaining_vnd: int
    support_rate_bp: int
    cap_per_project_vnd: int
    eligible_sectors: list[str]
    criteria: list[CriterionPublic]
    min_reviews: int
    pass_score_pct: DecimalNumber


class PublicDossierStatus(BaseModel):
    """A dossier's progress for anyone holding its code: status and dates only (no applicant, title or amount)."""

    dossier_code: str = Field(examples=["000.00.01.H26-261128-0001"])
    status: str = Field(description="The application's status", examples=["under_review"])
    egov_status: int = Field(description="TrangThaiHoSo", examples=[4])
    egov_status_label: str = Field(description="Vietnamese label of the code", examples=["Đang xử lý"])
    received_at: dt.datetime = Field(description="Reception (first submission), Hanoi time")
    due_at: dt.datetime | None = Field(
        description="Promised result date: reception + processing days (working days, "
        "public holidays excluded); null while a supplement is awaited"
    )
    decided_at: dt.datetime | None = Field(description="When processing ended with an outcome")
