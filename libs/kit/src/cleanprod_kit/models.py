"""Tables every service database carries: audit log, outbox, processed events, idempotency keys.

Each service's Alembic tree creates them (see `cleanprod_kit.migration_ops`)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from . import model_defaults
from .ids import uuid7

model_defaults.install()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def timestamp_column(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), **kw)


class AuditEntry(SQLModel, table=True):
    """Append-only: a trigger in every database refuses UPDATE and DELETE on this table."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity_type", "entity_id", "id"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    occurred_at: dt.datetime = timestamp_column(nullable=False)
    actor_subject: str = Field(max_length=255)
    actor_name: str | None = Field(default=None, max_length=255)
    actor_role: str = Field(max_length=32)
    entity_type: str = Field(max_length=64)
    entity_id: str = Field(max_length=64)
    action: str = Field(max_length=64)
    from_state: str | None = Field(default=None, max_length=64)
    to_state: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None)
    request_id: str | None = Field(default=None, max_length=128)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB, nullable=False)


class OutboxEvent(SQLModel, table=True):
    """Written in the same transaction as the state change it announces; delivered at least once."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_pending", "seq", postgresql_where=text("published_at IS NULL")),
        Index("ix_outbox_aggregate", "aggregate_type", "aggregate_id", "seq"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), nullable=False, unique=True))
    # Transaction id of the writer: a feed reader only serves events whose transaction is older than every
    # transaction still running, so a late commit with a lower seq is never skipped.
    txid: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, nullable=False, server_default=text("(pg_current_xact_id())::text::bigint")),
    )
    event_type: str = Field(max_length=128)
    aggregate_type: str = Field(max_length=64)
    aggregate_id: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB, nullable=False)
    occurred_at: dt.datetime = timestamp_column(nullable=False)
    request_id: str | None = Field(default=None, max_length=128)
    published_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    attempts: int = Field(default=0, nullable=False)
    next_attempt_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    last_error: str | None = None


class ProcessedEvent(SQLModel, table=True):
    """Consumer-side de-duplication: an event id is handled once even if delivered many times."""

    __tablename__ = "processed_events"

    event_id: uuid.UUID = Field(primary_key=True)
    event_type: str = Field(max_length=128)
    processed_at: dt.datetime = timestamp_column(nullable=False)


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_keys"

    principal: str = Field(primary_key=True, max_length=255)
    key: str = Field(primary_key=True, max_length=255)
    method: str = Field(max_length=8)
    path: str = Field(max_length=512)
    fingerprint: str = Field(max_length=64)
    status_code: int
    response_body: Any = Field(default=None, sa_type=JSONB, nullable=True)
    response_headers: dict[str, str] = Field(default_factory=dict, sa_type=JSONB, nullable=False)
    created_at: dt.datetime = timestamp_column(nullable=False)
