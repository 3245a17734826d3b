from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from applications_helpers import MAX_DOCUMENT_BYTES, Actors, World, service_tokens
from fastapi import FastAPI

from cleanprod_applications.config import MIGRATIONS, ApplicationsSettings
from cleanprod_applications.main import create_app
from cleanprod_kit.testing.fixtures import running, service_settings_for
from cleanprod_kit.testing.inprocess import in_process_client
from cleanprod_kit.testing.issuer import TestIssuer
from cleanprod_registry.config import MIGRATIONS as REGISTRY_MIGRATIONS
from cleanprod_registry.config import RegistrySettings
from cleanprod_registry.main import create_app as create_registry_app


@pytest.fixture(scope="session")
def applications_db_url(make_database: Callable[[str, str], str]) -> str:
    return make_database("applications_test", MIGRATIONS)


@pytest.fixture(scope="session")
def registry_db_url(make_database: Callable[[str, str], str]) -> str:
    return make_database("applications_registry_test", REGISTRY_MIGRATIONS)


@pytest.fixture(scope="session")
async def registry(registry_db_url: str, issuer: TestIssuer) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The real registry service, in process, on its own database."""
    settings = RegistrySettings(**service_settings_for(issuer, database_url=registry_db_url))
    app = create_registry_app(settings)
    async with running(app) as http:
        yield app, http


@pytest.fixture(scope="session")
def settings(
    applications_db_url: str, issuer: TestIssuer, tmp_path_factory: pytest.TempPathFactory
) -> ApplicationsSettings:
    return ApplicationsSettings(
        **service_settings_for(
            issuer,
            database_url=applications_db_url,
            db_pool_size=20,
            db_max_overflow=20,
            registry_url="http://registry.internal",
            document_dir=tmp_path_factory.mktemp("documents"),
            max_document_bytes=MAX_DOCUMENT_BYTES,
            document_chunk_bytes=64 * 1024,  # uploads of a few hundred KiB are several pieces in the blob store
        )
    )


@pytest.fixture(scope="session")
async def app_and_client(
    settings: ApplicationsSettings, registry: tuple[FastAPI, httpx.AsyncClient], issuer: TestIssuer
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    registry_app, _ = registry
    app = create_app(settings, service_client=in_process_client(service_tokens(issuer), registry_app))
    async with running(app) as http:
        yield app, http


@pytest.fixture(scope="session")
def client(app_and_client: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    return app_and_client[1]


@pytest.fixture(scope="session")
def actors(issuer: TestIssuer) -> Actors:
    return Actors(issuer)


@pytest.fixture(scope="session")
async def world(client: httpx.AsyncClient, registry: tuple[FastAPI, httpx.AsyncClient], actors: Actors) -> World:
    """Two enterprises with facilities in the registry (steel, paper), shared by the tests."""
    return await World.build(client, registry[1], actors)
