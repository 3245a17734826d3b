from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, Field

from cleanprod_kit.fields import StrictBody

from ..schemas import Text2000


class RefreezeCreate(StrictBody):
    reason: Text2000 = Field(description="What was wrong with the baseline frozen at approval")


class RefreezeConfirm(StrictBody):
    note: Text2000 = Field(description="What the verifier checked in the new baseline")


class RefreezePublic(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    status: str
    reason: str
    old_baseline: list[dict[str, Any]]
    new_baseline: list[dict[str, Any]]
    requested_by: str
    requested_at: dt.datetime
    confirmed_by: str | None
    confirmed_at: dt.datetime | None
    old_result: dict[str, Any] | None = Field(description="The figures on the old baseline when confirmed")
    new_result: dict[str, Any] | None = Field(description="The figures on the new baseline when confirmed")
    version: int
