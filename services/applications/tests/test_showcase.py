"""Showcase projects (issue #14): the enterprise gives or withdraws consent on its verified application (If-Match,
audited old → new); `GET /api/v1/public/showcase` lists consented + verified projects only, without a token and
without the dossier's money, people or tax code."""

from __future__ import annotations

from typing import Any

import httpx
from applications_helpers import Actors, World, assert_problem

SHOWCASE = "/api/v1/public/showcase"


def consent_url(application: dict[str, Any]) -> str:
    return f"/api/v1/applications/{application['id']}/showcase-consent"


async def listed(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await client.get(SHOWCASE, params={"limit": 200, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if not cursor:
            return {p["application_id"]: p for p in items}


async def test_a_verified_project_is_shown_only_after_consent_and_until_withdrawn(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    application = await world.at("verified")
    owner = world.owner(application)
    assert application["id"] not in await listed(client)  # verified, but no consent yet

    first = await client.get(consent_url(application), headers=owner)
    assert first.status_code == 200 and first.json()["given"] is False and first.headers["etag"] == '"0"'
    given = await client.post(consent_url(application), json={"given": True}, headers={**owner, "If-Match": '"0"'})
    assert given.status_code == 200, given.text
    assert given.json()["given"] is True and given.headers["etag"] == '"1"'

    shown = (await listed(client))[application["id"]]
    assert shown["verified_savings_pct"] == 9.1 and shown["sector_code"] == application["sector_code"]
    assert shown["title"] == application["title"] and shown["technology"] == application["technology"]
    assert set(shown) == {
        "application_id",
        "title",
        "technology",
        "sector_code",
        "enterprise_name",
        "facility_name",
        "verified_savings_pct",
        "verified_at",
    }
    body = (await client.get(SHOWCASE, params={"sector": application["sector_code"], "limit": 200})).text
    for secret in (
        application["enterprise_tax_code"],
        str(application["approved_support_vnd"]),
        application["dossier_code"],
    ):
        assert secret not in body

    # Stale If-Match → 412, none → 428; withdrawal hides it again; the history holds both changes old → new.
    assert (
        await client.post(consent_url(application), json={"given": False}, headers={**owner, "If-Match": '"0"'})
    ).status_code == 412
    assert (await client.post(consent_url(application), json={"given": False}, headers=owner)).status_code == 428
    withdrawn = await client.post(consent_url(application), json={"given": False}, headers={**owner, "If-Match": '"1"'})
    assert withdrawn.status_code == 200 and withdrawn.json()["given"] is False
    assert application["id"] not in await listed(client)
    history = (
        await client.get(
            f"/api/v1/applications/{application['id']}/history", params={"limit": 200}, headers=actors.auditor
        )
    ).json()["items"]
    assert [e["changes"] for e in history if e["action"] == "showcase_consent"] == [
        [{"field": "showcase_consent", "old": False, "new": True}],
        [{"field": "showcase_consent", "old": True, "new": False}],
    ]


async def test_consent_needs_a_verified_project_and_the_owner(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    completed = await world.at("completed")
    refused = await client.post(
        consent_url(completed), json={"given": True}, headers={**world.owner(completed), "If-Match": '"0"'}
    )
    problem = assert_problem(refused, 409)
    assert problem["code"] == "showcase_needs_verification"
    verified = await world.at("verified")
    stranger = await world.new_enterprise("Công ty TNHH Khác")
    other = await client.post(
        consent_url(verified), json={"given": True}, headers={**actors.enterprise(stranger.tax_code), "If-Match": '"0"'}
    )
    assert other.status_code == 404
    for headers in (actors.officer(), actors.auditor):
        assert (
            await client.post(consent_url(verified), json={"given": True}, headers={**headers, "If-Match": '"0"'})
        ).status_code == 403
    bad = await client.post(
        consent_url(verified), json={"given": "yes"}, headers={**world.owner(verified), "If-Match": '"0"'}
    )
    assert bad.status_code == 422
