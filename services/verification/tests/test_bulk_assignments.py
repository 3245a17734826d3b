"""Bulk verifier assignment (issue #14): per-item results (207), each item in its own transaction, evented as
single assignments are, and Idempotency-Key over the whole request."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from verification_helpers import Actors, assert_problem, assign, declare, new_verifier, open_case, steel_plant

URL = "/api/v1/verifications/bulk-assignments"


async def _assigned_events(app: FastAPI, case_id: str) -> list[dict[str, Any]]:
    async with app.state.db.session() as session:
        rows = await session.exec(
            text(
                "SELECT payload FROM outbox_events WHERE aggregate_id = :a AND "
                "event_type = 'verification.verifier_assigned' ORDER BY seq"
            ).bindparams(a=case_id)
        )
        return [row[0] for row in rows.all()]


async def test_mixed_items_each_get_their_own_result(
    client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors, app: FastAPI
) -> None:
    plant = await steel_plant(registry, actors)
    fresh, stale, declared = [await open_case(client, actors, plant) for _ in range(3)]
    verifier, other = new_verifier(), new_verifier("kiem.tra")
    # `declared`: the verifier declared a conflict on it, so they can never be assigned to it again.
    assert (await assign(client, actors, declared["id"], verifier)).status_code == 200
    assert (await declare(client, actors, declared["id"], verifier, independent=False)).status_code == 200
    current = {
        c["id"]: (await client.get(f"/api/v1/verifications/{c['id']}", headers=actors.officer)).json()
        for c in (fresh, stale, declared)
    }
    person = {"verifier_subject": verifier.subject, "verifier_username": verifier.username}
    unknown = str(uuid.uuid4())
    items = [
        {
            "verification_id": fresh["id"],
            "version": current[fresh["id"]]["version"],
            **person,
            "note": "Phân công theo kế hoạch quý IV",
        },
        {"verification_id": stale["id"], "version": current[stale["id"]]["version"] + 5, **person},
        {"verification_id": declared["id"], "version": current[declared["id"]]["version"], **person},
        {"verification_id": unknown, "version": 1, **person},
        {
            "verification_id": declared["id"],
            "version": current[declared["id"]]["version"],
            "verifier_subject": other.subject,
            "verifier_username": other.username,
        },
    ]
    response = await client.post(URL, json={"assignments": items}, headers={**actors.officer, "Accept-Language": "en"})
    assert response.status_code == 207, response.text
    body = response.json()
    assert [(r["id"], r["status"]) for r in body["results"]] == [
        (fresh["id"], 201),
        (stale["id"], 412),
        (declared["id"], 409),
        (unknown, 404),
        (declared["id"], 201),
    ]
    assert [r["problem"]["code"] for r in body["results"] if r["problem"]] == [
        "stale_version",
        "verifier_declared_conflict",
        "record_not_found",
    ]
    assert body["succeeded"] == 2 and body["failed"] == 3
    assert body["results"][0]["result"]["current"]["verifier_subject"] == verifier.subject

    # Really assigned, and evented exactly like the single assignment; the failures left no trace.
    for case_id, subject in ((fresh["id"], verifier.subject), (declared["id"], other.subject)):
        state = (await client.get(f"/api/v1/verifications/{case_id}/assignment", headers=actors.officer)).json()
        assert state["current"]["verifier_subject"] == subject and state["case_status"] == "assigned"
        assert (await _assigned_events(app, case_id))[-1]["verifier_subject"] == subject
    assert await _assigned_events(app, stale["id"]) == []
    stale_state = (await client.get(f"/api/v1/verifications/{stale['id']}/assignment", headers=actors.officer)).json()
    assert stale_state["current"] is None
    history = (await client.get(f"/api/v1/verifications/{fresh['id']}/history", headers=actors.officer)).json()
    assert [h["action"] for h in history["items"]].count("assign_verifier") == 1


async def test_idempotency_and_access(
    client: httpx.AsyncClient, registry: httpx.AsyncClient, actors: Actors, app: FastAPI
) -> None:
    plant = await steel_plant(registry, actors)
    case = await open_case(client, actors, plant)
    verifier = new_verifier()
    body = {
        "assignments": [
            {
                "verification_id": case["id"],
                "version": case["version"],
                "verifier_subject": verifier.subject,
                "verifier_username": verifier.username,
            }
        ]
    }
    headers = {**actors.officer, "Idempotency-Key": f"bulk-{uuid.uuid4()}"}
    first = await client.post(URL, json=body, headers=headers)
    again = await client.post(URL, json=body, headers=headers)
    assert first.status_code == again.status_code == 207 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json() and first.json()["results"][0]["status"] == 201
    assert len(await _assigned_events(app, case["id"])) == 1
    # version is required per item (the single assignment requires If-Match)
    missing = dict(body["assignments"][0])
    del missing["version"]
    assert_problem(await client.post(URL, json={"assignments": [missing]}, headers=actors.officer), 422)
    assert_problem(await client.post(URL, json=body, headers=actors.verifier(verifier)), 403)
