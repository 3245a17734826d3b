from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field

from ..schemas import Reason, StrictBody


class ItemBody(StrictBody):
    needed: Reason = Field(description="What the enterprise must supply or correct")


class SupplementRequestBody(StrictBody):
    items: list[ItemBody] = Field(min_length=1, max_length=50)
    note: Reason | None = Field(default=None, description="Covering note to the enterprise")


class AnswerBody(StrictBody):
    answer: Reason | None = Field(default=None, description="The enterprise's answer")
    document_id: uuid.UUID | None = Field(
        default=None, description="A document already attached to this application (upload it first)"
    )


class SupplementItemPublic(BaseModel):
    id: uuid.UUID
    position: int
    needed: str
    answer: str | None
    document_id: uuid.UUID | None
    answered_by_name: str | None
    answered_at: dt.datetime | None


class SupplementRequestPublic(BaseModel):
    id: uuid.UUID
    application_id: uuid.UUID
    status: str = Field(description="open | answered")
    note: str | None
    requested_by_name: str | None
    requested_at: dt.datetime
    answered_at: dt.datetime | None
    items: list[SupplementItemPublic]
