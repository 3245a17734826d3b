"""Events move money here (a verdict makes the balance payable), so POST /internal/events accepts each event type
only from the account of the service that publishes it (kit `publishers.py`): every service account and a token
without the `service` role, against every event type this service consumes."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from applications_helpers import Actors, World, assert_problem
from fastapi import FastAPI
from sqlalchemy import text

from cleanprod_applications.consumer import build_consumer
from cleanprod_kit.models import utcnow
from cleanprod_kit.testing.publishers import event_callers

PUBLISHER = "svc-verification"
CLIENTS = event_callers(PUBLISHER, "verifier")
CLIENT_IDS = [f"{c}:{'+'.join(r)}" for c, r in CLIENTS]


def test_every_consumed_event_type_is_in_the_matrix() -> None:
    consumed = set(build_consumer(5000).handlers)
    assert consumed == set(EVENTS)


def verdict(application: dict[str, Any]) -> dict[str, Any]:
    return {
        "application_id": application["id"],
        "verdict": "verified",
        "verification_id": str(uuid.uuid4()),
        "achieved_ratio": 1.0,
        "verified_savings_pct": 9.1,
        "claimed_savings_pct": 8.5,
    }


def assignment(application: dict[str, Any]) -> dict[str, Any]:
    return {
        "application_id": application["id"],
        "verification_id": str(uuid.uuid4()),
        "status": "assigned",
        "verifier_subject": f"verifier-{application['id']}",
        "verifier_username": "verifier9",
    }


EVENTS = {"verification.concluded": verdict, "verification.verifier_assigned": assignment}


def envelope(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "seq": 1,
        "type": event_type,
        "aggregate_type": "verification",
        "aggregate_id": str(uuid.uuid4()),
        "occurred_at": utcnow().isoformat(),
        "source": "verification",
        "data": data,
    }


async def processed(app: FastAPI, event_id: str) -> bool:
    async with app.state.db.session() as session:
        found = await session.exec(
            text("SELECT 1 FROM processed_events WHERE event_id = :id").bindparams(id=uuid.UUID(event_id))  # type: ignore[call-overload]
        )
        return found.first() is not None


@pytest.mark.parametrize("event_type", list(EVENTS))
@pytest.mark.parametrize(("client_id", "roles"), CLIENTS, ids=CLIENT_IDS)
async def test_only_the_publisher_may_send_the_event(
    client: httpx.AsyncClient,
    world: World,
    actors: Actors,
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
    event_type: str,
    client_id: str,
    roles: tuple[str, ...],
) -> None:
    completed = await world.completed()
    body = envelope(event_type, EVENTS[event_type](completed))
    response = await client.post("/internal/events", json=body, headers=actors.client(client_id, *roles))
    after = await world.get(completed)
    balance = {t["kind"]: t for t in after["tranches"]}["balance"]
    balance_before = {t["kind"]: t for t in completed["tranches"]}["balance"]
    as_verifier = actors.headers("verifier", sub=f"verifier-{completed['id']}")
    verifier_reads = (await client.get(f"/api/v1/applications/{completed['id']}", headers=as_verifier)).status_code
    history = (await client.get(f"/api/v1/applications/{completed['id']}/history", headers=actors.officer())).json()[
        "items"
    ]
    if client_id == PUBLISHER and "service" in roles:
        assert response.status_code == 200, response.text
        if event_type == "verification.concluded":
            assert after["status"] == "verified" and balance["status"] == "payable"
        else:
            assert verifier_reads == 200
        assert history[-1]["actor_subject"] == "service:verification"  # the source the token proves
        return
    problem = assert_problem(response, 403)
    assert problem["code"] == "event_publisher_not_allowed", problem
    assert after["status"] == "completed" and after["version"] == completed["version"]
    assert balance == balance_before and balance["status"] == "withheld"
    assert verifier_reads == 404
    assert history[-1]["action"] == "complete"
    assert not await processed(app_and_client[0], body["id"])


async def test_the_gateway_cannot_release_the_balance_and_the_real_verdict_still_applies(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    """The reported fault: a verdict forged with the gateway's account made 560,000,000 VND payable."""
    completed = await world.completed()
    body = envelope("verification.concluded", verdict(completed))
    forged = await client.post("/internal/events", json=body, headers=actors.client("svc-gateway"))
    assert assert_problem(forged, 403)["code"] == "event_publisher_not_allowed"
    assert (await world.get(completed))["status"] == "completed"
    genuine = await client.post("/internal/events", json=body, headers=actors.service)  # same event id
    assert genuine.status_code == 200 and genuine.json()["duplicate"] is False
    assert (await world.get(completed))["status"] == "verified"
