"""Least privilege for verifiers (issue 9, fault 8): a verifier reads only the applications whose verification
case is assigned to them — the application and everything under it (documents, history, tranches, reviews) —
and their lists hold only those. The applications service learns the assignment from the verification
service's `verification.verifier_assigned` event (no HTTP call inside a transaction)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
from applications_helpers import Actors, World, assert_problem
from test_documents import PDF, upload


def verifier(actors: Actors) -> tuple[str, dict[str, str]]:
    subject = f"verifier-{uuid.uuid4().hex[:8]}"
    return subject, actors.headers("verifier", sub=subject, username=subject.replace("-", ""))


def urls(application: dict[str, Any], document: dict[str, Any]) -> list[str]:
    base = f"/api/v1/applications/{application['id']}"
    return [
        base,
        f"{base}/documents",
        f"{base}/documents/{document['id']}",
        f"{base}/history",
        f"{base}/tranches",
        f"{base}/assignments",
        f"{base}/reviews",
    ]


async def listed(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[str]:
    response = await client.get("/api/v1/applications", params={"limit": 200, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return [a["id"] for a in response.json()["items"]]


async def approved_with_document(client: httpx.AsyncClient, world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    application = await world.approved()
    response = await upload(client, application, world.owner(application), "Hợp đồng chuyển giao.pdf", PDF)
    assert response.status_code == 201, response.text
    return application, response.json()


async def test_an_unassigned_verifier_reads_nothing_then_the_assigned_one_reads_everything(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    application, document = await approved_with_document(client, world)
    other, _ = await approved_with_document(client, world)
    subject, as_verifier = verifier(actors)
    for url in urls(application, document):
        assert_problem(await client.get(url, headers=as_verifier), 404)
    assert await listed(client, as_verifier) == []

    assigned = await world.assign_verifier(application, subject)
    assert assigned.status_code == 200, assigned.text
    for url in urls(application, document):
        response = await client.get(url, headers=as_verifier)
        assert response.status_code == 200, (url, response.text)
    download = await client.get(urls(application, document)[2], headers=as_verifier)
    assert download.content == PDF
    detail = (await client.get(urls(application, document)[0], headers=as_verifier)).json()
    assert detail["review_summary"] is not None  # the Department's view of what they may read
    reviews = (await client.get(urls(application, document)[-1], headers=as_verifier)).json()
    assert len(reviews) == 2  # every review, as officers see them
    # only that application, in every list query, and nothing of the other one
    assert await listed(client, as_verifier) == [application["id"]]
    assert await listed(client, as_verifier, status="approved") == [application["id"]]
    assert await listed(client, as_verifier, call_id=other["call_id"]) == []
    assert_problem(await client.get(f"/api/v1/applications/{other['id']}", headers=as_verifier), 404)
    # another verifier still sees nothing; the grant is in the application's history
    _, stranger = verifier(actors)
    assert_problem(await client.get(urls(application, document)[0], headers=stranger), 404)
    history = (await client.get(urls(application, document)[3], headers=actors.officer())).json()["items"]
    granted = [e for e in history if e["action"] == "verifier_assigned"]
    assert len(granted) == 1 and granted[0]["actor_subject"] == "service:verification"
    assert granted[0]["details"]["verifier_subject"] == subject


async def test_a_replaced_verifier_loses_access_and_a_late_old_event_changes_nothing(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    application = await world.approved()
    url = f"/api/v1/applications/{application['id']}"
    first, as_first = verifier(actors)
    second, as_second = verifier(actors)
    before = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    assert (await world.assign_verifier(application, first)).status_code == 200
    assert (await client.get(url, headers=as_first)).status_code == 200
    assert (await world.assign_verifier(application, second)).status_code == 200
    assert_problem(await client.get(url, headers=as_first), 404)
    assert (await client.get(url, headers=as_second)).status_code == 200
    assert await listed(client, as_first) == []

    # an older assignment delivered late (another event id) does not take the case back
    late = await world.assign_verifier(application, first, occurred_at=before.isoformat())
    assert late.status_code == 200
    assert_problem(await client.get(url, headers=as_first), 404)
    assert (await client.get(url, headers=as_second)).status_code == 200


async def test_unusable_assignment_events_are_acknowledged_and_grant_nothing(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    application = await world.approved()
    subject, as_verifier = verifier(actors)
    # emitted before assignments named the verifier's subject: acknowledged (never blocks the sender), no grant
    old = await world.assign_verifier(application, None, subject)  # type: ignore[arg-type]
    assert old.status_code == 200 and old.json()["duplicate"] is False
    assert_problem(await client.get(f"/api/v1/applications/{application['id']}", headers=as_verifier), 404)
    unknown = await world.assign_verifier({"id": str(uuid.uuid4())}, subject)
    assert unknown.status_code == 200
    assert await listed(client, as_verifier) == []
    # and the grant is the verification service's alone: the gateway's account cannot give itself a verifier
    forged = await world.assign_verifier(application, subject, headers=actors.client("svc-gateway"))
    assert assert_problem(forged, 403)["code"] == "event_publisher_not_allowed"
    assert_problem(await client.get(f"/api/v1/applications/{application['id']}", headers=as_verifier), 404)
