"""Webhook deliveries end to end inside the service: real PostgreSQL, the real dispatcher, and a real HTTP receiver on
loopback (aiohttp) that records every request and can fail, hang or be switched off."""

from __future__ import annotations

import asyncio
import ipaddress
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from applications_helpers import Actors, Receiver, World, assert_problem, documented_verifier
from fastapi import FastAPI
from sqlalchemy import text

from cleanprod_applications.config import ApplicationsSettings
from cleanprod_applications.integrations.delivery import WebhookDispatcher, WebhookSender
from cleanprod_kit.db import Database

API = "/api/v1/integrations"
verify_webhook, InvalidWebhook = documented_verifier()


@pytest.fixture(scope="module")
def fast(settings: ApplicationsSettings) -> ApplicationsSettings:
    """Dispatcher settings for tests: quick retries and timeouts."""
    return settings.model_copy(
        update={
            "webhook_retry_base_seconds": 0.05,
            "webhook_retry_cap_seconds": 0.2,
            "webhook_timeout_seconds": 1.0,
            "webhook_poll_seconds": 0.05,
            "webhook_max_age_seconds": 3600,
            "webhook_concurrency": 8,
        }
    )


@pytest.fixture
async def dispatchers(fast: ApplicationsSettings) -> AsyncIterator[Callable[..., WebhookDispatcher]]:
    """Makes dispatchers, each with its own connection pool (as separate replicas would have)."""
    made: list[tuple[WebhookDispatcher, Database]] = []

    def make(**overrides: Any) -> WebhookDispatcher:
        settings = fast.model_copy(update=overrides)
        db = Database(settings.database_url, pool_size=5, max_overflow=5)
        dispatcher = WebhookDispatcher(db, settings, name=f"test-{len(made)}")
        made.append((dispatcher, db))
        return dispatcher

    yield make
    for dispatcher, db in made:
        await dispatcher.stop()
        await db.dispose()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = await Receiver().start()
    yield server
    await server.stop()


