"""GET /api/v1/public/sectors: the portal's sector list, served without any token (the gateway forwards none)."""

from __future__ import annotations

import httpx
from registry_helpers import Actors

SECTOR_FIELDS = {"code", "name_vi", "name_en", "priority", "version"}


async def test_public_sectors_need_no_token_and_match_the_staff_list(client: httpx.AsyncClient, actors: Actors) -> None:
    public = await client.get("/api/v1/public/sectors")
    assert public.status_code == 200, public.text
    page = public.json()
    assert page["next_cursor"] is None
    staff = await client.get("/api/v1/sectors", headers=actors.auditor)
    assert staff.status_code == 200
    assert page["items"] == staff.json()  # the reference data: nothing confidential to hide
    assert page["items"] and all(set(item) == SECTOR_FIELDS for item in page["items"])
    steel = next(item for item in page["items"] if item["code"] == "steel")
    assert steel["name_vi"] and any(ch in steel["name_vi"] for ch in "ạảãáàâăêôơư")  # Vietnamese round-trips


async def test_public_sectors_page_by_cursor_without_gaps_and_filter_by_priority(client: httpx.AsyncClient) -> None:
    everything = (await client.get("/api/v1/public/sectors")).json()["items"]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = await client.get("/api/v1/public/sectors", params=params)
        assert response.status_code == 200, response.text
        seen += [item["code"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [item["code"] for item in everything] == sorted(seen)
    priority = (await client.get("/api/v1/public/sectors", params={"priority": "true"})).json()["items"]
    assert priority and all(item["priority"] for item in priority)
    assert len(priority) < len(everything)


async def test_public_sectors_refuse_bad_paging_as_problems(client: httpx.AsyncClient) -> None:
    for params in ({"limit": 0}, {"limit": 201}, {"cursor": "not-a-cursor"}):
        response = await client.get("/api/v1/public/sectors", params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"].startswith("application/problem+json")
