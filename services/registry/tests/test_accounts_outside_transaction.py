"""Keycloak's admin API is asked with no database transaction open (issue 12): the enterprise is read, the read
released, then the login created; its audit entry is written afterwards in a transaction of its own. The
directory here stands in for Keycloak (the end-to-end suite drives the real one) and asks PostgreSQL
(`pg_stat_activity`) at every call whether any connection of the registry database has a transaction open."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from registry_helpers import Actors, enterprise_body

from cleanprod_kit.testing.fixtures import running
from cleanprod_registry.accounts.directory import NewAccount
from cleanprod_registry.config import RegistrySettings
from cleanprod_registry.deps import account_directory
from cleanprod_registry.main import create_app

OPEN_TRANSACTIONS = """SELECT count(*) FROM pg_stat_activity
                       WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"""


class WatchingDirectory:
    def __init__(self, database_url: str) -> None:
        self._dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self.calls: list[tuple[str, int]] = []

    async def _note(self, call: str) -> None:
        connection = await asyncpg.connect(self._dsn)
        try:
            self.calls.append((call, int(await connection.fetchval(OPEN_TRANSACTIONS))))
        finally:
            await connection.close()

    async def create_enterprise_account(self, *, username: str, tax_code: str, **_: Any) -> NewAccount:
        await self._note("create")
        return NewAccount(user_id=str(uuid.uuid4()), username=username, temporary_password="Tam-thoi-2026!")

    async def list_enterprise_accounts(self, tax_code: str) -> list[dict[str, Any]]:
        await self._note("list")
        return [
            {"id": "u1", "username": "ke.toan", "email": None, "firstName": "Mai", "lastName": "Phan", "enabled": True}
        ]


@pytest.fixture
async def watched(registry_settings: RegistrySettings) -> AsyncIterator[tuple[httpx.AsyncClient, WatchingDirectory]]:
    directory = WatchingDirectory(registry_settings.database_url)
    app = create_app(registry_settings)
    app.dependency_overrides[account_directory] = lambda: directory
    async with running(app) as client:
        yield client, directory


async def test_logins_are_made_and_listed_with_no_transaction_open(
    watched: tuple[httpx.AsyncClient, WatchingDirectory],
    actors: Actors,
) -> None:
    client, directory = watched
    enterprise = (await client.post("/api/v1/enterprises", headers=actors.officer, json=enterprise_body())).json()
    url = f"/api/v1/enterprises/{enterprise['id']}/accounts"
    created = await client.post(
        url,
        headers=actors.officer,
        json={"username": "ke.toan", "email": "ke.toan@example.vn", "first_name": "Mai", "last_name": "Phan"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["tax_code"] == enterprise["tax_code"]
    listed = await client.get(url, headers=actors.auditor)
    assert listed.status_code == 200, listed.text
    assert [a["username"] for a in listed.json()] == ["ke.toan"]
    assert directory.calls == [("create", 0), ("list", 0)]
    history = (await client.get(f"/api/v1/enterprises/{enterprise['id']}/history", headers=actors.officer)).json()
    assert [e["action"] for e in history["items"]][-1] == "create_account"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            b'{"field":"firstName","errorMessage":"error-person-name-invalid-character","params":["firstName"]}',
            "first_name",
        ),
        (b'{"field":"email","errorMessage":"invalidEmailMessage","params":["email","x"]}', "email"),
        (b'{"errorMessage":"User name is missing"}', None),
        (b"<html>not json</html>", None),
    ],
)
def test_a_value_keycloak_refuses_is_the_inputs_422_not_a_503(body: bytes, field: str | None) -> None:
    from cleanprod_registry.accounts.directory import refused_by_keycloak

    problem = refused_by_keycloak(body)
    assert problem.status == 422 and problem.code == "identity_provider_refused"
    assert [e["field"] for e in problem.errors] == ([field] if field else [])
