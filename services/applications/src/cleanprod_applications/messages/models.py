from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlmodel import Field

from cleanprod_kit.ids import uuid7

from ..db_types import ServiceTable, created_at


class Visibility(StrEnum):
    SHARED = "shared"  # the enterprise and the Department
    INTERNAL = "internal"  # the Department's staff only: never shown to an enterprise token


class Message(ServiceTable, table=True):
    """One message of an application's thread between the Department and the enterprise. Its attachments are
    `documents` rows naming it (`documents.message_id`), with the message's visibility."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint("visibility IN ('shared', 'internal')", name="ck_messages_visibility"),
        Index("ix_messages_application", "application_id", "id"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    application_id: uuid.UUID = Field(foreign_key="applications.id")
    author_subject: str = Field(max_length=255)
    author_name: str | None = Field(default=None, max_length=255)
    author_role: str = Field(sa_type=String(32))
    body: str = Field(sa_type=Text)
    visibility: Visibility = Field(sa_type=String(16))
    created_at: dt.datetime = created_at()
