"""Column helpers shared by the verification tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import DateTime
from sqlmodel import Field

from cleanprod_kit.models import utcnow


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
