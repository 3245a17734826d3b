"""Audit search across entities (issue #14) in the verification service: `GET /api/v1/audit/verification`."""

from __future__ import annotations

import csv
import io

import httpx
from verification_helpers import Actors, new_verifier, open_case, ready_verifier, steel_plant

SEARCH = "/api/v1/audit/verification"


async def test_search_finds_a_case_transition_and_exports_it(
    client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors
) -> None:
    case = await open_case(client, actors, await steel_plant(registry, actors))
    verifier = await ready_verifier(client, actors, case["id"])
    found = await client.get(SEARCH, params={"entity_id": case["id"]}, headers=actors.auditor)
    assert found.status_code == 200, found.text
    items = found.json()["items"]
    assert items and all(i["entity_id"] == case["id"] for i in items)
    assert [i["id"] for i in items] == sorted((i["id"] for i in items), reverse=True)
    declared = (
        await client.get(SEARCH, params={"entity_id": case["id"], "actor": verifier.subject}, headers=actors.officer)
    ).json()["items"]
    assert declared and {i["actor_subject"] for i in declared} == {verifier.subject}

    export = await client.get(
        f"{SEARCH}/export", params={"entity_id": case["id"]}, headers={**actors.auditor, "Accept-Language": "en"}
    )
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["When", "Who"] and len(rows) == len(items) + 1


async def test_search_is_for_officers_and_auditors_only(client: httpx.AsyncClient, actors: Actors) -> None:
    for headers in (actors.enterprise("0100109106"), actors.verifier(new_verifier())):
        assert (await client.get(SEARCH, headers=headers)).status_code == 403
