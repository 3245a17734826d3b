"""The Alembic tree round-trips on a real database, and the models agree with what it builds."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from cleanprod_kit.migrations import downgrade, upgrade
from cleanprod_kit.testing.schema import schema_diff, scratch_database, table_names
from cleanprod_verification.config import MIGRATIONS
from cleanprod_verification.models import service_metadata


@pytest.fixture(scope="module")
def scratch_url(pg_instance: Any) -> str:
    return scratch_database(pg_instance, "verification_migrations")


def _sync(url: str) -> str:
    return url.replace("postgresql+asyncpg", "postgresql+psycopg")


def test_upgrade_downgrade_upgrade_round_trip(scratch_url: str) -> None:
    upgrade(MIGRATIONS, scratch_url)
    assert {
        "verification_cases",
        "verifier_assignments",
        "measurements",
        "measurement_revisions",
        "conclusions",
        "audit_log",
        "outbox_events",
        "processed_events",
        "idempotency_keys",
    } <= table_names(scratch_url)
    downgrade(MIGRATIONS, scratch_url, "base")
    assert table_names(scratch_url) == {"alembic_version"}
    upgrade(MIGRATIONS, scratch_url)
    assert "measurement_revisions" in table_names(scratch_url)


def test_models_and_migrations_agree(scratch_url: str) -> None:
    upgrade(MIGRATIONS, scratch_url)
    assert schema_diff(scratch_url, service_metadata()) == []


@pytest.mark.parametrize("table", ["measurement_revisions", "conclusions", "audit_log"])
def test_records_are_append_only(scratch_url: str, table: str) -> None:
    upgrade(MIGRATIONS, scratch_url)
    engine = create_engine(_sync(scratch_url))
    with engine.connect() as connection:
        for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
            with pytest.raises(DBAPIError, match="append-only"):
                with connection.begin():
                    _seed(connection, table)
                    connection.execute(text(statement))
    engine.dispose()


def _seed(connection: Any, table: str) -> None:
    """One row in `table` (and what it refers to), so that the trigger has a row to refuse."""
    case = connection.execute(
        text(
            "INSERT INTO verification_cases (id, application_id, status, facility_id, products, claimed_per_carrier, "
            "baseline, version, created_at, updated_at) VALUES (gen_random_uuid(), gen_random_uuid(), 'measuring', "
            "gen_random_uuid(), '[]', '{}', '[]', 1, now(), now()) RETURNING id"
        )
    ).scalar_one()
    if table == "measurement_revisions":
        measurement = connection.execute(
            text(
                "INSERT INTO measurements (id, case_id, period_start, period_end, revision, created_by_subject, "
                "created_at, updated_at) VALUES (gen_random_uuid(), :c, '2025-01-01', '2025-01-31', 1, 'v', now(), "
                "now()) RETURNING id"
            ),
            {"c": case},
        ).scalar_one()
        connection.execute(
            text(
                "INSERT INTO measurement_revisions (id, measurement_id, revision, period_start, period_end, "
                "production_quantity, production_unit, consumption, estimated, evidence, recorded_by_subject, "
                "recorded_at) VALUES (gen_random_uuid(), :m, 1, '2025-01-01', '2025-01-31', 1, 't', '[]', false, "
                "'{}', 'v', now())"
            ),
            {"m": measurement},
        )
    elif table == "conclusions":
        connection.execute(
            text(
                "INSERT INTO conclusions (id, case_id, concluded_at, concluded_by_subject, verdict, method, "
                "requires_review, claimed_pct, savings_toe, savings_gj, savings_tco2, adjusted_baseline_toe, "
                "reporting_energy_toe, measurements_used, norm, result) VALUES (gen_random_uuid(), :c, now(), 'v', "
                "'verified', 'sec', false, 8, 1, 1, 1, 10, 9, '[]', '{}', '{}')"
            ),
            {"c": case},
        )
    else:
        connection.execute(
            text(
                "INSERT INTO audit_log (occurred_at, actor_subject, actor_role, entity_type, entity_id, action, details) "
                "VALUES (now(), 'x', 'service', 'verification', 'x', 'open', '{}')"
            )
        )
