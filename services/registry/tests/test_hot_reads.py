"""The two hottest reads run on the driver directly (kit `db.Read`, issue 16): they answer exactly what the ORM
path answers for the same records, with the same access rule."""

from __future__ import annotations

import httpx
from registry_helpers import Actors, create_enterprise, create_facility

from cleanprod_kit.testing.data import random_tax_code


async def test_a_facility_reads_as_it_was_registered_and_changed(client: httpx.AsyncClient, actors: Actors) -> None:
    tax_code = random_tax_code()
    enterprise = await create_enterprise(client, actors, tax_code=tax_code)
    created = await create_facility(client, actors, enterprise["id"], name="Nhà máy Thép Đông Anh — phân xưởng cán")
    url = f"/api/v1/facilities/{created['id']}"
    read = await client.get(url, headers=actors.enterprise(tax_code))
    assert read.status_code == 200 and read.headers["etag"] == '"1"'
    assert read.json() == created  # the creating answer was built from the ORM entities
    changed = await client.patch(
        url,
        json={"products": ["phôi thép", "thép cán"], "capacity_quantity": 1.5},
        headers={**actors.officer, "If-Match": '"1"'},
    )
    assert changed.status_code == 200
    again = await client.get(url, headers=actors.officer)
    assert again.json() == changed.json() and again.headers["etag"] == '"2"'


async def test_another_enterprise_does_not_learn_that_a_facility_exists(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    enterprise = await create_enterprise(client, actors)
    facility = await create_facility(client, actors, enterprise["id"])
    stranger = await client.get(f"/api/v1/facilities/{facility['id']}", headers=actors.enterprise(random_tax_code()))
    missing = await client.get(
        "/api/v1/facilities/01a2337690587564a0bf26489f8cd5e8", headers=actors.enterprise(random_tax_code())
    )
    assert stranger.status_code == missing.status_code == 404
    assert stranger.json()["code"] == missing.json()["code"] == "record_not_found"


async def test_the_sector_list_is_the_one_the_orm_pages_through(client: httpx.AsyncClient, actors: Actors) -> None:
    listed = (await client.get("/api/v1/sectors", headers=actors.officer)).json()
    paged = (await client.get("/api/v1/public/sectors?limit=200")).json()["items"]  # ORM entities, by code
    assert listed == paged and listed
    priority = (await client.get("/api/v1/sectors?priority=true", headers=actors.officer)).json()
    assert priority == [s for s in listed if s["priority"]]
    others = (await client.get("/api/v1/sectors?priority=false", headers=actors.officer)).json()
    assert others == [s for s in listed if not s["priority"]]


async def test_the_facts_of_a_facility_are_its_read_and_its_enterprises(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    """`/internal/facilities/{id}/facts` (service accounts) answers what the facility and enterprise reads answer
    — Vietnamese names and all — and 404 for a facility that does not exist."""
    enterprise = await create_enterprise(client, actors, name="Công ty TNHH Cơ khí Đông Anh")
    facility = await create_facility(client, actors, enterprise["id"], name="Xưởng đúc gang — Đông Anh")
    facts = await client.get(f"/internal/facilities/{facility['id']}/facts", headers=actors.headers("service"))
    assert facts.status_code == 200, facts.text
    assert (
        facts.json()["facility"]
        == (await client.get(f"/api/v1/facilities/{facility['id']}", headers=actors.officer)).json()
    )
    read = await client.get(f"/api/v1/enterprises/{enterprise['id']}", headers=actors.officer)
    assert (
        facts.json()["enterprise"] == read.json()
        and facts.json()["enterprise"]["name"] == "Công ty TNHH Cơ khí Đông Anh"
    )
    missing = await client.get(
        "/internal/facilities/01a2337690587564a0bf26489f8cd5e8/facts", headers=actors.headers("service")
    )
    assert missing.status_code == 404 and missing.json()["code"] == "record_not_found"
    refused = await client.get(f"/internal/facilities/{facility['id']}/facts", headers=actors.officer)
    assert refused.status_code == 403
