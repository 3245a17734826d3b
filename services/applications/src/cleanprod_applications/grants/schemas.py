from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from ..schemas import Reason, StrictBody
from .models import TrancheKind, TrancheStatus


class Outcome(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"


class DecisionBody(StrictBody):
    outcome: Outcome
    reason: Reason = Field(
        description="Why — sent to the enterprise with the decision")


class TranchePublic(BaseModel):
    kind: TrancheKind
    planned_vnd: int
    amount_vnd: int | None = Field(description="Null while the balance is withheld until verification")
    status: TrancheStatus
    basis: dict[str, Any]
    updated_at: dt.datetime
