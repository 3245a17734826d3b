"""Audit search across entities (issue #14) in the applications service: `GET /api/v1/audit/applications` finds an
application's update with old → new among every entity's entries; officers and auditors only."""

from __future__ import annotations

import httpx
from applications_helpers import Actors, World, if_match

SEARCH = "/api/v1/audit/applications"


async def test_search_finds_an_application_update_with_old_and_new(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    draft = await world.draft()
    new_title = "Lắp biến tần cho quạt hút lò điện hồ quang"
    response = await client.patch(
        f"/api/v1/applications/{draft['id']}",
        headers=if_match(world.owner(draft), draft["version"]),
        json={"title": new_title},
    )
    assert response.status_code == 200, response.text

    found = await client.get(
        SEARCH,
        params={"entity_type": "application", "entity_id": draft["id"], "action": "update"},
        headers=actors.auditor,
    )
    assert found.status_code == 200, found.text
    [entry] = found.json()["items"]
    assert entry["changes"] == [{"field": "title", "old": draft["title"], "new": new_title}]
    assert entry["actor_role"] == "enterprise"
    # Accent-insensitive words of the new value, across entity types.
    by_text = (
        await client.get(SEARCH, params={"q": "bien tan quat hut", "entity_id": draft["id"]}, headers=actors.officer())
    ).json()["items"]
    assert [e["id"] for e in by_text] == [entry["id"]]


async def test_search_is_for_officers_and_auditors_only(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    draft = await world.draft()
    for headers in (world.owner(draft), actors.reviewer(), actors.verifier, actors.egov):
        assert (await client.get(SEARCH, headers=headers)).status_code == 403
    assert (await client.post(SEARCH, headers=actors.auditor, json={})).status_code == 405
