"""What changed (issue #14): an update's audit entry carries old → new of each changed field (kit shape
`changes [{field, old, new}]`), read back through the paged history endpoints."""

from __future__ import annotations

import httpx
from registry_helpers import Actors, create_enterprise, create_facility


async def test_facility_patch_of_two_fields_is_one_entry_with_both_changes(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    enterprise = await create_enterprise(client, actors)
    facility = await create_facility(client, actors, enterprise["id"])
    owner = actors.enterprise(enterprise["tax_code"])
    new = {"name": "Nhà máy luyện phôi thép Sóc Sơn", "address": "Thôn Đông Xuân, xã Sóc Sơn, Hà Nội"}
    response = await client.patch(
        f"/api/v1/facilities/{facility['id']}", json=new, headers={**owner, "If-Match": f'"{facility["version"]}"'}
    )
    assert response.status_code == 200, response.text
    history = (await client.get(f"/api/v1/facilities/{facility['id']}/history", headers=actors.officer)).json()
    assert set(history) == {"items", "next_cursor"}
    [update] = [h for h in history["items"] if h["action"] == "update"]
    assert sorted((c["field"], c["old"], c["new"]) for c in update["changes"]) == [
        ("address", facility["address"], new["address"]),
        ("name", facility["name"], new["name"]),
    ]


async def test_enterprise_patch_records_old_and_new(client: httpx.AsyncClient, actors: Actors) -> None:
    enterprise = await create_enterprise(client, actors)
    url = f"/api/v1/enterprises/{enterprise['id']}"
    response = await client.patch(
        url,
        json={"contact_name": "Nguyễn Thị Hằng", "size_class": "large"},
        headers={**actors.officer, "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    history = (await client.get(f"{url}/history", headers=actors.auditor)).json()["items"]
    [update] = [h for h in history if h["action"] == "update"]
    assert {c["field"]: [c["old"], c["new"]] for c in update["changes"]} == {
        "contact_name": [enterprise.get("contact_name"), "Nguyễn Thị Hằng"],
        "size_class": [enterprise["size_class"], "large"],
    }
