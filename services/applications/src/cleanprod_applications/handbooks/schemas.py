from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field

from cleanprod_kit.fields import StrictBody, Text

SectorCode = Text(32, pattern=r"^[A-Za-z0-9_.-]+$")


class HandbookCreate(StrictBody):
    sector_code: SectorCode
    title_vi: Text(300) = Field(description="Vietnamese title (with diacritics)")
    title_en: Text(300)


class HandbookVersionPublic(BaseModel):
    number: int
    filename: str
    media_type: str
    size_bytes: int
    sha256: str
    uploaded_at: dt.datetime
    download_url: str


class HandbookPublic(BaseModel):
    id: uuid.UUID
    sector_code: str
    title_vi: str
    title_en: str
    latest_version: int
    versions: list[HandbookVersionPublic] = Field(description="Newest first")
    created_at: dt.datetime
    updated_at: dt.datetime
