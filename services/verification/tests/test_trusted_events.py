"""POST /internal/events accepts each event type only from the account of the service that publishes it (kit
`publishers.py`): every service account and a token without the `service` role, against every event type this
service consumes. A refused event opens no case and is not recorded as processed."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from verification_helpers import Actors, application_event, assert_problem, steel_plant

from cleanprod_kit.testing.publishers import event_callers
from cleanprod_verification.cases.consumer import build_consumer

PUBLISHER = "svc-applications"
CONSUMED = ("application.approved", "application.completed")
CLIENTS = event_callers(PUBLISHER, "officer")


def test_every_consumed_event_type_is_in_the_matrix() -> None:
    assert set(build_consumer(lambda: None, min_baseline_periods=12).handlers) == set(CONSUMED)  # type: ignore[arg-type, return-value]


async def state(app: FastAPI, application_id: str, event_id: str) -> tuple[int, bool]:
    async with app.state.db.session() as session:
        cases = await session.exec(
            text("SELECT count(*) FROM verification_cases WHERE application_id = :a").bindparams(  # type: ignore[call-overload]
                a=uuid.UUID(application_id)
            )
        )
        seen = await session.exec(
            text("SELECT count(*) FROM processed_events WHERE event_id = :e").bindparams(e=uuid.UUID(event_id))  # type: ignore[call-overload]
        )
        return int(cases.scalar_one()), bool(seen.scalar_one())


@pytest.mark.parametrize("event_type", CONSUMED)
@pytest.mark.parametrize(("client_id", "roles"), CLIENTS, ids=[f"{c}:{'+'.join(r)}" for c, r in CLIENTS])
async def test_only_the_publisher_may_send_the_event(
    client: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    actors: Actors,
    app: FastAPI,
    event_type: str,
    client_id: str,
    roles: tuple[str, ...],
) -> None:
    plant = await steel_plant(registry, actors)
    envelope = application_event(plant, event_type=event_type)
    response = await client.post("/internal/events", json=envelope, headers=actors.client(client_id, *roles))
    cases, processed = await state(app, envelope["data"]["application_id"], envelope["id"])
    if client_id == PUBLISHER and "service" in roles:
        assert response.status_code == 200, response.text
        assert (cases, processed) == (1, True)
        return
    problem = assert_problem(response, 403)
    assert problem["code"] == "event_publisher_not_allowed", problem
    assert (cases, processed) == (0, False)
