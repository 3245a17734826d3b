"""Migration 0014 on existing data: every call gets its budget as one city-budget source (with what it had
committed), every approved application an allocation from it, every tranche that source; and the way down folds
the tranches of several sources back into one per kind, so no money disappears from the books."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from cleanprod_applications.config import MIGRATIONS
from cleanprod_kit.migrations import downgrade, upgrade
from cleanprod_kit.testing.schema import scratch_database

NOW = "2026-11-20T03:00:00+00:00"


@pytest.fixture(scope="module")
def scratch_url(pg_instance: Any) -> str:
    return scratch_database(pg_instance, "applications_money_migration")


def _sync(url: str) -> str:
    return url.replace("+asyncpg", "+psycopg")


def test_existing_calls_get_one_city_budget_source_that_pays_their_awards(scratch_url: str) -> None:
    upgrade(MIGRATIONS, scratch_url, "0010_application_place")
    call_id, application_id = uuid.uuid4(), uuid.uuid4()
    engine = create_engine(_sync(scratch_url))
    with engine.begin() as db:
        db.execute(
            text(
                "INSERT INTO calls (id, code, title, opens_on, closes_on, budget_vnd, committed_vnd, support_rate_bp,"
                " cap_per_project_vnd, eligible_sectors, criteria, min_reviews, pass_score_pct, created_by, version,"
                " created_at, updated_at) VALUES (:id, 'SXSH-2025-01', 'Đợt 1', '2025-01-01', '2025-12-31',"
                " 10000000000, 800000000, 5000, 2000000000, '[\"steel\"]', '[]', 2, 60, 'officer1', 3, :now, :now)"
            ),
            {"id": call_id, "now": NOW},
        )
        db.execute(
            text(
                "INSERT INTO applications (id, call_id, status, facility_id, facility_name, enterprise_id,"
                " enterprise_tax_code, enterprise_name, sector_code, claimed_savings, screening_reasons, clock_stops,"
                " approved_support_vnd, decided_at, created_by, version, created_at, updated_at) VALUES (:id, :call,"
                " 'approved', :f, 'Nhà máy cán thép', :e, '0100109106', 'Công ty Thép', 'steel', '[]', '[]', '[]',"
                " 800000000, :now, 'staff', 6, :now, :now)"
            ),
            {"id": application_id, "call": call_id, "f": uuid.uuid4(), "e": uuid.uuid4(), "now": NOW},
        )
        for kind, planned, amount, status in (
            ("advance", 240_000_000, 240_000_000, "payable"),
            ("balance", 560_000_000, None, "withheld"),
        ):
            db.execute(
                text(
                    "INSERT INTO tranches (id, application_id, kind, planned_vnd, amount_vnd, status, basis,"
                    " created_at, updated_at) VALUES (:id, :a, :k, :p, :m, :s, '{}', :now, :now)"
                ),
                {
                    "id": uuid.uuid4(),
                    "a": application_id,
                    "k": kind,
                    "p": planned,
                    "m": amount,
                    "s": status,
                    "now": NOW,
                },
            )
    upgrade(MIGRATIONS, scratch_url)
    with engine.begin() as db:
        (source,) = db.execute(
            text("SELECT id, code, kind, amount_vnd, committed_vnd FROM funding_sources WHERE call_id = :c"),
            {"c": call_id},
        ).all()
        assert tuple(source)[1:] == ("city-budget", "city_budget", 10_000_000_000, 800_000_000)
        allocations = db.execute(text("SELECT application_id, source_id, amount_vnd FROM award_allocations")).all()
        assert [tuple(a) for a in allocations] == [(application_id, source[0], 800_000_000)]
        tranches = db.execute(text("SELECT kind, source_id, version, collected_vnd FROM tranches ORDER BY kind")).all()
        assert [tuple(t) for t in tranches] == [("advance", source[0], 1, 0), ("balance", source[0], 1, 0)]
        kinds = (
            db.execute(text("SELECT support_types FROM calls")).scalar_one(),
            db.execute(text("SELECT support_type FROM applications")).scalar_one(),
        )
        assert kinds == (["technology_transfer"], "technology_transfer")
        # A second source paying part of the award, then the way down: folded into the first source's tranches.
        donor = uuid.uuid4()
        db.execute(
            text(
                "INSERT INTO funding_sources (id, call_id, code, name, kind, rank, amount_vnd, committed_vnd,"
                " support_types, version, created_at, updated_at) VALUES (:id, :c, 'donor', 'Nhà tài trợ',"
                " 'foreign_donor', 1, 100000000, 0, '[]', 1, :now, :now)"
            ),
            {"id": donor, "c": call_id, "now": NOW},
        )
        db.execute(
            text(
                "INSERT INTO tranches (id, application_id, kind, planned_vnd, amount_vnd, status, basis, source_id,"
                " collected_vnd, version, created_at, updated_at) VALUES (:id, :a, 'advance', 30000000, 30000000,"
                " 'paid', '{}', :s, 0, 4, :now, :now)"
            ),
            {"id": uuid.uuid4(), "a": application_id, "s": donor, "now": NOW},
        )
    downgrade(MIGRATIONS, scratch_url, "0010_application_place")
    with engine.begin() as db:
        rows = db.execute(text("SELECT kind, planned_vnd, amount_vnd, status FROM tranches ORDER BY kind")).all()
        assert [tuple(r) for r in rows] == [
            ("advance", 270_000_000, 270_000_000, "payable"),
            ("balance", 560_000_000, None, "withheld"),
        ]
    engine.dispose()
