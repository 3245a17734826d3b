"""Service tests: a real PostgreSQL (one database for the verification service, one for the registry), a real
registry app in-process, tokens from a JWKS-serving test issuer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from verification_helpers import Actors, InProcessServiceClient

from cleanprod_kit.testing.fixtures import running, service_settings_for
from cleanprod_kit.testing.issuer import TestIssuer
from cleanprod_registry.config import MIGRATIONS as REGISTRY_MIGRATIONS
from cleanprod_registry.config import RegistrySettings
from cleanprod_registry.main import create_app as create_registry_app
from cleanprod_verification.config import MIGRATIONS, VerificationSettings
from cleanprod_verification.main import create_app


@pytest.fixture(scope="session")
def verification_db_url(make_database: Callable[[str, str], str]) -> str:
    return make_database("verification_test", MIGRATIONS)


@pytest.fixture(scope="session")
def verification_registry_db_url(make_database: Callable[[str, str], str]) -> str:
    return make_database("verification_registry_test", REGISTRY_MIGRATIONS)


@pytest.fixture(scope="session")
def verification_settings(verification_db_url: str, issuer: TestIssuer) -> VerificationSettings:
    return VerificationSettings(
        **service_settings_for(issuer, database_url=verification_db_url, registry_url="http://registry.test")
    )


@pytest.fixture(scope="session")
async def registry_app(verification_registry_db_url: str, issuer: TestIssuer) -> AsyncIterator[FastAPI]:
    settings = RegistrySettings(**service_settings_for(issuer, database_url=verification_registry_db_url))
    app = create_registry_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
async def registry(registry_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the registry app (officers seed enterprises, facilities and baselines with it)."""
    transport = httpx.ASGITransport(app=registry_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as http:
        yield http


@pytest.fixture(scope="session")
def service_tokens(issuer: TestIssuer) -> Callable[[], Any]:
    async def token() -> str:
        return issuer.client_token("svc-verification", "service")

    return token


@pytest.fixture(scope="session")
async def registry_http(
    service_tokens: Callable[[], Any], registry_app: FastAPI
) -> AsyncIterator[InProcessServiceClient]:
    http = InProcessServiceClient(service_tokens, registry_app)
    yield http
    await http.aclose()


@pytest.fixture(scope="session")
async def app(verification_settings: VerificationSettings, registry_http: InProcessServiceClient) -> FastAPI:
    return create_app(verification_settings, service_client=registry_http)


@pytest.fixture(scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with running(app) as http:
        yield http


@pytest.fixture(scope="session")
def actors(issuer: TestIssuer) -> Actors:
    return Actors(issuer)
