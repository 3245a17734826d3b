"""The Alembic tree round-trips on a real database, and the models agree with what it builds."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from cleanprod_applications.models import service_metadata
from cleanprod_applications.config import MIGRATIONS
from cleanprod_kit.migrations import downgrade, upgrade

TABLES = {"calls", "applications", "dossier_sequences", "reviewer_assignments", "tranches", "pending_verdicts",
          "documents", "audit_log", "outbox_events", "processed_events", "idempotency_keys"}


@pytest.fixture(scope="module")
def scratch_url(pg_instance: Any) -> str:
    from infra.postgres_server import create_databases, drop_database

    drop_database(pg_instance, "applications_migrations")
    create_databases(pg_instance, ["applications_migrations"])
    return pg_instance.url("applications_migrations")


def _sync(url: str) -> str:
    return url.replace("postgresql+asyncpg", "postgresql+psycopg")


def _tables(url: str) -> set[str]:
    engine = create_engine(_sync(url))
    with engine.connect() as connection:
        names = set(inspect(connection).get_table_names())
    engine.dispose()
    return names


def test_upgrade_downgrade_upgrade_round_trip(scratch_url: str) -> None:
    upgrade(MIGRATIONS, scratch_url)
    assert TABLES <= _tables(scratch_url)
    downgrade(MIGRATIONS, scratch_url, "base")
    assert _tables(scratch_url) == {"alembic_version"}
    upgrade(MIGRATIONS, scratch_url)
    assert TABLES <= _tables(scratch_url)


def test_models_and_migrations_agree(scratch_url: str) -> None:
    upgrade(MIGRATIONS, scratch_url)
    engine = create_engine(_sync(scratch_url))
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                service_metadata())
    engine.dispose()
    assert diff == []
