"""Base of the registry's tables: its own SQLAlchemy registry, so its metadata holds only registry tables even
when other services' models share the process (see `cleanprod_kit.columns.service_metadata`)."""

from __future__ import annotations

from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from cleanprod_kit.columns import created_at, search_column, touch, updated_at


class ServiceTable(SQLModel, registry=registry()):
    pass


__all__ = ["ServiceTable", "created_at", "search_column", "touch", "updated_at"]
