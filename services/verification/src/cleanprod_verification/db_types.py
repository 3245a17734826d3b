"""Column helpers shared by the verification tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from cleanprod_kit.models import utcnow


class ServiceTable(SQLModel, registry=registry()):
    """Base of this service's tables, with its own SQLAlchemy registry and metadata: when several services' models
    share a process (tests run the registry in-process), each metadata holds only its own service's tables.
    The kit's tables stay on `SQLModel.metadata`; `models.service_metadata()` joins both."""


def created_at() -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False)


def updated_at() -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False)


def moment() -> Any:
    """An optional point in time (timezone-aware)."""
    return Field(default=None, sa_type=DateTime(timezone=True), nullable=True)


def touch(obj: Any) -> None:
    obj.updated_at = utcnow()
    obj.version += 1
