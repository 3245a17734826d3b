"""Column helpers shared by the registry's tables."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Column, Computed, DateTime, Text
from sqlmodel import Field

from cleanprod_kit.models import utcnow


def created_at() -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False)


def updated_at() -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False)


def search_column(*parts: str) -> Any:
    """Accent-folded text of the given columns, kept by PostgreSQL itself (generated column)."""
    expression = "cp_fold(" + " || ' ' || ".join(f"coalesce({p}, '')" for p in parts) + ")"
    return Field(default=None, sa_column=Column(Text, Computed(expression, persisted=True), nullable=True))


def touch(obj: Any) -> None:
    obj.updated_at = utcnow()
    obj.version += 1


__all__ = ["created_at", "updated_at", "search_column", "touch", "dt"]
