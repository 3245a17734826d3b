"""The outbox pushes a claimed batch in one request per subscriber (issue 16): the consumer's batch endpoint applies
each event as the one-event endpoint does (once by id, in order, from its publisher only), a failing event does not
lose the others — only its aggregate's later events wait — and the dispatcher publishes exactly what every
subscriber accepted. A subscriber without the batch endpoint (an older version) is pushed one event at a time."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from cleanprod_kit.app import create_service_app
from cleanprod_kit.db import Database
from cleanprod_kit.models import OutboxEvent, ProcessedEvent, utcnow
from cleanprod_kit.outbox import EventConsumer, EventEnvelope, OutboxDispatcher, emit, http_deliverer
from cleanprod_kit.settings import ServiceSettings
from cleanprod_kit.testing.fixtures import running, service_settings_for
from cleanprod_kit.testing.issuer import TestIssuer

URL = "http://testserver/internal/events"


def envelope(event_type: str, aggregate_id: str, **data: Any) -> EventEnvelope:
    return EventEnvelope(
        id=uuid.uuid4(), seq=1, type=event_type, aggregate_type="application", aggregate_id=aggregate_id,
        occurred_at=utcnow(), source="applications", data=data,
    )  # fmt: skip


def body(*envelopes: EventEnvelope) -> dict[str, Any]:
    return {"events": [e.model_dump(mode="json") for e in envelopes]}


async def _clear(database: Database) -> None:
    async with database.session() as session:
        await session.exec(text("DELETE FROM outbox_events"))  # type: ignore[call-overload]
        await session.exec(text("DELETE FROM processed_events"))  # type: ignore[call-overload]
        await session.commit()


class Consumer:
    """A kit consumer app whose handler records what it applied and fails the events marked `fail`."""

    def __init__(self) -> None:
        self.applied: list[tuple[str, Any]] = []
        self.failing = True
        self.consumer = EventConsumer()

        @self.consumer.on("application.approved")
        async def approved(session: Any, envelope: EventEnvelope) -> None:
            if envelope.data.get("fail") and self.failing:
                raise RuntimeError("the handler broke")
            self.applied.append((envelope.aggregate_id, envelope.data.get("n")))


@pytest.fixture
async def consumer_app(kit_db_url: str, database: Database, issuer: TestIssuer) -> AsyncIterator[Any]:
    await _clear(database)
    consumer = Consumer()
    settings = ServiceSettings(**service_settings_for(issuer, database_url=kit_db_url))
    app = create_service_app(settings, title="consumer", routers=[], consumer=consumer.consumer)
    async with running(app) as http:
        http.headers["Authorization"] = f"Bearer {issuer.client_token('svc-applications', 'service')}"
        yield consumer, http
    await _clear(database)


async def _processed(database: Database) -> set[uuid.UUID]:
    async with database.session() as session:
        return {row.event_id for row in (await session.exec(text("SELECT event_id FROM processed_events"))).all()}  # type: ignore[call-overload]


async def test_the_batch_endpoint_answers_per_event_and_a_failure_stops_only_its_aggregate(
    consumer_app: Any, database: Database, issuer: TestIssuer
) -> None:
    consumer, http = consumer_app
    a1, a2, a3 = (
        envelope("application.approved", "A", n=1),
        envelope("application.approved", "A", n=2, fail=True),
        (envelope("application.approved", "A", n=3)),
    )
    b1, b2 = envelope("application.approved", "B", n=1), envelope("application.approved", "B", n=2)
    forged = envelope("verification.concluded", "C")  # not the applications service's to publish
    unhandled = envelope("application.submitted", "D")  # recorded, no handler (as the one-event endpoint)
    response = await http.post(f"{URL}/batch", json=body(a1, b1, a2, b2, a3, forged, b1, unhandled))
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["id"], r["result"]) for r in results] == [
        (str(a1.id), "applied"),
        (str(b1.id), "applied"),
        (str(a2.id), "failed"),
        (str(b2.id), "applied"),  # another aggregate goes on
        (str(a3.id), "skipped"),  # behind its aggregate's failure: order kept
        (str(forged.id), "failed"),
        (str(b1.id), "duplicate"),  # once by id, within a batch too
        (str(unhandled.id), "applied"),
    ]
    assert (results[2]["status"], results[2]["code"]) == (500, "internal_error")
    assert (results[5]["status"], results[5]["code"]) == (403, "event_publisher_not_allowed")
    assert consumer.applied == [("A", 1), ("B", 1), ("B", 2)]
    assert await _processed(database) == {a1.id, b1.id, b2.id, unhandled.id}  # nothing of the failed or skipped

    consumer.failing = False  # the retry, as the dispatcher sends it: from the failed event on
    again = await http.post(f"{URL}/batch", json=body(a2, a3))
    assert [r["result"] for r in again.json()["results"]] == ["applied", "applied"]
    assert consumer.applied[-2:] == [("A", 2), ("A", 3)]

    officer = {"Authorization": f"Bearer {issuer.token('officer')}"}
    assert (await http.post(f"{URL}/batch", json=body(b1), headers=officer)).status_code == 403
    del http.headers["Authorization"]
    assert (await http.post(f"{URL}/batch", json=body(b1))).status_code == 401
    http.headers["Authorization"] = f"Bearer {issuer.client_token('svc-applications', 'service')}"
    refused = await http.post(f"{URL}/batch", json={"events": [{"id": "not an envelope"}]})
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"


class Counting:
    """The in-process client, counting the pushes by URL."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.pushes: list[str] = []

    async def get(self, url: str) -> httpx.Response:
        return await self.http.get(url)

    async def post(self, url: str, **kw: Any) -> httpx.Response:
        self.pushes.append(url)
        return await self.http.post(url, **kw)


