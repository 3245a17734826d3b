from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import CheckConstraint, Index, String, Text, UniqueConstraint
from sqlmodel import Field

from cleanprod_kit.ids import uuid7

from ..db_types import ServiceTable, created_at, moment


class SupplementRequest(ServiceTable, table=True):
    """An officer's request to supplement a dossier under review (yêu cầu bổ sung hồ sơ): an itemised list. While
    it is open the dossier reports e-gov status 5 and its statutory clock is stopped."""

    __tablename__ = "supplement_requests"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'answered')", name="ck_supplement_requests_status"),
        Index("ix_supplement_requests_application", "application_id", "id"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    application_id: uuid.UUID = Field(foreign_key="applications.id")
    status: str = Field(default="open", sa_type=String(16))
    note: str | None = Field(default=None, sa_type=Text)
    requested_by_subject: str = Field(max_length=255)
    requested_by_name: str | None = Field(default=None, max_length=255)
    requested_at: dt.datetime = created_at()
    answered_at: dt.datetime | None = moment()


class SupplementItem(ServiceTable, table=True):
    """One thing the enterprise must supply, and its answer (a text, a document of the application, or both)."""

    __tablename__ = "supplement_items"
    __table_args__ = (UniqueConstraint("request_id", "position", name="uq_supplement_items_position"),)

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    request_id: uuid.UUID = Field(foreign_key="supplement_requests.id")
    position: int
    needed: str = Field(sa_type=Text)
    answer: str | None = Field(default=None, sa_type=Text)
    document_id: uuid.UUID | None = Field(default=None, foreign_key="documents.id")
    answered_by_subject: str | None = Field(default=None, max_length=255)
    answered_by_name: str | None = Field(default=None, max_length=255)
    answered_at: dt.datetime | None = moment()
