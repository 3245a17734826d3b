from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from cleanprod_kit.db import Database
from cleanprod_kit.migrations import create_kit_tables


@pytest.fixture(scope="session")
def kit_db_url(pg_instance: Any) -> str:
    """A database holding only the kit's own tables, built by the same migration ops every service uses."""
    from infra.postgres_server import create_databases, drop_database

    drop_database(pg_instance, "kit_test")
    create_databases(pg_instance, ["kit_test"])
    engine = create_engine(pg_instance.url("kit_test").replace("+asyncpg", "+psycopg"))
    with engine.begin() as connection:
        with Operations.context(MigrationContext.configure(connection)):
            create_kit_tables()
    engine.dispose()
    return pg_instance.url("kit_test")


@pytest.fixture
async def database(kit_db_url: str) -> AsyncIterator[Database]:
    db = Database(kit_db_url, pool_size=5, max_overflow=5)
    yield db
    await db.dispose()


@pytest.fixture
def sync_dsn(kit_db_url: str) -> Callable[[], str]:
    return lambda: kit_db_url.replace("postgresql+asyncpg", "postgresql")
