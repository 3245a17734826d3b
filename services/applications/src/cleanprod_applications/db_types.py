"""Column helpers shared by the applications service's tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, Computed, DateTime, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from cleanprod_kit.models import utcnow


class ServiceTable(SQLModel, registry=registry()):
    """Base of this service's tables, with its own SQLAlchemy registry and metadata: when several services' models
    share a process (tests that run the registry in-process), each service's metadata holds only its own tables.
    The kit's tables (audit log, outbox, …) stay on `SQLModel.metadata`; `models.service_metadata()` joins both."""


def created_at() -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False)


def updated_at() -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False)


def moment(**kw: Any) -> Any:
    """An optional point in time (timezone-aware)."""
    return Field(default=None, sa_type=DateTime(timezone=True), **kw)


def vnd(*, nullable: bool = False, default: Any = ...) -> Any:
    """An amount of đồng: BIGINT (a call budget easily exceeds 2^31 VND)."""
    if default is ...:
        return Field(sa_type=BigInteger, nullable=nullable)
    return Field(default=default, sa_type=BigInteger, nullable=nullable)


def search_column(*parts: str) -> Any:
    """Accent-folded text of the given columns, kept by PostgreSQL itself (generated column)."""
    expression = "cp_fold(" + " || ' ' || ".join(f"coalesce({p}, '')" for p in parts) + ")"
    return Field(default=None, sa_column=Column(Text, Computed(expression, persisted=True), nullable=True))


def touch(obj: Any) -> None:
    obj.updated_at = utcnow()
    obj.version += 1
