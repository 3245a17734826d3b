"""The applications service's /metrics after a known workload: webhook attempts by outcome (delivered, retry,
dead), the deliveries waiting and dead and the mails waiting as the database counts them, the request counts of
its route templates."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from applications_helpers import Actors, Receiver, World
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from cleanprod_applications.config import ApplicationsSettings
from cleanprod_applications.integrations.delivery import WebhookDispatcher
from cleanprod_kit.db import Database

API = "/api/v1/integrations"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = await Receiver().start()
    yield server
    await server.stop()


@pytest.fixture
async def dispatcher(settings: ApplicationsSettings) -> AsyncIterator[WebhookDispatcher]:
    fast = settings.model_copy(
        update={
            "webhook_retry_base_seconds": 0.05,
            "webhook_retry_cap_seconds": 0.2,
            "webhook_timeout_seconds": 1.0,
            "webhook_poll_seconds": 0.05,
            "webhook_max_age_seconds": 1,  # given up after a second of failures
        }
    )
    db = Database(fast.database_url, pool_size=5, max_overflow=5)
    made = WebhookDispatcher(db, fast, name="metrics-test")
    yield made
    await made.stop()
    await db.dispose()


async def database_now(app: FastAPI) -> Any:
    async with app.state.db.engine.connect() as conn:
        return (await conn.execute(text("SELECT now()"))).scalar_one()


async def settled_since(app: FastAPI, since: Any) -> tuple[int, int]:
    """Deliveries (of any subscription: other tests' may be active) delivered and given up since `since`."""
    async with app.state.db.engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT count(*) FILTER (WHERE delivered_at >= :t), count(*) FILTER (WHERE dead_at >= :t)"
                    " FROM webhook_deliveries"
                ).bindparams(t=since)
            )
        ).one()
    return int(row[0]), int(row[1])


async def database_counts(app: FastAPI) -> tuple[int, int, int]:
    async with app.state.db.engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'),"
                    " (SELECT count(*) FROM webhook_deliveries WHERE status = 'dead'),"
                    " (SELECT count(*) FROM mail_deliveries WHERE status = 'pending')"
                )
            )
        ).one()
    return int(row[0]), int(row[1]), int(row[2])


async def until_dead(client: httpx.AsyncClient, headers: dict[str, str], subscription_id: str, count: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        response = await client.get(
            f"{API}/webhooks/{subscription_id}/deliveries", headers=headers, params={"status": "dead", "limit": 200}
        )
        if len(response.json()["items"]) >= count:
            return
        assert time.monotonic() < deadline, "no dead letters"
        await asyncio.sleep(0.05)


async def test_webhook_attempts_dead_letters_and_mails_waiting(
    world: World,
    receiver: Receiver,
    dispatcher: WebhookDispatcher,
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
    actors: Actors,
) -> None:
    app, client = app_and_client
    egov = actors.headers("egov", sub="service-account-egov-metrics", username="service-account-egov-metrics")
    created = await client.post(
        f"{API}/webhooks", headers=egov, json={"url": receiver.url, "event_types": ["application.*"]}
    )
    assert created.status_code == 201, created.text
    subscription_id = created.json()["id"]
    try:
        since = await database_now(app)
        before = await scrape(client)
        receiver.mode = "fail"  # every attempt answered 500, until the deliveries are given up
        dispatcher.start()
        application = await world.submitted()  # two events: submitted, screening_passed
        await until_dead(client, egov, subscription_id, 2)
        await dispatcher.stop()
        after = await scrape(client)
        delivered, given_up = await settled_since(app, since)  # before the deletion cascades to the deliveries
        pending, dead, mails = await database_counts(app)
    finally:
        await client.delete(f"{API}/webhooks/{subscription_id}", headers=egov)

    attempts = "cleanprod_webhook_attempts_total"
    assert given_up >= 2  # this test's two
    assert value(after, attempts, outcome="dead") - value(before, attempts, outcome="dead") == given_up
    assert value(after, attempts, outcome="delivered") - value(before, attempts, outcome="delivered") == delivered
    # Each delivery was tried several times before the second it is given: every attempt but its last a retry.
    seen = len(receiver.for_aggregates({application["id"]}))
    assert seen > 2
    assert value(after, attempts, outcome="retry") - value(before, attempts, outcome="retry") >= seen - 2

    assert value(after, "cleanprod_webhook_deliveries", status="dead") == dead >= 2
    assert value(after, "cleanprod_webhook_deliveries", status="pending") == pending
    assert value(after, "cleanprod_mails_waiting") == mails
    # The service's own routes, by template.
    submit = {"method": "POST", "route": "/api/v1/applications/{application_id}/submit", "status": "200"}
    name = "cleanprod_http_request_duration_seconds_count"
    assert value(after, name, **submit) - value(before, name, **submit) == 1
    # 20 + 20 (conftest), and any other applications app of this test process still alive
    assert value(after, "cleanprod_db_pool_connections_max", pool="applications") >= 40


async def test_a_delivered_webhook_is_counted(
    world: World,
    receiver: Receiver,
    dispatcher: WebhookDispatcher,
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
    actors: Actors,
) -> None:
    app, client = app_and_client
    egov = actors.headers("egov", sub="service-account-egov-metrics2", username="service-account-egov-metrics2")
    created = await client.post(
        f"{API}/webhooks", headers=egov, json={"url": receiver.url, "event_types": ["application.submitted"]}
    )
    subscription_id = created.json()["id"]
    try:
        since = await database_now(app)
        before = await scrape(client)
        application = await world.submitted()
        deadline = time.monotonic() + 30
        while not receiver.delivered({application["id"]}):
            await dispatcher.run_once()
            assert time.monotonic() < deadline
        await dispatcher.run_once()  # the success is recorded after the receiver's answer
        after = await scrape(client)
        delivered, _ = await settled_since(app, since)
    finally:
        await client.delete(f"{API}/webhooks/{subscription_id}", headers=egov)
    attempts = "cleanprod_webhook_attempts_total"
    assert delivered >= 1
    assert value(after, attempts, outcome="delivered") - value(before, attempts, outcome="delivered") == delivered
