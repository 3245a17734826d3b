"""`GET /internal/recipients` (service tokens only): who a mail goes to — an enterprise's logins, a realm role's
holders, one user — with e-mail, language from the Keycloak attribute `locale` (vi by default), enabled and full
name. The directory stands in for Keycloak here; tests/e2e/test_mail.py asks the real one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from registry_helpers import Actors, create_enterprise

from cleanprod_contracts.v1.registry import RecipientList
from cleanprod_kit.testing.fixtures import running
from cleanprod_kit.testing.issuer import TestIssuer
from cleanprod_registry.config import RegistrySettings
from cleanprod_registry.deps import account_directory
from cleanprod_registry.main import create_app

URL = "/internal/recipients"


def user(uid: str, locale: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "id": uid,
        "username": uid,
        "email": f"{uid}@example.vn",
        "firstName": "Thị Mai",
        "lastName": "Phan",
        "enabled": True,
        "attributes": {"locale": [locale]} if locale else {},
        **extra,
    }


class Directory:
    def __init__(self) -> None:
        self.asked: list[tuple[str, Any]] = []

    async def list_enterprise_accounts(self, tax_code: str) -> list[dict[str, Any]]:
        self.asked.append(("enterprise", tax_code))
        return [user("ke-toan", None), user("giam-doc", "en-US", enabled=False)]

    async def list_role_members(self, role: str, *, with_attributes: bool = False) -> list[dict[str, Any]]:
        self.asked.append(("role", (role, with_attributes)))
        return [user("officer-x", "fr"), user("officer-y", "EN", firstName=None, lastName=None)]

    async def get_user(self, user_id: str) -> dict[str, Any] | None:
        self.asked.append(("user", user_id))
        return user(user_id, "vi", email=None) if user_id == "known" else None


@pytest.fixture
async def served(registry_settings: RegistrySettings) -> AsyncIterator[tuple[httpx.AsyncClient, Directory]]:
    directory = Directory()
    app = create_app(registry_settings)
    app.dependency_overrides[account_directory] = lambda: directory
    async with running(app) as client:
        yield client, directory


@pytest.fixture
def service(issuer: TestIssuer) -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.client_token('svc-applications', 'service')}"}


async def test_an_enterprises_logins_with_language_and_state(
    served: tuple[httpx.AsyncClient, Directory], service: dict[str, str], actors: Actors
) -> None:
    client, directory = served
    enterprise = await create_enterprise(client, actors)
    response = await client.get(URL, params={"enterprise_id": enterprise["id"]}, headers=service)
    assert response.status_code == 200, response.text
    found = RecipientList.model_validate(response.json()).items
    assert [(r.user_id, r.email, r.locale, r.enabled, r.full_name) for r in found] == [
        ("giam-doc", "giam-doc@example.vn", "en", False, "Phan Thị Mai"),
        ("ke-toan", "ke-toan@example.vn", "vi", True, "Phan Thị Mai"),
    ]
    assert directory.asked == [("enterprise", enterprise["tax_code"])]


async def test_a_roles_holders_with_attributes_and_one_user(
    served: tuple[httpx.AsyncClient, Directory], service: dict[str, str]
) -> None:
    client, directory = served
    found = (await client.get(URL, params={"role": "officer"}, headers=service)).json()["items"]
    # An unknown language ("fr") is Vietnamese; "EN" is English; no name: the username.
    assert [(r["user_id"], r["locale"], r["full_name"]) for r in found] == [
        ("officer-x", "vi", "Phan Thị Mai"),
        ("officer-y", "en", "officer-y"),
    ]
    assert directory.asked == [("role", ("officer", True))]
    known = (await client.get(URL, params={"user_id": "known"}, headers=service)).json()["items"]
    assert [(r["user_id"], r["email"]) for r in known] == [("known", None)]
    assert (await client.get(URL, params={"user_id": "gone"}, headers=service)).json() == {"items": []}


async def test_refusals(served: tuple[httpx.AsyncClient, Directory], service: dict[str, str], actors: Actors) -> None:
    client, directory = served
    for headers in (actors.officer, actors.headers("egov")):  # people and e-gov clients never list recipients
        assert (await client.get(URL, params={"role": "officer"}, headers=headers)).status_code == 403
    for params in ({}, {"role": "officer", "user_id": "known"}):
        response = await client.get(URL, params=params, headers=service)
        assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    assert (await client.get(URL, params={"role": "service"}, headers=service)).status_code == 422
    unknown = "00000000-0000-4000-8000-000000000000"
    assert (await client.get(URL, params={"enterprise_id": unknown}, headers=service)).status_code == 404
    assert directory.asked == []
