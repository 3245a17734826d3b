"""What changed (issue #14): a measurement correction's audit entry carries old → new of each corrected value
(kit shape `changes [{field, old, new}]`), and the case history answers the kit's paged audit records."""

from __future__ import annotations

import httpx
from verification_helpers import (
    PRODUCTION,
    Actors,
    measurement_body,
    open_case,
    ready_verifier,
    steel_line,
    steel_plant,
)


async def test_correction_of_two_values_is_one_entry_with_both_changes(
    client: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    actors: Actors,
) -> None:
    plant = await steel_plant(registry, actors)
    case = await open_case(client, actors, plant, claimed=8.0)
    verifier = await ready_verifier(client, actors, case["id"])
    url = f"/api/v1/verifications/{case['id']}/measurements"
    p = PRODUCTION[0]
    lines = {
        "electricity": (0.9 * steel_line(p)["electricity"], "MWh"),
        "coal_grade_3_4": (0.9 * steel_line(p)["coal_grade_3_4"], "t"),
    }
    created = await client.post(
        url, json=measurement_body(2025, 1, p, lines), headers={**actors.verifier(verifier), "Idempotency-Key": "m-jan"}
    )
    assert created.status_code == 201, created.text
    corrected = measurement_body(2025, 1, p, lines, reason="Sửa theo biên bản đọc công tơ ngày 02/02/2025.")
    corrected["cdd"] = 12.5
    corrected["evidence"] = {"url": "https://evn.example.vn/hoa-don/0099", "description": "Hóa đơn EVN tháng 1"}
    response = await client.post(
        f"{url}/{created.json()['id']}/revisions",
        json=corrected,
        headers={**actors.verifier(verifier), "If-Match": '"1"'},
    )
    assert response.status_code == 201, response.text

    history = (await client.get(f"/api/v1/verifications/{case['id']}/history", headers=actors.officer)).json()
    assert set(history) == {"items", "next_cursor"}
    [revised] = [h for h in history["items"] if h["action"] == "revise_measurement"]
    changes = {c["field"]: (c["old"], c["new"]) for c in revised["changes"]}
    assert set(changes) == {"cdd", "evidence"}
    old_evidence, new_evidence = changes["evidence"]
    assert new_evidence == corrected["evidence"] and old_evidence != new_evidence
    assert changes["cdd"][1] == 12.5
    # The completion and the verifier assignment are recorded old → new on the case too.
    [completion] = [h for h in history["items"] if h["action"] == "completion_reported"]
    assert [c["field"] for c in completion["changes"]] == ["completed_on", "completion_reported_at"]
    assert all(c["old"] is None and c["new"] for c in completion["changes"])
    [assigned] = [h for h in history["items"] if h["action"] == "assign_verifier"]
    assert {c["field"] for c in assigned["changes"]} >= {"verifier_subject", "status"}
    # Paging: one entry per page, no gaps or repeats.
    seen, cursor = [], None
    while True:
        page = (
            await client.get(
                f"/api/v1/verifications/{case['id']}/history",
                headers=actors.officer,
                params={"limit": 1, **({"cursor": cursor} if cursor else {})},
            )
        ).json()
        seen += [h["id"] for h in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [h["id"] for h in history["items"]]