async def _emit(database: Database, events: list[tuple[str, dict[str, Any]]]) -> list[uuid.UUID]:
    async with database.session() as session:
        ids = [
            emit(session, "application.approved", aggregate_type="application", aggregate_id=agg, payload=data).id
            for agg, data in events
        ]
        await session.commit()
    return ids


async def test_the_dispatcher_pushes_a_claim_in_one_request_and_publishes_what_was_accepted(
    consumer_app: Any, database: Database
) -> None:
    consumer, http = consumer_app
    counting = Counting(http)
    ids = await _emit(
        database, [("A", {"n": 1}), ("B", {"n": 1}), ("A", {"n": 2, "fail": True}), ("B", {"n": 2}), ("A", {"n": 3})]
    )
    dispatcher = OutboxDispatcher(database, "applications", http_deliverer([URL], lambda: counting))
    assert await dispatcher.run_once() == 3
    assert counting.pushes == [f"{URL}/batch"]  # five events, one request
    assert consumer.applied == [("A", 1), ("B", 1), ("B", 2)]
    async with database.session() as session:
        rows = {e.id: e for e in (await session.exec(text("SELECT * FROM outbox_events"))).all()}  # type: ignore[call-overload]
    assert [rows[i].published_at is not None for i in ids] == [True, True, False, True, False]
    assert rows[ids[2]].attempts == 1 and "failed: 500 internal_error" in rows[ids[2]].last_error
    assert rows[ids[4]].attempts == 0  # not tried: it waits behind the failed one

    consumer.failing = False
    async with database.session() as session:
        failed = await session.get(OutboxEvent, ids[2])
        assert failed is not None
        failed.next_attempt_at = None  # skip the back-off wait
        await session.commit()
    assert await dispatcher.run_once() == 2
    assert consumer.applied[-2:] == [("A", 2), ("A", 3)] and len(counting.pushes) == 2
    assert await _processed(database) == set(ids)


class Subscribers:
    """A stand-in HTTP client for several subscribers: the types each declares, whether it has the batch endpoint
    (`None`: 404, an older version; an int: that status), and every POST it received."""

    def __init__(self, declared: dict[str, list[str]], batch: dict[str, int | None]) -> None:
        self.declared, self.batch = declared, batch
        self.posts: list[tuple[str, list[str]]] = []

    async def get(self, url: str) -> httpx.Response:
        return httpx.Response(200, json={"types": self.declared[url]})

    async def post(self, url: str, json: dict[str, Any]) -> httpx.Response:
        if url.endswith("/batch"):
            base = url.removesuffix("/batch")
            self.posts.append((url, [e["data"]["n"] for e in json["events"]]))
            status = self.batch[base]
            if status is not None and status < 300:
                return httpx.Response(
                    200, json={"results": [{"id": e["id"], "result": "applied"} for e in json["events"]]}
                )
            return httpx.Response(status or 404, json={})
        self.posts.append((url, [json["data"]["n"]]))
        return httpx.Response(200, json={"id": json["id"], "duplicate": False})


async def test_a_subscriber_without_the_batch_endpoint_is_pushed_one_by_one_and_types_still_filter(
    database: Database,
) -> None:
    await _clear(database)
    new, old, big = "http://new/internal/events", "http://old/internal/events", "http://big/internal/events"
    client = Subscribers(
        {new: ["application.approved"], old: ["application.approved", "call.created"], big: ["call.created"]},
        {new: 200, old: None, big: 413},
    )
    deliver = http_deliverer([new, old, big], lambda: client)
    dispatcher = OutboxDispatcher(database, "applications", deliver)
    await _emit(database, [("A", {"n": 1}), ("B", {"n": 2})])
    async with database.session() as session:
        emit(session, "call.created", aggregate_type="call", aggregate_id="C", payload={"n": 3})
        await session.commit()
    assert await dispatcher.run_once() == 3
    assert sorted(client.posts) == sorted(
        [
            (f"{new}/batch", [1, 2]),  # only the types it consumes
            (f"{old}/batch", [1, 2, 3]),  # 404: an older version ...
            (old, [1]),  # ... pushed one by one
            (old, [2]),
            (old, [3]),
            (f"{big}/batch", [3]),  # 413: too large a batch for it, one by one too
            (big, [3]),
        ]
    )
    client.posts.clear()
    await _emit(database, [("A", {"n": 4})])
    assert await dispatcher.run_once() == 1
    assert sorted(client.posts) == [(f"{new}/batch", [4]), (old, [4])]  # the 404 is remembered (TTL)


async def test_a_subscriber_that_refuses_the_batch_fails_each_aggregates_head(database: Database) -> None:
    await _clear(database)
    down = "http://down/internal/events"
    client = Subscribers({down: ["application.approved"]}, {down: 503})
    dispatcher = OutboxDispatcher(database, "applications", http_deliverer([down], lambda: client))
    ids = await _emit(database, [("A", {"n": 1}), ("A", {"n": 2}), ("B", {"n": 3})])
    assert await dispatcher.run_once() == 0
    async with database.session() as session:
        rows = {e.id: e for e in (await session.exec(text("SELECT * FROM outbox_events"))).all()}  # type: ignore[call-overload]
    assert [rows[i].attempts for i in ids] == [1, 0, 1]  # each aggregate's head failed, its follower waits
    assert "answered 503" in rows[ids[0]].last_error and rows[ids[0]].next_attempt_at is not None
    assert all(row.published_at is None for row in rows.values())
    async with database.session() as session:
        assert await session.get(ProcessedEvent, ids[0]) is None
