"""The mail sender's state, all in the database (so several replicas and restarts are safe):

- `mail_resolutions`: one row per notification once the sender has seen it; `resolved_at` is set when its audience
  has been turned into delivery rows (the registry is asked outside any transaction, retried with back-off).
- `mail_deliveries`: one row per (notification, user) — the primary key, so no audience resolved twice ever mails a
  user twice — pending until sent, or failed (permanently refused, or still not sent after the maximum age).
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, Index, String, Text
from sqlmodel import Field

from ..db_types import ServiceTable, created_at, moment
from ..notifications.models import Notification


class DeliveryStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class MailResolution(ServiceTable, table=True):
    __tablename__ = "mail_resolutions"
    __table_args__ = (Index("ix_mail_resolutions_due", "next_attempt_at", postgresql_where="resolved_at IS NULL"),)

    notification_id: uuid.UUID = Field(primary_key=True, foreign_key="notifications.id")
    attempts: int = 0
    next_attempt_at: dt.datetime = Field(sa_type=DateTime(timezone=True), nullable=False)
    last_error: str | None = Field(default=None, sa_type=Text)
    resolved_at: dt.datetime | None = moment()
    recipients: int | None = None  # delivery rows written (after opt-outs, disabled logins and missing addresses)
    created_at: dt.datetime = created_at()


class MailDelivery(ServiceTable, table=True):
    __tablename__ = "mail_deliveries"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="ck_mail_deliveries_status"),
        Index("ix_mail_deliveries_due", "next_attempt_at", postgresql_where="status = 'pending'"),
    )

    notification_id: uuid.UUID = Field(primary_key=True, foreign_key="notifications.id")
    user_id: str = Field(primary_key=True, max_length=255)
    email: str = Field(max_length=320)
    full_name: str = Field(default="", max_length=300)
    locale: str = Field(sa_type=String(8))
    status: str = Field(default=DeliveryStatus.pending, sa_type=String(16))
    attempts: int = 0
    next_attempt_at: dt.datetime = Field(sa_type=DateTime(timezone=True), nullable=False)
    last_attempt_at: dt.datetime | None = moment()  # set when claimed: a crash after it leaves the mail "in doubt"
    last_error: str | None = Field(default=None, sa_type=Text)
    message_id: str = Field(max_length=255)  # from (notification id, user id): the same on every attempt
    sent_at: dt.datetime | None = moment()
    created_at: dt.datetime = created_at()


# The sender looks for notifications it has not seen among the recent ones (younger than mail_max_age_seconds):
# an index on their creation time keeps that look-up small as the table grows (migration 0013).
Index("ix_notifications_created_at", Notification.__table__.c.created_at)  # type: ignore[attr-defined]
