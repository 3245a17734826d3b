from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from registry_helpers import Actors

from cleanprod_kit.testing.fixtures import running, service_settings_for
from cleanprod_kit.testing.issuer import TestIssuer
from cleanprod_registry.config import MIGRATIONS, RegistrySettings
from cleanprod_registry.main import create_app


@pytest.fixture(scope="session")
def registry_db_url(make_database: Callable[[str, str], str]) -> str:
    return make_database("registry_test", MIGRATIONS)


@pytest.fixture(scope="session")
def registry_settings(registry_db_url: str, issuer: TestIssuer) -> RegistrySettings:
    return RegistrySettings(**service_settings_for(issuer, database_url=registry_db_url))


@pytest.fixture(scope="session")
async def client(registry_settings: RegistrySettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(registry_settings)) as http:
        yield http


@pytest.fixture(scope="session")
def actors(issuer: TestIssuer) -> Actors:
    return Actors(issuer)
