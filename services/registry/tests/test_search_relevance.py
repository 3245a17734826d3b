"""Facility search ranked by relevance: realistic queries, with and without diacritics, find the facility meant
among the first three; name matches come before address matches; the caller's rights still apply; pages of a
ranked list neither repeat nor skip rows, whichever way a tier is read (probe or B-tree, facilities/search.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from registry_helpers import Actors, create_enterprise, create_facility

from cleanprod_registry.facilities import search

FACILITIES = [
    ("Nhà máy Bia Hà Nội – Mê Linh", "Khu công nghiệp Quang Minh, Mê Linh, Hà Nội", "beer"),
    ("Xưởng Thép Đông Anh", "Số 12 đường Cao Lỗ, Đông Anh, Hà Nội", "steel"),
    ("Nhà máy Thép Thăng Long", "Khu công nghiệp Thăng Long, Đông Anh, Hà Nội", "steel"),
    ("Nhà máy Giấy Sóc Sơn", "Xã Phù Linh, Sóc Sơn, Hà Nội", "paper"),
    ("Cơ sở Dệt may Thanh Trì", "Số 8 đường Ngọc Hồi, Thanh Trì, Hà Nội", "textile"),
    ("Nhà máy Xi măng Sài Sơn", "Xã Sài Sơn, Quốc Oai, Hà Nội", "cement"),
    ("Xưởng Gốm sứ Bát Tràng", "Xã Bát Tràng, Gia Lâm, Hà Nội", "ceramics"),
    ("Phân xưởng Cơ khí Long Biên", "Số 3 phố Ngọc Lâm, Long Biên, Hà Nội", "mechanical"),
    ("Nhà máy Hóa chất Đức Giang", "Số 18 phố Đức Giang, Long Biên, Hà Nội", "chemicals"),
    ("Cơ sở chế biến Thủy sản Hoàng Mai", "Số 2 phố Tam Trinh, Hoàng Mai, Hà Nội", "seafood"),
    ("Dây chuyền Nhựa Ứng Hòa", "Cụm công nghiệp Ứng Hòa, Hà Nội", "plastics"),
    ("Xưởng Bao bì Giấy Hà Đông", "Số 40 đường Quang Trung, Hà Đông, Hà Nội", "paper"),
    ("Nhà máy Bia Đông Anh", "Số 5 đường Hà Nội, Đông Anh, Hà Nội", "beer"),
    ("Nhà máy Nước sạch Sông Đuống", "Xã Phù Đổng, Gia Lâm, Hà Nội", "chemicals"),
]

# query → the facility meant (its name)
QUERIES = {
    "thep dong anh": "Xưởng Thép Đông Anh",
    "Thép Đông Anh": "Xưởng Thép Đông Anh",
    "bia ha noi": "Nhà máy Bia Hà Nội – Mê Linh",
    "BIA HÀ NỘI": "Nhà máy Bia Hà Nội – Mê Linh",
    "bia dong anh": "Nhà máy Bia Đông Anh",
    "giay soc son": "Nhà máy Giấy Sóc Sơn",
    "det may": "Cơ sở Dệt may Thanh Trì",
    "gom su bat trang": "Xưởng Gốm sứ Bát Tràng",
    "bat tra": "Xưởng Gốm sứ Bát Tràng",
    "xi ma": "Nhà máy Xi măng Sài Sơn",
    "hóa chất đức giang": "Nhà máy Hóa chất Đức Giang",
    "thuy san": "Cơ sở chế biến Thủy sản Hoàng Mai",
    "tam trinh": "Cơ sở chế biến Thủy sản Hoàng Mai",
    "nhua ung hoa": "Dây chuyền Nhựa Ứng Hòa",
    "co khi": "Phân xưởng Cơ khí Long Biên",
    "bao bi ha dong": "Xưởng Bao bì Giấy Hà Đông",
    "thang long": "Nhà máy Thép Thăng Long",
    "song duong": "Nhà máy Nước sạch Sông Đuống",
    "nuoc sach": "Nhà máy Nước sạch Sông Đuống",
}


@pytest.fixture(scope="module")
async def programme(client: httpx.AsyncClient, actors: Actors) -> dict[str, Any]:
    """One enterprise with the facilities above, and another whose facility would be the best match of all."""
    ours = await create_enterprise(client, actors, name="Công ty Cổ phần Sản xuất Sạch Hà Nội")
    ids = {}
    for name, address, sector in FACILITIES:
        ids[name] = (await create_facility(client, actors, ours["id"], name=name, address=address, sector_code=sector))[
            "id"
        ]
    theirs = await create_enterprise(client, actors, name="Công ty TNHH Bia Khác")
    other = await create_facility(client, actors, theirs["id"], name="Bia Hà Nội", address="Hà Nội", sector_code="beer")
    return {"enterprise": ours, "ids": ids, "other": other["id"]}


async def ranked(client: httpx.AsyncClient, headers: dict[str, str], q: str, **params: Any) -> list[str]:
    response = await client.get("/api/v1/facilities", params={"q": q, "limit": 200, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return [f["name"] for f in response.json()["items"]]


@pytest.fixture(params=["few", "tier-probes", "stretches"])
def tier_reading(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each way a ranked search reads (facilities/search.py): all matches from one probe (few in all); tier by
    tier, each probed after a one-key stretch; tier by tier in stretches of the B-tree alone (common words)."""
    if request.param != "few":
        monkeypatch.setattr(search, "FEW", 0)
        monkeypatch.setattr(search, "CHUNK", 1)
    if request.param == "stretches":
        monkeypatch.setattr(search, "PROBE", 0)
    return str(request.param)


