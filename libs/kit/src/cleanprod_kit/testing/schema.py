"""Migration checks every service runs: a scratch database, its tables, and the diff between the models and what
the Alembic tree built (empty when they agree)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, inspect


def _sync(url: str) -> str:
    return url.replace("postgresql+asyncpg", "postgresql+psycopg")


def scratch_database(pg_instance: Any, name: str) -> str:
    """A new, empty database (dropped first if a previous run left it); returns its async URL."""
    from infra.postgres_server import create_databases, drop_database

    drop_database(pg_instance, name)
    create_databases(pg_instance, [name])
    return str(pg_instance.url(name))


def table_names(url: str) -> set[str]:
    engine = create_engine(_sync(url))
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def schema_diff(url: str, metadata: MetaData) -> list[Any]:
    engine = create_engine(_sync(url))
    try:
        with engine.connect() as connection:
            return list(compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata))
    finally:
        engine.dispose()
