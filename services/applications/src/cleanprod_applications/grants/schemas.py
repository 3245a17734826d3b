from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from ..schemas import CalendarDate, Reason, StrictBody, Text200
from .models import TrancheKind, TrancheStatus


class Outcome(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"


class DecisionBody(StrictBody):
    outcome: Outcome
    reason: Reason = Field(description="Why — sent to the enterprise with the decision")


class TranchePublic(BaseModel):
    kind: TrancheKind
    planned_vnd: int
    amount_vnd: int | None = Field(description="Null while the balance is withheld until verification")
    status: TrancheStatus
    basis: dict[str, Any]
    paid_on: dt.date | None = Field(default=None, description="When it was paid (status paid)")
    payment_reference: str | None = Field(default=None, description="The transfer's reference")
    updated_at: dt.datetime


class PaymentBody(StrictBody):
    paid_on: CalendarDate = Field(description="The day the transfer was made (not in the future)")
    reference: Text200 = Field(description="The treasury transfer's reference (số chứng từ)")


class LimitPublic(BaseModel):
    limit: str = Field(description="requested | rate | cap | budget")
    amount_vnd: int
    binding: bool = Field(description="Equal to the award (several limits can bind at once)")


class RefusalPublic(BaseModel):
    code: str = Field(description="decider_is_reviewer | not_enough_reviews | below_pass_score | zero_support")
    message: str = Field(description="In the caller's language (Accept-Language)")


class DecisionPreview(BaseModel):
    """What approving now would award and why, and whether the caller may take each outcome — the same
    computation as POST /decision, without taking it."""

    application_id: uuid.UUID
    version: int = Field(description="The application's version: send it as If-Match with the decision")
    status: str
    limits: list[LimitPublic] = Field(description="In the order requested, rate × eligible cost, cap, remaining budget")
    limit: str = Field(description="The limit that sets the award (the first binding one in that order)")
    award_vnd: int
    support_rate_bp: int
    eligible_cost_vnd: int
    refusals: dict[str, RefusalPublic | None] = Field(
        description="Per outcome (approve, reject, request_changes): why the caller may not take it now, or null"
    )