async def test_the_facility_meant_is_in_the_top_three(
    client: httpx.AsyncClient, actors: Actors, programme: dict[str, Any], tier_reading: str
) -> None:
    enterprise = programme["enterprise"]
    as_enterprise = actors.enterprise(enterprise["tax_code"])
    for q, meant in QUERIES.items():
        names = await ranked(client, as_enterprise, q)
        assert meant in names[:3], (q, names)
        by_officer = await ranked(client, actors.officer, q, enterprise_id=enterprise["id"])
        assert by_officer == names, q


async def test_name_matches_come_before_address_matches(
    client: httpx.AsyncClient, actors: Actors, programme: dict[str, Any], tier_reading: str
) -> None:
    as_enterprise = actors.enterprise(programme["enterprise"]["tax_code"])
    # both steel works are in Đông Anh, only one has it in its name; the other has Thép in its name
    assert (await ranked(client, as_enterprise, "thep dong anh"))[:2] == [
        "Xưởng Thép Đông Anh",
        "Nhà máy Thép Thăng Long",
    ]
    # whole words before word prefixes: "son" is Sóc Sơn and Sài Sơn, then Sông Đuống
    assert (await ranked(client, as_enterprise, "son"))[:3] == [
        "Nhà máy Giấy Sóc Sơn",
        "Nhà máy Xi măng Sài Sơn",
        "Nhà máy Nước sạch Sông Đuống",
    ]
    # "ha noi": the one name with both whole words first, then every facility whose address says Hà Nội
    names = await ranked(client, as_enterprise, "ha noi")
    assert names[:1] == ["Nhà máy Bia Hà Nội – Mê Linh"]
    assert len(names) == len(FACILITIES) and set(names) == {name for name, _, _ in FACILITIES}


async def test_rights_still_apply(
    client: httpx.AsyncClient, actors: Actors, programme: dict[str, Any], tier_reading: str
) -> None:
    as_enterprise = actors.enterprise(programme["enterprise"]["tax_code"])
    assert "Bia Hà Nội" not in await ranked(client, as_enterprise, "bia ha noi")
    everyone = await client.get("/api/v1/facilities", params={"q": "bia ha noi", "limit": 200}, headers=actors.officer)
    assert programme["other"] in [f["id"] for f in everyone.json()["items"]]


async def test_ranked_pages_neither_repeat_nor_skip(
    client: httpx.AsyncClient, actors: Actors, programme: dict[str, Any], tier_reading: str
) -> None:
    as_enterprise = actors.enterprise(programme["enterprise"]["tax_code"])
    for q in ("ha noi", "dong anh", "thep"):
        whole = await ranked(client, as_enterprise, q)
        seen: list[str] = []
        cursor = None
        while True:
            params = {"q": q, "limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/api/v1/facilities", params=params, headers=as_enterprise)).json()
            seen += [f["name"] for f in page["items"]]
            if not (cursor := page["next_cursor"]):
                break
        assert seen == whole, q


async def test_a_list_cursor_is_refused_by_a_ranked_search(
    client: httpx.AsyncClient, actors: Actors, programme: dict[str, Any]
) -> None:
    listed = await client.get("/api/v1/facilities", params={"limit": 1}, headers=actors.officer)
    cursor = listed.json()["next_cursor"]
    ranked_with_it = await client.get(
        "/api/v1/facilities", params={"q": "ha noi", "cursor": cursor}, headers=actors.officer
    )
    assert ranked_with_it.status_code == 422
    assert ranked_with_it.json()["errors"][0]["field"] == "query.cursor"


async def test_odd_queries_are_answered(
    client: httpx.AsyncClient, actors: Actors, programme: dict[str, Any], tier_reading: str
) -> None:
    as_enterprise = actors.enterprise(programme["enterprise"]["tax_code"])
    for q in ("%", "_ %", "ha-noi", "(bia", "Đ", "bia, ha noi", " ".join(["ha noi"] * 6), "thép  đông anh"):
        names = await ranked(client, as_enterprise, q)
        assert all(name in {n for n, _, _ in FACILITIES} for name in names), q
    # punctuation inside a word is kept by the match rule: "bia," is in no name or address, "ha-noi" neither
    assert await ranked(client, as_enterprise, "bia, ha noi") == []
    assert await ranked(client, as_enterprise, "ha-noi") == []
    assert "Xưởng Thép Đông Anh" in (await ranked(client, as_enterprise, "thép  đông anh"))[:1]


async def test_the_same_order_without_a_narrowing_filter(
    client: httpx.AsyncClient, actors: Actors, programme: dict[str, Any], tier_reading: str
) -> None:
    """An officer's search over every facility (read from the B-tree first) orders ours as the enterprise's own
    search does (one probe first)."""
    as_enterprise = actors.enterprise(programme["enterprise"]["tax_code"])
    ours = set(programme["ids"].values())
    for q in ("ha noi", "thep dong anh", "son"):
        everything: list[str] = []
        cursor = None
        while True:
            params = {"q": q, "limit": 200, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/api/v1/facilities", params=params, headers=actors.officer)).json()
            everything += [f["name"] for f in page["items"] if f["id"] in ours]
            if not (cursor := page["next_cursor"]):
                break
        assert everything == await ranked(client, as_enterprise, q), q
