"""The Alembic tree round-trips on a real database, and the models agree with what it builds."""

from __future__ import annotations

from typing import Any

import pytest

from cleanprod_applications.config import MIGRATIONS
from cleanprod_applications.models import service_metadata
from cleanprod_kit.migrations import downgrade, upgrade
from cleanprod_kit.testing.schema import schema_diff, scratch_database, table_names

TABLES = {
    "calls",
    "applications",
    "dossier_sequences",
    "reviewer_assignments",
    "tranches",
    "pending_verdicts",
    "documents",
    "audit_log",
    "outbox_events",
    "processed_events",
    "idempotency_keys",
    "webhook_subscriptions",
    "webhook_deliveries",
    "webhook_fanout_positions",
    "verifier_assignments",
}


@pytest.fixture(scope="module")
def scratch_url(pg_instance: Any) -> str:
    return scratch_database(pg_instance, "applications_migrations")


def test_upgrade_downgrade_upgrade_round_trip(scratch_url: str) -> None:
    upgrade(MIGRATIONS, scratch_url)
    assert TABLES <= table_names(scratch_url)
    downgrade(MIGRATIONS, scratch_url, "base")
    assert table_names(scratch_url) == {"alembic_version"}
    upgrade(MIGRATIONS, scratch_url)
    assert TABLES <= table_names(scratch_url)


def test_models_and_migrations_agree(scratch_url: str) -> None:
    upgrade(MIGRATIONS, scratch_url)
    assert schema_diff(scratch_url, service_metadata()) == []
