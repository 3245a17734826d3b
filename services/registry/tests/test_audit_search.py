"""Audit search across entities (issue #14): `GET /api/v1/audit/registry` — filters, old → new, newest-first
keyset pages, officers and auditors only, CSV export of the same entries."""

from __future__ import annotations

import csv
import io
import uuid

import httpx
from registry_helpers import Actors, create_enterprise, create_facility

SEARCH = "/api/v1/audit/registry"


async def _renamed_facility(client: httpx.AsyncClient, actors: Actors) -> tuple[dict, dict, str]:
    enterprise = await create_enterprise(client, actors)
    facility = await create_facility(client, actors, enterprise["id"])
    new_name = f"Nhà máy cán thép Sóc Sơn {uuid.uuid4().hex[:6]}"
    sub = str(uuid.uuid4())
    editor = {
        "Authorization": f"Bearer {actors.issuer.token('officer', sub=sub, username='can.bo.thu')}",
        "If-Match": f'"{facility["version"]}"',
    }
    response = await client.patch(f"/api/v1/facilities/{facility['id']}", json={"name": new_name}, headers=editor)
    assert response.status_code == 200, response.text
    return facility, {"name": new_name, "sub": sub}, enterprise["id"]


async def test_search_finds_an_update_with_old_and_new_by_entity_actor_and_text(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    facility, change, _ = await _renamed_facility(client, actors)
    by_entity = await client.get(
        SEARCH, params={"entity_type": "facility", "entity_id": facility["id"]}, headers=actors.auditor
    )
    assert by_entity.status_code == 200, by_entity.text
    items = by_entity.json()["items"]
    assert [i["action"] for i in items] == ["update", "create"]  # newest first
    assert items[0]["changes"] == [{"field": "name", "old": facility["name"], "new": change["name"]}]
    assert items[0]["actor_subject"] == change["sub"]

    # The actor by account id or by (accent-insensitive) name, the text anywhere — also in the new value.
    by_actor = (await client.get(SEARCH, params={"actor": change["sub"]}, headers=actors.officer)).json()["items"]
    assert [i["entity_id"] for i in by_actor] == [facility["id"]]
    suffix = change["name"].rsplit(" ", 1)[1]
    by_text = (
        await client.get(SEARCH, params={"q": f"soc son {suffix}", "action": "update"}, headers=actors.officer)
    ).json()["items"]
    assert [(i["entity_id"], i["action"]) for i in by_text] == [(facility["id"], "update")]
    none = (await client.get(SEARCH, params={"q": suffix, "action": "create"}, headers=actors.officer)).json()
    assert none == {"items": [], "next_cursor": None}


async def test_date_range_is_hanoi_days_and_an_inverted_range_is_refused(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    facility, _, _ = await _renamed_facility(client, actors)
    # The entries were written in the last moments: they fall on today's or yesterday's Hanoi day.
    params = {"entity_id": facility["id"], "from": "2020-01-01", "to": "2020-12-31"}
    assert (await client.get(SEARCH, params=params, headers=actors.officer)).json()["items"] == []
    wide = (await client.get(SEARCH, params={**params, "to": "2099-12-31"}, headers=actors.officer)).json()
    assert len(wide["items"]) == 2
    inverted = await client.get(SEARCH, params={"from": "2026-02-01", "to": "2026-01-01"}, headers=actors.officer)
    assert inverted.status_code == 422
    assert inverted.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in inverted.json()["errors"]] == ["query.to"]
    assert inverted.json()["detail"] == "to is before from."  # the parameters' own names
    bad_date = await client.get(SEARCH, params={"from": "01/02/2026"}, headers=actors.officer)
    assert bad_date.status_code == 422


async def test_pages_are_newest_first_without_gaps_or_duplicates(client: httpx.AsyncClient, actors: Actors) -> None:
    _, _, enterprise_id = await _renamed_facility(client, actors)
    for n in range(3):
        await create_facility(client, actors, enterprise_id, name=f"Xưởng phụ {n}")
    everything = (await client.get(SEARCH, params={"limit": 200}, headers=actors.officer)).json()["items"][:9]
    seen, cursor = [], None
    while len(seen) < 9:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(SEARCH, params=params, headers=actors.officer)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        assert cursor
    assert [i["id"] for i in seen[:9]] == [i["id"] for i in everything]
    assert [i["id"] for i in everything] == sorted((i["id"] for i in everything), reverse=True)
    forged = await client.get(SEARCH, params={"cursor": "abc"}, headers=actors.officer)
    assert forged.status_code == 422


async def test_only_officers_and_auditors_search(client: httpx.AsyncClient, actors: Actors) -> None:
    enterprise = await create_enterprise(client, actors)
    for headers in (actors.enterprise(enterprise["tax_code"]), actors.headers("reviewer"), actors.headers("verifier")):
        response = await client.get(SEARCH, headers=headers)
        assert response.status_code == 403, response.text
        assert (await client.get(f"{SEARCH}/export", headers=headers)).status_code == 403
    assert (await client.get(SEARCH)).status_code == 401


async def test_export_holds_the_searched_entries_with_old_and_new(client: httpx.AsyncClient, actors: Actors) -> None:
    facility, change, _ = await _renamed_facility(client, actors)
    response = await client.get(f"{SEARCH}/export", params={"entity_id": facility["id"]}, headers=actors.auditor)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Thời điểm", "Người thực hiện"]
    changes = rows[0].index("Thay đổi (cũ → mới)")
    assert [r[rows[0].index("Hành động")] for r in rows[1:]] == ["update", "create"]
    assert rows[1][changes] == f"name: {facility['name']} → {change['name']}"
