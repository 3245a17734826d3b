from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field

from cleanprod_kit.ids import uuid7

from ..db_types import ServiceTable, created_at, updated_at
from ..documents.models import StoredFileColumns


class Handbook(ServiceTable, table=True):
    __tablename__ = "handbooks"
    __table_args__ = (Index("ix_handbooks_sector", "sector_code", "id"),)

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    sector_code: str = Field(max_length=32)
    title_vi: str = Field(max_length=300)
    title_en: str = Field(max_length=300)
    latest_version: int = Field(default=0)  # 0 = no file published yet (not listed publicly)
    created_by: str = Field(max_length=255)
    version: int = Field(default=1)
    created_at: dt.datetime = created_at()
    updated_at: dt.datetime = updated_at()


class HandbookVersion(StoredFileColumns, table=True):
    """One published file of a handbook; never changed (a correction is the next version)."""

    __tablename__ = "handbook_versions"
    __table_args__ = (
        UniqueConstraint("handbook_id", "number", name="uq_handbook_versions_number"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="ck_handbook_versions_sha256"),
        CheckConstraint("size_bytes >= 0", name="ck_handbook_versions_size"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    handbook_id: uuid.UUID = Field(foreign_key="handbooks.id")
    number: int
