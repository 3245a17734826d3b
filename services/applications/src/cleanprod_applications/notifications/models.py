from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from cleanprod_kit.ids import uuid7

from ..db_types import ServiceTable, created_at


class NotificationKind(StrEnum):
    """Every kind of thing the platform tells someone (issue 10, "who is told what")."""

    # enterprise
    dossier_received = "dossier_received"
    screening_ineligible = "screening_ineligible"
    changes_requested = "changes_requested"
    decision_made = "decision_made"
    tranche_payable = "tranche_payable"
    tranche_paid = "tranche_paid"
    verification_concluded = "verification_concluded"
    supplement_requested = "supplement_requested"
    message_received = "message_received"
    # reviewer
    review_assigned = "review_assigned"
    review_due_soon = "review_due_soon"
    review_overdue = "review_overdue"
    # officer
    ready_to_decide = "ready_to_decide"
    dossier_due_soon = "dossier_due_soon"
    dossier_overdue = "dossier_overdue"
    webhook_dead_lettered = "webhook_dead_lettered"
    # verifier
    verifier_assigned = "verifier_assigned"
    measurements_can_start = "measurements_can_start"


# What an administrative procedure must tell the enterprise (receipt, outcome, what it must supply): these cannot
# be switched off. Everything else is a convenience its recipient may turn off per channel.
STATUTORY_KINDS = frozenset(
    {
        NotificationKind.dossier_received,
        NotificationKind.screening_ineligible,
        NotificationKind.changes_requested,
        NotificationKind.decision_made,
        NotificationKind.supplement_requested,
    }
)

CHANNELS = ("in_app", "email")


class Notification(ServiceTable, table=True):
    """One thing to tell, addressed to exactly one audience: one user, every login of one enterprise, or every
    holder of one realm role — so it is written in the event's own transaction, without asking Keycloak who that
    is. `dedupe_key` names its cause: a rule never writes two rows for one cause, also across restarts."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(
            "num_nonnulls(recipient_user_id, recipient_enterprise_id, recipient_role) = 1",
            name="ck_notifications_one_audience",
        ),
        Index("ix_notifications_user", "recipient_user_id", "created_at"),
        Index("ix_notifications_enterprise", "recipient_enterprise_id", "created_at"),
        Index("ix_notifications_role", "recipient_role", "created_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    dedupe_key: str = Field(sa_type=Text, unique=True)
    kind: str = Field(sa_type=String(40))
    statutory: bool
    recipient_user_id: str | None = Field(default=None, max_length=255)
    recipient_enterprise_id: uuid.UUID | None = None
    recipient_role: str | None = Field(default=None, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB)
    link: str | None = Field(default=None, sa_type=Text)
    application_id: uuid.UUID | None = Field(default=None, foreign_key="applications.id")
    created_at: dt.datetime = created_at()


class NotificationRead(ServiceTable, table=True):
    """That one user has read one notification (an enterprise- or role-wide row is read per user)."""

    __tablename__ = "notification_reads"

    notification_id: uuid.UUID = Field(primary_key=True, foreign_key="notifications.id")
    user_id: str = Field(primary_key=True, max_length=255)
    read_at: dt.datetime = Field(sa_type=DateTime(timezone=True), nullable=False)


class NotificationPreference(ServiceTable, table=True):
    """A user's choice for one kind on one channel; no row means on. Statutory kinds are never stored off."""

    __tablename__ = "notification_preferences"
    __table_args__ = (CheckConstraint("channel IN ('in_app', 'email')", name="ck_notification_preferences_channel"),)

    user_id: str = Field(primary_key=True, max_length=255)
    kind: str = Field(primary_key=True, sa_type=String(40))
    channel: str = Field(primary_key=True, sa_type=String(16))
    enabled: bool
