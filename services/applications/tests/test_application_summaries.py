"""The applications list as summary lines (`GET /applications/summaries`, what the portal's dashboard reads)."""

from __future__ import annotations

import httpx
from applications_helpers import Actors, World, assert_problem

SUMMARY_FIELDS = {"id", "status", "dossier_code", "facility_name", "title", "requested_support_vnd"}
SUMMARY_FIELDS |= {"open_supplement_id", "missing_fields"}


async def pages(client: httpx.AsyncClient, path: str, headers: dict[str, str], **params: object) -> list[dict]:
    items: list[dict] = []
    cursor = None
    while True:
        response = await client.get(path, params={**params, **({"cursor": cursor} if cursor else {})}, headers=headers)
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items


async def test_summaries_are_the_full_list_cut_to_the_dashboard_fields(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    call = await world.call()
    started = await client.post(  # save as you go: only the call and the facility, every answer missing
        "/api/v1/applications",
        json={"call_id": call["id"], "facility_id": world.a.steel_facility},
        headers=actors.enterprise(world.a.tax_code),
    )
    assert started.status_code == 201, started.text
    draft = started.json()
    submitted = await world.act(await world.draft(call), "submit", world.owner(draft))
    theirs = await world.draft(call, enterprise=world.b)
    params = {"call_id": call["id"], "limit": 1}
    for headers in (world.owner(draft), actors.officer(), actors.auditor):
        full = await pages(client, "/api/v1/applications", headers, **params)
        lines = await pages(client, "/api/v1/applications/summaries", headers, **params)
        assert [set(line) for line in lines] == [SUMMARY_FIELDS] * len(full)
        assert lines == [{k: a[k] for k in SUMMARY_FIELDS} for a in full]
    mine = await pages(client, "/api/v1/applications/summaries", world.owner(draft), call_id=call["id"])
    assert {a["id"] for a in mine} == {draft["id"], submitted["id"]}  # not the other enterprise's
    by_id = {a["id"]: a for a in mine}
    assert by_id[draft["id"]]["missing_fields"] and by_id[draft["id"]]["title"] is None
    assert (
        by_id[submitted["id"]]["dossier_code"] == submitted["dossier_code"]
        and not by_id[submitted["id"]]["missing_fields"]
    )
    officer = actors.officer()
    drafts = await pages(client, "/api/v1/applications/summaries", officer, call_id=call["id"], status="draft")
    assert {a["id"] for a in drafts} == {draft["id"], theirs["id"]}
    # The cursors are the list's: one path's cursor continues on the other.
    first = await client.get("/api/v1/applications", params=params, headers=officer)
    rest = await pages(client, "/api/v1/applications/summaries", officer, **params, cursor=first.json()["next_cursor"])
    assert [first.json()["items"][0]["id"], *[a["id"] for a in rest]] == [
        a["id"] for a in await pages(client, "/api/v1/applications", officer, **params)
    ]
    assert_problem(
        await client.get("/api/v1/applications/summaries", params={"status": "dreaming"}, headers=officer), 422
    )
    assert_problem(await client.get("/api/v1/applications/summaries", headers=actors.egov), 403)
