"""Bulk reviewer assignment (issue #14): each item succeeds or fails on its own with its reason (207 with
per-item results, problems in the catalogue's codes and the request's language), each in its own transaction,
and Idempotency-Key covers the whole request."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from applications_helpers import Actors, World, assert_problem

URL = "/api/v1/applications/bulk-assignments"


def _item(application: dict[str, Any] | str, reviewer: int, **extra: Any) -> dict[str, Any]:
    app_id = application if isinstance(application, str) else application["id"]
    return {
        "application_id": app_id,
        "reviewer_subject": f"reviewer-{reviewer}",
        "reviewer_username": f"reviewer{reviewer}",
        **extra,
    }


async def test_mixed_items_each_get_their_own_result(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    first, second, stale = await world.submitted(), await world.submitted(), await world.submitted()
    draft = await world.draft()
    unknown = str(uuid.uuid4())
    items = [
        _item(first, 1),
        _item(first, 2),
        _item(second, 1, version=second["version"]),
        _item(stale, 1, version=stale["version"] - 1),
        _item(draft, 1),
        _item(unknown, 1),
        _item(first, 1),
    ]
    response = await client.post(
        URL, json={"assignments": items}, headers={**actors.officer(), "Accept-Language": "vi"}
    )
    assert response.status_code == 207, response.text
    body = response.json()
    outcome = [(r["index"], r["id"], r["status"]) for r in body["results"]]
    assert outcome == [
        (0, first["id"], 201),
        (1, first["id"], 201),
        (2, second["id"], 201),
        (3, stale["id"], 412),
        (4, draft["id"], 409),
        (5, unknown, 404),
        (6, first["id"], 409),
    ]
    assert body["succeeded"] == 3 and body["failed"] == 4
    codes = [r["problem"]["code"] for r in body["results"] if r["problem"]]
    assert codes == ["stale_version", "not_under_review", "application_not_found", "reviewer_already_assigned"]
    assert body["results"][4]["problem"]["title"] == "Hồ sơ không ở giai đoạn thẩm định"  # in the request's language
    assert body["results"][0]["result"]["reviewer_subject"] == "reviewer-1" and body["results"][0]["problem"] is None

    # The successful ones are really assigned and audited as single assignments are; the failed ones changed nothing.
    for application, expected in ((first, ["reviewer-1", "reviewer-2"]), (second, ["reviewer-1"]), (stale, [])):
        listed = (
            await client.get(f"/api/v1/applications/{application['id']}/assignments", headers=actors.officer())
        ).json()
        assert sorted(a["reviewer_subject"] for a in listed) == expected
        history = (
            await client.get(f"/api/v1/applications/{application['id']}/history", headers=actors.officer())
        ).json()["items"]
        assert len([e for e in history if e["action"] == "assign_reviewer"]) == len(expected)
    assert (await world.get(first))["version"] == first["version"] + 2
    # An assigned reviewer proceeds as after a single assignment.
    assert (await world.declare(second, 1)).status_code == 201


async def test_idempotency_key_covers_the_whole_request(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    a, b = await world.submitted(), await world.submitted()
    body = {"assignments": [_item(a, 3), _item(b, 3), _item(str(uuid.uuid4()), 3)]}
    headers = {**actors.officer(), "Idempotency-Key": f"bulk-{uuid.uuid4()}"}
    first = await client.post(URL, json=body, headers=headers)
    assert first.status_code == 207 and [r["status"] for r in first.json()["results"]] == [201, 201, 404]
    again = await client.post(URL, json=body, headers=headers)
    assert again.status_code == 207 and again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()  # replayed, not run again (a second run would be 409 twice)
    listed = (await client.get(f"/api/v1/applications/{a['id']}/assignments", headers=actors.officer())).json()
    assert [x["reviewer_subject"] for x in listed] == ["reviewer-3"]
    other = await client.post(URL, json={"assignments": [_item(a, 4)]}, headers=headers)
    assert_problem(other, 422)


async def test_only_officers_and_valid_bodies(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    application = await world.submitted()
    assert_problem(
        await client.post(URL, json={"assignments": [_item(application, 1)]}, headers=actors.reviewer(1)), 403
    )
    assert_problem(await client.post(URL, json={"assignments": []}, headers=actors.officer()), 422)
    bad = await client.post(
        URL, json={"assignments": [{"application_id": "nope", "reviewer_subject": "r"}]}, headers=actors.officer()
    )
    assert {e["field"] for e in assert_problem(bad, 422)["errors"]} >= {"assignments.0.application_id"}


async def test_concurrent_retries_with_one_key_run_once(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    applications = [await world.submitted() for _ in range(3)]
    body = {"assignments": [_item(a, 6) for a in applications]}
    headers = {**actors.officer(), "Idempotency-Key": f"bulk-{uuid.uuid4()}"}
    answers = await asyncio.gather(*(client.post(URL, json=body, headers=headers) for _ in range(4)))
    assert {a.status_code for a in answers} == {207}
    assert all(a.json() == answers[0].json() for a in answers)
    assert [r["status"] for r in answers[0].json()["results"]] == [201, 201, 201]
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 3
    for application in applications:
        listed = (
            await client.get(f"/api/v1/applications/{application['id']}/assignments", headers=actors.officer())
        ).json()
        assert [x["reviewer_subject"] for x in listed] == ["reviewer-6"]
