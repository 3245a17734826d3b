"""Tables of the e-government integration: webhook subscriptions, one delivery row per (subscription, event),
and the fan-out position in the outbox stream."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from cleanprod_kit.ids import uuid7

from ..db_types import ServiceTable, created_at, moment, updated_at


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    """Not delivered yet: waiting for its turn, in flight (leased), or waiting for a retry."""
    DELIVERED = "delivered"
    DEAD = "dead"
    """Retried for `webhook_max_age_seconds` without a 2xx answer: kept for inspection and redelivery."""


_STATUSES = ", ".join(f"'{s.value}'" for s in DeliveryStatus)


class WebhookSubscription(ServiceTable, table=True):
    """An egov client's wish to receive events at a URL. Owned by the client's token subject (its Keycloak
    service account); the secret is stored encrypted (see signing.py)."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (Index("ix_webhook_subscriptions_owner", "owner_subject", "id"),)

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    owner_subject: str = Field(max_length=255)
    owner_client_id: str | None = Field(default=None, max_length=255)
    url: str = Field(max_length=2048)
    description: str | None = Field(default=None, max_length=300)
    event_types: list[str] = Field(default_factory=list, sa_type=JSONB, nullable=False)
    secret_ciphertext: str = Field(sa_type=Text)
    active: bool = Field(default=True)
    # Events of transactions older than every transaction running when the subscription was created are
    # history (the feed serves them); everything from this transaction id on is delivered.
    from_txid: int = Field(sa_column=Column(BigInteger, nullable=False))
    version: int = Field(default=1)
    created_at: dt.datetime = created_at()
    updated_at: dt.datetime = updated_at()


class WebhookDelivery(ServiceTable, table=True):
    """One event for one subscription. Attempted in `event_seq` order per (subscription, aggregate); claimed by a
    dispatcher with a lease (`locked_until`, `claim_token`) so no two replicas POST it at once."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # One delivery per event and subscription (the outbox's seq identifies the event); also the listing order.
        UniqueConstraint("subscription_id", "event_seq", name="uq_webhook_deliveries_subscription_event"),
        CheckConstraint(f"status IN ({_STATUSES})", name="ck_webhook_deliveries_status"),
        Index("ix_webhook_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        Index(
            "ix_webhook_deliveries_pair",
            "subscription_id",
            "aggregate_type",
            "aggregate_id",
            "event_seq",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_webhook_deliveries_status", "subscription_id", "status", "event_seq"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    subscription_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), nullable=False)
    )
    event_id: uuid.UUID
    event_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    event_type: str = Field(max_length=128)
    aggregate_type: str = Field(max_length=64)
    aggregate_id: str = Field(max_length=64)
    status: DeliveryStatus = Field(default=DeliveryStatus.PENDING, sa_type=String(16))
    attempts: int = Field(default=0)
    next_attempt_at: dt.datetime = created_at()
    retry_since: dt.datetime = created_at()
    """Start of the retry window (creation, or the last manual redelivery); dead after max age from here."""
    locked_until: dt.datetime | None = moment()
    claim_token: uuid.UUID | None = None
    last_attempt_at: dt.datetime | None = moment()
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, sa_type=Text)
    delivered_at: dt.datetime | None = moment()
    dead_at: dt.datetime | None = moment()
    created_at: dt.datetime = created_at()
    updated_at: dt.datetime = updated_at()


class FanoutPosition(ServiceTable, table=True):
    """How far the fan-out has read the outbox, in commit-safe order (txid, seq)."""

    __tablename__ = "webhook_fanout_positions"

    name: str = Field(primary_key=True, max_length=32)
    last_txid: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    last_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    updated_at: dt.datetime = updated_at()