class Subscriptions:
    def __init__(self, client: httpx.AsyncClient, actors: Actors) -> None:
        self.client = client
        self.headers = actors.headers("egov", sub="service-account-egov-demo", username="service-account-egov-demo")
        self.created: list[str] = []

    async def add(self, url: str, event_types: list[str] | None = None) -> tuple[str, str]:
        response = await self.client.post(
            f"{API}/webhooks", headers=self.headers, json={"url": url, "event_types": event_types or ["application.*"]}
        )
        assert response.status_code == 201, response.text
        self.created.append(response.json()["id"])
        return response.json()["id"], response.json()["secret"]

    async def deliveries(
        self, subscription_id: str, status: str | None = None, headers: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        response = await self.client.get(
            f"{API}/webhooks/{subscription_id}/deliveries",
            headers=headers or self.headers,
            params={"limit": 200, **({"status": status} if status else {})},
        )
        assert response.status_code == 200, response.text
        return list(response.json()["items"])


@pytest.fixture
async def subscriptions(client: httpx.AsyncClient, actors: Actors) -> AsyncIterator[Subscriptions]:
    subs = Subscriptions(client, actors)
    yield subs
    for subscription_id in subs.created:  # so later tests' dispatchers do not deliver to stopped receivers
        await client.delete(f"{API}/webhooks/{subscription_id}", headers=subs.headers)


async def outbox_events(app: FastAPI, aggregate_ids: set[str]) -> list[tuple[str, int, str, str]]:
    """(event id, seq, type, aggregate id) of these aggregates, in seq order."""
    async with app.state.db.session() as session:
        rows = (
            await session.exec(
                text(  # type: ignore[call-overload]
                    "SELECT id::text, seq, event_type, aggregate_id FROM outbox_events WHERE aggregate_id = ANY(:ids) "
                    "ORDER BY seq"
                ).bindparams(ids=list(aggregate_ids))
            )
        ).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


async def until(condition: Callable[[], Awaitable[bool]], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.05)


async def settled(subscriptions: Subscriptions, subscription_id: str, ids: set[str]) -> list[dict[str, Any]]:
    """The subscription's deliveries once none of `ids`' is still pending: the dispatcher records a delivery after
    the receiver's 2xx has arrived, so a receiver can hold an event a moment before its row says delivered."""

    async def none_pending() -> bool:
        return all(
            d["status"] != "pending"
            for d in await subscriptions.deliveries(subscription_id)
            if d["aggregate_id"] in ids
        )

    await until(none_pending, what="the deliveries to be recorded")
    return await subscriptions.deliveries(subscription_id)


def check_in_order(receiver: Receiver, expected: list[tuple[str, int, str, str]]) -> None:
    """Every event delivered; per dossier, first deliveries in seq order, and no attempt of a later event before the
    earlier one was acknowledged."""
    aggregates = {e[3] for e in expected}
    delivered_first: dict[str, list[int]] = {}
    seen: set[str] = set()
    for record in receiver.delivered(aggregates):
        event = record.event
        if event["id"] not in seen:
            seen.add(event["id"])
            delivered_first.setdefault(event["aggregate_id"], []).append(event["seq"])
    assert seen == {e[0] for e in expected}, "an event was lost"
    for aggregate in aggregates:
        seqs = [e[1] for e in expected if e[3] == aggregate]
        assert delivered_first[aggregate] == seqs, f"dossier {aggregate} out of order"
        attempts = [r.event["seq"] for r in receiver.for_aggregates({aggregate})]
        assert attempts == sorted(attempts), f"a later event of {aggregate} was tried before an earlier one arrived"


async def test_every_status_change_arrives_in_order_and_signed(
    world: World,
    receiver: Receiver,
    subscriptions: Subscriptions,
    dispatchers: Callable[..., WebhookDispatcher],
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    subscription_id, secret = await subscriptions.add(receiver.url)
    dispatcher = dispatchers()
    dispatcher.start()
    receiver.delay = 0.01
    verified = await world.at("verified")
    resubmitted = await world.at("changes_requested")
    resubmitted = await world.act(resubmitted, "resubmit", world.owner(resubmitted))
    rejected = await world.at("rejected")
    ids = {verified["id"], resubmitted["id"], rejected["id"]}
    expected = await outbox_events(app_and_client[0], ids)
    assert len(expected) == 6 + 5 + 3

    async def all_arrived() -> bool:
        return {r.event["id"] for r in receiver.delivered(ids)} == {e[0] for e in expected}

    await until(all_arrived, what="every event of the three dossiers")
    check_in_order(receiver, expected)
    assert receiver.overlaps == []
    statuses = [r.event["data"]["egov_status"] for r in receiver.delivered({verified["id"]})]
    assert statuses == [1, 4, 9, 9, 9, 10]
    assert [r.event["data"]["egov_status"] for r in receiver.delivered({resubmitted["id"]})] == [1, 4, 5, 1, 4]
    for record in receiver.for_aggregates(ids):
        assert record.headers["Content-Type"] == "application/json"
        assert record.headers["Webhook-Id"] == record.event["id"]
        assert verify_webhook(secret, record.headers, record.body) == record.event["id"]
        assert record.event["data"]["dossier_code"] and record.event["source"] == "applications"
        tampered = record.body.replace(b'"egov_status":', b'"egov_status": ', 1)
        with pytest.raises(InvalidWebhook):
            verify_webhook(secret, record.headers, tampered)
        with pytest.raises(InvalidWebhook):
            verify_webhook("whsec_" + "A" * 44, record.headers, record.body)
    deliveries = await settled(subscriptions, subscription_id, ids)
    assert {d["status"] for d in deliveries if d["aggregate_id"] in ids} == {"delivered"}


async def test_receiver_down_then_back_loses_nothing(
    world: World,
    receiver: Receiver,
    subscriptions: Subscriptions,
    dispatchers: Callable[..., WebhookDispatcher],
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    subscription_id, secret = await subscriptions.add(receiver.url)
    await receiver.stop()  # down: connections refused
    dispatcher = dispatchers()
    dispatcher.start()
    applications = [await world.at("in_progress") for _ in range(3)]
    ids = {a["id"] for a in applications}
    expected = await outbox_events(app_and_client[0], ids)

    async def retried() -> bool:
        pending = [d for d in await subscriptions.deliveries(subscription_id, "pending") if d["aggregate_id"] in ids]
        return len(pending) == len(expected) and all(
            d["attempts"] >= 1
            for d in pending
            if d["event_seq"] == min(e[1] for e in expected if e[3] == d["aggregate_id"])
        )

    await until(retried, what="failed attempts while the receiver is down")
    first = (await subscriptions.deliveries(subscription_id, "pending"))[0]
    assert first["last_error"] and first["last_status_code"] is None
    await receiver.start()  # back, but failing after processing: the sender will repeat those events
    receiver.mode = "fail"
    await until(lambda: _any(receiver), what="a request reaching the failing receiver")
    receiver.mode = "ok"

    async def all_arrived() -> bool:
        return {r.event["id"] for r in receiver.delivered(ids)} == {e[0] for e in expected}

    await until(all_arrived, what="every event after the receiver recovered")
    check_in_order(receiver, expected)
    repeats: dict[str, list[Any]] = {}
    for record in receiver.for_aggregates(ids):
        repeats.setdefault(record.headers["Webhook-Id"], []).append(record)
        assert verify_webhook(secret, record.headers, record.body) == record.headers["Webhook-Id"]
    duplicated = {k: v for k, v in repeats.items() if len(v) > 1}
    assert duplicated, "the receiver answered 500 at least once, so something was sent again"
    for event_id, records in duplicated.items():
        assert {r.event["id"] for r in records} == {event_id} and len({r.body for r in records}) == 1
    deliveries = [d for d in await settled(subscriptions, subscription_id, ids) if d["aggregate_id"] in ids]
    assert {d["status"] for d in deliveries} == {"delivered"} and len(deliveries) == len(expected)


async def _any(receiver: Receiver) -> bool:
    return bool(receiver.requests)


async def test_dead_letter_then_redelivery_by_an_officer(
    world: World,
    receiver: Receiver,
    subscriptions: Subscriptions,
    dispatchers: Callable[..., WebhookDispatcher],
    client: httpx.AsyncClient,
    actors: Actors,
) -> None:
    subscription_id, secret = await subscriptions.add(receiver.url)
    receiver.mode = "fail"  # never recovers (until we say so)
    dispatcher = dispatchers(webhook_max_age_seconds=1)
    dispatcher.start()
    application = await world.submitted()

    async def both_dead() -> bool:
        dead = [
            d for d in await subscriptions.deliveries(subscription_id, "dead") if d["aggregate_id"] == application["id"]
        ]
        return len(dead) == 2

    await until(both_dead, what="two dead letters")
    dead = [
        d for d in await subscriptions.deliveries(subscription_id, "dead") if d["aggregate_id"] == application["id"]
    ]
    assert [d["event_type"] for d in dead] == ["application.submitted", "application.screening_passed"]
    for delivery in dead:
        assert delivery["attempts"] >= 1 and delivery["last_status_code"] == 500
        assert "answered 500" in delivery["last_error"] and delivery["dead_at"] and delivery["next_attempt_at"] is None
    # The owner and officers see dead letters; other clients and enterprises do not.
    assert len(await subscriptions.deliveries(subscription_id, "dead", headers=actors.officer())) >= 2
    # Officers are told of each dead letter, in the transaction that gave it up (notifications/rules.py).
    told = [
        i
        for i in (await client.get("/api/v1/notifications", headers=actors.officer(), params={"limit": 200})).json()[
            "items"
        ]
        if i["kind"] == "webhook_dead_lettered" and i["application_id"] == application["id"]
    ]
    assert len(told) == 2 and all(i["link"] == f"/officer/webhooks/{subscription_id}" for i in told)
    assert all(receiver.url in i["body"] for i in told)
    other = actors.headers("egov", sub="service-account-egov-other")
    assert_problem(await client.get(f"{API}/webhooks/{subscription_id}/deliveries", headers=other), 404)
    assert_problem(
        await client.get(f"{API}/webhooks/{subscription_id}/deliveries", headers=actors.enterprise(world.a.tax_code)),
        403,
    )

    await dispatcher.stop()  # nothing moves while we redeliver (so "still pending" is observable)
    receiver.mode = "ok"
    before = len(receiver.delivered({application["id"]}))
    redeliver = f"{API}/webhooks/{subscription_id}/deliveries/{dead[0]['id']}/redeliver"
    assert_problem(await client.post(redeliver, headers=subscriptions.headers), 403)  # officers only
    for delivery in dead:
        response = await client.post(
            f"{API}/webhooks/{subscription_id}/deliveries/{delivery['id']}/redeliver", headers=actors.officer()
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "pending" and response.json()["attempts"] == 0
    assert_problem(await client.post(redeliver, headers=actors.officer()), 409)  # still pending
    assert_problem(
        await client.post(
            f"{API}/webhooks/{subscription_id}/deliveries/{uuid.uuid4()}/redeliver", headers=actors.officer()
        ),
        404,
    )
    dispatchers().start()  # a fresh replica picks the redeliveries up from the database

    async def redelivered() -> bool:
        return len(receiver.delivered({application["id"]})) == before + 2

    await until(redelivered, what="both redeliveries")
    arrived = receiver.delivered({application["id"]})[-2:]
    assert [r.headers["Webhook-Id"] for r in arrived] == [str(d["event_id"]) for d in dead]
    assert all(verify_webhook(secret, r.headers, r.body) for r in arrived)
    assert {
        d["status"]
        for d in await settled(subscriptions, subscription_id, {application["id"]})
        if d["aggregate_id"] == application["id"]
    } == {"delivered"}
    history = (await client.get(f"{API}/webhooks/{subscription_id}/history", headers=actors.auditor)).json()["items"]
    assert [h["action"] for h in history].count("redeliver") == 2


async def test_two_dispatchers_never_send_the_same_event_at_once(
    world: World,
    receiver: Receiver,
    subscriptions: Subscriptions,
    dispatchers: Callable[..., WebhookDispatcher],
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    await subscriptions.add(receiver.url)
    receiver.delay = 0.03  # slow answers: plenty of time for a second dispatcher to grab the same row
    receiver.fail_ratio = 0.3  # and retries
    first, second = dispatchers(), dispatchers()
    first.start()
    second.start()
    applications = await asyncio.gather(
        *(
            world.at(status)
            for status in ("verified", "not_achieved", "approved", "rejected", "in_progress", "completed")
        )
    )
    ids = {a["id"] for a in applications}
    expected = await outbox_events(app_and_client[0], ids)

    async def all_arrived() -> bool:
        return {r.event["id"] for r in receiver.delivered(ids)} == {e[0] for e in expected}

    await until(all_arrived, timeout=60, what="every event with two dispatchers")
    assert receiver.overlaps == [], "an event (or a dossier) was in flight twice at the same time"
    check_in_order(receiver, expected)
    for event_id in {e[0] for e in expected}:
        ok = [r for r in receiver.delivered(ids) if r.event["id"] == event_id]
        assert len(ok) == 1, "delivered twice although the first delivery was acknowledged"


async def test_three_dispatchers_keep_each_dossier_in_order_through_failures(
    world: World,
    receiver: Receiver,
    subscriptions: Subscriptions,
    dispatchers: Callable[..., WebhookDispatcher],
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    """Three replicas' dispatchers over ten dossiers written while they run, the receiver answering after a random
    delay and failing a quarter of the requests: per dossier, first deliveries in seq order, no later event tried
    before the earlier one was acknowledged, never two requests of one dossier at once, nothing lost."""
    await subscriptions.add(receiver.url)
    receiver.jitter = 0.03
    receiver.fail_ratio = 0.25
    replicas = [dispatchers() for _ in range(3)]
    for dispatcher in replicas:
        dispatcher.start()
    statuses = ("verified", "not_achieved", "approved", "rejected", "in_progress", "completed", "ineligible")
    applications = await asyncio.gather(*(world.at(statuses[n % len(statuses)]) for n in range(10)))
    ids = {a["id"] for a in applications}
    expected = await outbox_events(app_and_client[0], ids)
    assert len(expected) >= 40

    async def all_arrived() -> bool:
        return {r.event["id"] for r in receiver.delivered(ids)} == {e[0] for e in expected}

    await until(all_arrived, timeout=90, what="every event with three dispatchers")
    assert sum(1 for r in receiver.for_aggregates(ids) if r.status == 500) >= 5, "the failure injection did not happen"
    assert receiver.overlaps == [], "an event (or a dossier) was in flight twice at the same time"
    check_in_order(receiver, expected)


async def test_hanging_receiver_is_cut_at_the_timeout(
    world: World, receiver: Receiver, subscriptions: Subscriptions, dispatchers: Callable[..., WebhookDispatcher]
) -> None:
    subscription_id, _ = await subscriptions.add(receiver.url)
    receiver.mode = "hang"
    first, second = dispatchers(), dispatchers()
    first.start()
    second.start()
    application = await world.submitted()

    async def timed_out() -> bool:
        pending = await subscriptions.deliveries(subscription_id, "pending")
        return any(d["last_error"] and "no answer within 1 s" in d["last_error"] for d in pending)

    started = time.monotonic()
    await until(timed_out, what="an attempt cut at the timeout")
    assert time.monotonic() - started < 10
    receiver.mode = "ok"

    async def arrived() -> bool:
        return len({r.event["id"] for r in receiver.delivered({application["id"]})}) == 2

    await until(arrived, what="delivery after the hang")
    assert receiver.overlaps == []


async def test_url_checked_again_before_each_delivery(
    world: World,
    receiver: Receiver,
    subscriptions: Subscriptions,
    dispatchers: Callable[..., WebhookDispatcher],
    fast: ApplicationsSettings,
) -> None:
    subscription_id, _ = await subscriptions.add(receiver.url)  # allowed when created (dev: loopback allowed)
    dispatcher = dispatchers(webhook_allow_loopback=False)  # the policy tightened since
    application = await world.submitted()
    await dispatcher.run_once()
    deliveries = [d for d in await subscriptions.deliveries(subscription_id) if d["aggregate_id"] == application["id"]]
    assert deliveries and "URL refused" in deliveries[0]["last_error"] and "loopback" in deliveries[0]["last_error"]
    assert receiver.for_aggregates({application["id"]}) == []

    # DNS rebinding: the name resolves to a public address at the check and to loopback at the connection.
    answers = iter([["203.0.114.7"], ["127.0.0.1"]])

    async def rebinding(host: str, port: int) -> list[Any]:
        return [ipaddress.ip_address(a) for a in next(answers)]

    sender = WebhookSender(fast.model_copy(update={"webhook_allow_loopback": False}), resolver=rebinding)
    try:
        outcome = await sender.send(f"http://rebind.example:{receiver.port}/hooks", {"Webhook-Id": "x"}, b"{}")
    finally:
        await sender.aclose()
    assert not outcome.delivered and outcome.error and "loopback" in outcome.error
    assert not any(r.headers.get("Webhook-Id") == "x" for r in receiver.requests)


async def test_redirects_are_not_followed_and_answers_are_cut(fast: ApplicationsSettings) -> None:
    from aiohttp import web

    hits: list[str] = []

    async def redirect(request: Any) -> Any:
        hits.append(request.path)
        if request.path == "/big":
            return web.Response(status=500, body=b"x" * 1_000_000)
        raise web.HTTPFound("/elsewhere")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", redirect)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    sender = WebhookSender(fast)
    try:
        moved = await sender.send(f"http://127.0.0.1:{port}/hook", {}, b"{}")
        big = await sender.send(f"http://127.0.0.1:{port}/big", {}, b"{}")
    finally:
        await sender.aclose()
        await runner.cleanup()
    assert not moved.delivered and moved.status_code == 302 and hits.count("/elsewhere") == 0
    assert not big.delivered and big.status_code == 500 and big.error is not None and len(big.error) < 700


async def test_a_restart_mid_delivery_loses_nothing(
    world: World, receiver: Receiver, subscriptions: Subscriptions, dispatchers: Callable[..., WebhookDispatcher]
) -> None:
    subscription_id, secret = await subscriptions.add(receiver.url)
    receiver.mode = "hang"
    crashing = dispatchers(webhook_timeout_seconds=30)  # its POST would wait for long
    crashing.start()
    application = await world.submitted()

    async def in_flight() -> bool:
        return bool(receiver.for_aggregates({application["id"]}))

    await until(in_flight, what="the first POST reaching the receiver")
    await crashing.stop(grace_seconds=0.1)  # shut down mid-attempt: the lease is handed back
    pending = [
        d for d in await subscriptions.deliveries(subscription_id, "pending") if d["aggregate_id"] == application["id"]
    ]
    assert len(pending) == 2 and pending[0]["attempts"] == 1
    receiver.mode = "ok"
    dispatchers().start()  # the next process (or another replica) finds everything in the database

    async def arrived() -> bool:
        return len({r.event["id"] for r in receiver.delivered({application["id"]})}) == 2

    await until(arrived, what="delivery by the restarted dispatcher")
    first_attempt = receiver.for_aggregates({application["id"]})[0]
    assert first_attempt.headers["Webhook-Id"] == receiver.delivered({application["id"]})[0].headers["Webhook-Id"]
    assert all(verify_webhook(secret, r.headers, r.body) for r in receiver.delivered({application["id"]}))
