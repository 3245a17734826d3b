from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel

from .models import DocumentKind


class DocumentPublic(BaseModel):
    id: uuid.UUID
    application_id: uuid.UUID
    kind: DocumentKind
    filename: str
    media_type: str
    size_bytes: int
    sha256: str
    uploaded_by_name: str | None
    uploaded_at: dt.datetime
    download_url: str
    message_id: uuid.UUID | None = None
