"""The verifications list reads only what a line shows (docs/performance.md "Lists"): each line is the case's
detail without the baseline's periods — the conclusion's headline figures, the baseline's period count — and the
results export, which pages through the same list, still has every conclusion figure."""

from __future__ import annotations

import httpx
from verification_helpers import Actors, beer_plant, beer_reporting, measure_and_conclude, open_case


async def test_list_lines_are_the_details_without_the_periods(
    client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors
) -> None:
    plant = await beer_plant(registry, actors)
    concluded = await open_case(client, actors, plant, claimed=10.0, per_carrier={"electricity": 10.0})

    assert (await measure_and_conclude(client, actors, concluded["id"], beer_reporting(0.96))).status_code == 200
    waiting = await open_case(client, actors, plant, completed=False, claimed=8.0, per_carrier={"electricity": 8.0})
    for case_id in (concluded["id"], waiting["id"]):
        detail = (await client.get(f"/api/v1/verifications/{case_id}", headers=actors.officer)).json()
        application = {"application_id": detail["application_id"], "limit": 1}
        (line,) = (await client.get("/api/v1/verifications", params=application, headers=actors.officer)).json()[
            "items"
        ]
        assert detail["baseline"]["period_count"] == len(detail["baseline"]["periods"]) > 0
        assert line == {**detail, "baseline": {**detail["baseline"], "periods": None}}
    concluded_line = (await client.get(f"/api/v1/verifications/{concluded['id']}", headers=actors.officer)).json()
    assert concluded_line["conclusion"]["verdict"] == "not_achieved"
    by_status = await client.get(
        "/api/v1/verifications", params={"status": "concluded", "limit": 200}, headers=actors.officer
    )
    assert concluded["id"] in {c["id"] for c in by_status.json()["items"]}
    assert waiting["id"] not in {c["id"] for c in by_status.json()["items"]}
    exported = await client.get(
        "/api/v1/verifications/export",
        params={"format": "csv", "application_id": concluded["application_id"]},
        headers=actors.officer,
    )
    assert exported.status_code == 200, exported.text
    (row,) = exported.text.strip().splitlines()[1:]
    assert "not_achieved" in row and "regression" in row
