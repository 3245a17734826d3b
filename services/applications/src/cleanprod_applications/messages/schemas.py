from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field

from ..documents.schemas import DocumentPublic
from ..schemas import Reason, StrictBody
from .models import Visibility


class MessageBody(StrictBody):
    body: Reason = Field(description="The message (plain text, line breaks kept)")
    visibility: Visibility = Field(
        default=Visibility.SHARED,
        description="shared (the enterprise sees it) or internal (Department staff only; officers only)",
    )


class MessagePublic(BaseModel):
    id: uuid.UUID
    application_id: uuid.UUID
    author_name: str | None
    author_role: str = Field(description="officer | enterprise")
    body: str
    visibility: Visibility
    created_at: dt.datetime
    attachments: list[DocumentPublic] = Field(description="Files added to this message (the application's documents)")
