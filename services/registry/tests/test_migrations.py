"""The Alembic tree round-trips on a real database, and the models agree with what it builds."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import cleanprod_registry.models  # noqa: F401
from cleanprod_kit.migrations import downgrade, upgrade
from cleanprod_registry.config import MIGRATIONS


@pytest.fixture(scope="module")
def scratch_url(pg_instance: Any) -> str:
    from infra.postgres_server import create_databases, drop_database

    drop_database(pg_instance, "registry_migrations")
    create_databases(pg_instance, ["registry_migrations"])
    return pg_instance.url("registry_migrations")


def _diff(url: str) -> list[Any]:
    engine = create_engine(url.replace("postgresql+asyncpg", "postgresql+psycopg"))
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                SQLModel.metadata)
    engine.dispose()
    return diff


def _tables(url: str) -> set[str]:
    engine = create_engine(url.replace("postgresql+asyncpg", "postgresql+psycopg"))
    with engine.connect() as connection:
        from sqlalchemy import inspect

        names = set(inspect(connection).get_table_names())
    engine.dispose()
    return names


def test_upgrade_downgrade_upgrade_round_trip(scratch_url: str) -> None:
    upgrade(MIGRATIONS, scratch_url)
    assert {"enterprises", "facilities", "baselines", "sectors", "sector_norms", "audit_log",
            "outbox_events"} <= _tables(scratch_url)
    downgrade(MIGRATIONS, scratch_url, "base")
    assert _tables(scratch_url) == {"alembic_version"}
    upgrade(MIGRATIONS, scratch_url)
    assert "enterprises" in _tables(scratch_url)


def test_models_and_migrations_agree(scratch_url: str) -> None:
    upgrade(MIGRATIONS, scratch_url)
    assert _diff(scratch_url) == []
