"""Column helpers every service's tables use (timestamps, money, accent-folded search text, versioning)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, Computed, DateTime, MetaData, Text
from sqlmodel import Field, SQLModel

from .models import utcnow


def created_at() -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False)


def updated_at() -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False)


def moment(**kw: Any) -> Any:
    """An optional point in time (timezone-aware)."""
    return Field(default=None, sa_type=DateTime(timezone=True), **({"nullable": True} | kw))


def vnd(*, nullable: bool = False, default: Any = ...) -> Any:
    """An amount of đồng: BIGINT (a call budget easily exceeds 2^31 VND)."""
    if default is ...:
        return Field(sa_type=BigInteger, nullable=nullable)
    return Field(default=default, sa_type=BigInteger, nullable=nullable)


def search_column(*parts: str) -> Any:
    """Accent-folded text of the given columns, kept by PostgreSQL itself (generated column, see `cp_fold`)."""
    expression = "cp_fold(" + " || ' ' || ".join(f"coalesce({p}, '')" for p in parts) + ")"
    return Field(default=None, sa_column=Column(Text, Computed(expression, persisted=True), nullable=True))


def touch(obj: Any) -> None:
    """Record a change: new `updated_at`, next `version` (the ETag)."""
    obj.updated_at = utcnow()
    obj.version += 1


def service_metadata(*tables: type[SQLModel]) -> MetaData:
    """The metadata of one service's database: the kit's tables plus the given ones.

    Each service declares its tables on a base with its own SQLAlchemy registry
    (`class ServiceTable(SQLModel, registry=registry())`), so when several services' models share a process (tests
    run the registry in-process) one service's Alembic comparison never sees another's tables."""
    from .models import AuditEntry, IdempotencyRecord, OutboxEvent, ProcessedEvent

    metadata = MetaData()
    for table in (AuditEntry, IdempotencyRecord, OutboxEvent, ProcessedEvent, *tables):
        table.__table__.to_metadata(metadata)  # type: ignore[attr-defined]
    return metadata
