"""Accent-insensitive search and cursor pagination."""

from __future__ import annotations

import uuid

import httpx
from registry_helpers import Actors, create_enterprise, create_facility


def unique_marker() -> str:
    # Digits only: a hex marker could contain a search word ("da", "be") and make an unrelated row match.
    return f"m{uuid.uuid4().int % 10**12:012d}"


async def test_search_ignores_accents_and_case(client: httpx.AsyncClient, actors: Actors) -> None:
    marker = unique_marker()
    steel = await create_enterprise(
        client, actors, name=f"Công ty Thép Việt Ý {marker}", address="Số 5 phố Hàng Bài, Hà Nội"
    )
    for q in (f"thep {marker}", f"THÉP {marker}", f"ha noi {marker}", f"viet y {marker}", f"hang bai {marker}"):
        found = await client.get("/api/v1/enterprises", params={"q": q}, headers=actors.officer)
        assert found.status_code == 200
        assert [e["id"] for e in found.json()["items"]] == [steel["id"]], q
    nothing = await client.get("/api/v1/enterprises", params={"q": f"giay {marker}"}, headers=actors.officer)
    assert nothing.json()["items"] == []


async def test_search_treats_like_wildcards_literally(client: httpx.AsyncClient, actors: Actors) -> None:
    marker = unique_marker()
    await create_enterprise(client, actors, name=f"Công ty Đông Á {marker}")
    found = await client.get("/api/v1/enterprises", params={"q": f"% {marker}"}, headers=actors.officer)
    assert found.json()["items"] == []
    found = await client.get("/api/v1/enterprises", params={"q": f"dong a {marker}"}, headers=actors.officer)
    assert len(found.json()["items"]) == 1


async def test_facility_search_and_filters(client: httpx.AsyncClient, actors: Actors) -> None:
    marker = unique_marker()
    enterprise = await create_enterprise(client, actors)
    brewery = await create_facility(
        client,
        actors,
        enterprise["id"],
        name=f"Xưởng bia Đống Đa {marker}",
        sector_code="beer",
        ward="Phường Đống Đa",
        district=None,
    )
    await create_facility(client, actors, enterprise["id"], name=f"Xưởng thép {marker}", sector_code="steel")
    by_text = await client.get("/api/v1/facilities", params={"q": f"dong da {marker}"}, headers=actors.officer)
    assert [f["id"] for f in by_text.json()["items"]] == [brewery["id"]]
    by_sector = await client.get("/api/v1/facilities", params={"q": marker, "sector": "beer"}, headers=actors.officer)
    assert [f["id"] for f in by_sector.json()["items"]] == [brewery["id"]]
    by_ward = await client.get(
        "/api/v1/facilities", params={"ward": "Phường Đống Đa", "q": marker}, headers=actors.officer
    )
    assert [f["id"] for f in by_ward.json()["items"]] == [brewery["id"]]
    assert by_text.json()["items"][0]["enterprise_tax_code"] == enterprise["tax_code"]


async def test_cursor_pages_have_no_duplicates_or_gaps(client: httpx.AsyncClient, actors: Actors) -> None:
    marker = unique_marker()
    created = {
        (await create_enterprise(client, actors, name=f"Doanh nghiệp Hà Nội {marker} số {i}"))["id"] for i in range(23)
    }
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"q": f"ha noi {marker}", "limit": 5}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/v1/enterprises", params=params, headers=actors.officer)).json()
        seen.extend(e["id"] for e in page["items"])
        pages += 1
        # a row inserted mid-way is served exactly once, on a later page
        if pages == 2:
            created.add((await create_enterprise(client, actors, name=f"Doanh nghiệp Hà Nội {marker} muộn"))["id"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen))
    assert set(seen) == created
    assert pages == 5


async def test_garbage_cursor_and_limit_are_client_errors(client: httpx.AsyncClient, actors: Actors) -> None:
    bad = await client.get("/api/v1/enterprises", params={"cursor": "not-a-cursor!!"}, headers=actors.officer)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.cursor"
    too_many = await client.get("/api/v1/enterprises", params={"limit": 500}, headers=actors.officer)
    assert too_many.status_code == 422
