"""`GET /internal/recipients` (service tokens only): who a mail goes to — an enterprise's logins, a realm role's
holders, one user — with e-mail, language from the Keycloak attribute `locale` (vi by default), enabled and full
name. The directory stands in for Keycloak here; tests/e2e/test_mail.py asks the real one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from registry_helpers import Actors, create_enterprise

from cleanprod_contracts.v1.registry import RecipientList, RecipientSets
from cleanprod_kit.testing.fixtures import running
from cleanprod_kit.testing.issuer import TestIssuer
from cleanprod_registry.accounts.directory import RecipientListings
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


# ---- several audiences in one call; Keycloak's answers kept a short time (issue 16) ---------------------------------
SETS = f"{URL}/by-audience"


async def test_several_audiences_in_one_call_each_answered_as_alone(
    served: tuple[httpx.AsyncClient, Directory], service: dict[str, str], actors: Actors
) -> None:
    client, directory = served
    enterprise = await create_enterprise(client, actors)
    unknown = "00000000-0000-4000-8000-000000000000"
    asked = [f"enterprise:{enterprise['id']}", "role:officer", "user:known", "user:gone", f"enterprise:{unknown}"]
    response = await client.get(SETS, params={"audience": [*asked, "role:officer", "role:service"]}, headers=service)
    assert response.status_code == 200, response.text
    sets = RecipientSets.model_validate(response.json()).audiences
    assert [s.audience for s in sets] == [*asked, "role:service"]  # each distinct audience once, in order
    alone = {}
    for params in ({"enterprise_id": enterprise["id"]}, {"role": "officer"}, {"user_id": "known"}, {"user_id": "gone"}):
        alone[next(iter(params.values()))] = (await client.get(URL, params=params, headers=service)).json()["items"]
    assert [s.model_dump()["items"] for s in sets[:4]] == [
        alone[enterprise["id"]],
        alone["officer"],
        alone["known"],
        [],
    ]
    assert sets[4].items == [] and sets[4].error is None  # an unknown enterprise: nobody (alone it is a 404)
    assert sets[5].items == [] and sets[5].error == "role_not_mailed"
    # Keycloak was asked once per audience: the one-audience calls after it were answered from what was kept.
    assert sorted(directory.asked, key=str) == sorted(
        [("enterprise", enterprise["tax_code"]), ("role", ("officer", True)), ("user", "known"), ("user", "gone")],
        key=str,
    )


async def test_several_audiences_refusals(
    served: tuple[httpx.AsyncClient, Directory], service: dict[str, str], actors: Actors
) -> None:
    client, directory = served
    assert (await client.get(SETS, params={"audience": "role:officer"}, headers=actors.officer)).status_code == 403
    for audience in ([], ["officer"], ["team:officer"], ["enterprise:not-a-uuid"], ["user:"], ["role:officer"] * 101):
        response = await client.get(SETS, params={"audience": audience}, headers=service)
        assert response.status_code == 422, (audience, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert directory.asked == []


async def test_kept_listings_expire() -> None:
    """What Keycloak said is kept `seconds`: a login disabled in between is still listed until then, never after;
    a failed answer is not kept."""
    now = [1000.0]
    accounts = {"0100109106": [user("ke-toan", None)]}
    asked: list[str] = []

    class Keycloak:
        fail = False

        async def list_enterprise_accounts(self, tax_code: str) -> list[dict[str, Any]]:
            asked.append(tax_code)
            if self.fail:
                raise RuntimeError("keycloak down")
            return [dict(u) for u in accounts[tax_code]]

    keycloak = Keycloak()
    listings = RecipientListings(keycloak, seconds=30, clock=lambda: now[0])
    assert (await listings.enterprise_accounts("0100109106"))[0]["enabled"] is True
    accounts["0100109106"][0]["enabled"] = False  # disabled in Keycloak
    now[0] += 29.9
    assert (await listings.enterprise_accounts("0100109106"))[0]["enabled"] is True  # kept
    assert asked == ["0100109106"]
    now[0] += 0.1
    assert (await listings.enterprise_accounts("0100109106"))[0]["enabled"] is False  # expired: asked again
    assert asked == ["0100109106"] * 2
    now[0] += 31
    keycloak.fail = True
    with pytest.raises(RuntimeError):
        await listings.enterprise_accounts("0100109106")
    keycloak.fail = False
    assert (await listings.enterprise_accounts("0100109106"))[0]["enabled"] is False
    assert len(asked) == 4  # the failure was not kept
    off = RecipientListings(keycloak, seconds=0, clock=lambda: now[0])
    await off.enterprise_accounts("0100109106")
    await off.enterprise_accounts("0100109106")
    assert len(asked) == 6  # 0: asked every time
