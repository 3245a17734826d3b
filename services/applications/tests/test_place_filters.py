"""Officers filter applications by where the facility is (issue 14: "applications list with filters (status, call,
sector, ward/district, …)"): the place comes from the registry when the draft is started; the filter ignores
accents and case, as every search in the programme does."""

from __future__ import annotations

import httpx
from applications_helpers import Actors, World, application_body


async def test_applications_are_filtered_by_ward_and_district_whatever_the_accents(
    world: World, client: httpx.AsyncClient, actors: Actors
) -> None:
    officer = actors.officer()
    facility = await world.registry.post(
        f"/api/v1/enterprises/{world.b.id}/facilities",
        headers=officer,
        json={
            "name": "Xưởng cán thép Bồ Đề",
            "sector_code": "steel",
            "address": "Số 9 phố Ngọc Lâm",
            "ward": "Phường Bồ Đề",
            "district": "Quận Long Biên",
        },
    )
    assert facility.status_code == 201, facility.text
    call = await world.call()
    created = await client.post(
        "/api/v1/applications",
        json=application_body(call["id"], facility.json()["id"]),
        headers=actors.enterprise(world.b.tax_code),
    )
    assert created.status_code == 201, created.text
    in_bo_de = created.json()
    assert (in_bo_de["ward"], in_bo_de["district"]) == ("Phường Bồ Đề", "Quận Long Biên")
    in_dong_anh = await world.draft(call=call)  # world.a's steel works: facility in Xã Đông Anh, no district
    assert (in_dong_anh["ward"], in_dong_anh["district"]) == ("Xã Đông Anh", "Huyện Đông Anh")  # the enterprise's

    async def listed(**params: str) -> set[str]:
        response = await client.get("/api/v1/applications", params={"call_id": call["id"], **params}, headers=officer)
        assert response.status_code == 200, response.text
        return {a["id"] for a in response.json()["items"]}

    assert await listed(ward="phuong bo de") == {in_bo_de["id"]}
    assert await listed(ward="PHƯỜNG BỒ ĐỀ") == {in_bo_de["id"]}
    assert await listed(district="quan long bien") == {in_bo_de["id"]}
    assert await listed(ward="Xã Đông Anh") == {in_dong_anh["id"]}
    assert await listed(ward="Phường Bồ") == set()  # a place is matched whole, not as a prefix
    assert await listed() == {in_bo_de["id"], in_dong_anh["id"]}
    # The export takes the same filters (one dependency for the list and its exports).
    export = await client.get(
        "/api/v1/applications/export",
        params={"call_id": call["id"], "ward": "phuong bo de", "format": "csv"},
        headers=officer,
    )
    assert export.status_code == 200 and in_bo_de["dossier_code"] is None
    assert export.text.count("\n") == 2, export.text  # the header and one application
