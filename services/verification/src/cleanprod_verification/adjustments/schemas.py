from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, Field

from cleanprod_kit.fields import Flag, StrictBody, Text

from ..measurements.schemas import Evidence
from ..schemas import Text2000

SignedQuantity = Annotated[float, Field(ge=-1e9, le=1e9, allow_inf_nan=False)]


class AdjustmentCreate(StrictBody):
    carrier: Text(64)
    quantity: SignedQuantity = Field(description="Added to the adjusted baseline (negative: removed)")
    unit: Text(16)
    reason: Text2000 = Field(description="The static factor that changed and how the amount was estimated")
    evidence: Evidence


class AdjustmentDecision(StrictBody):
    approve: Flag
    note: Text2000


class AdjustmentPublic(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    carrier: str
    quantity: float
    unit: str
    amount_toe: float
    reason: str
    evidence: dict[str, Any]
    status: str
    recorded_by: str
    recorded_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str | None
    version: int
