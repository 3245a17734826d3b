"""Events no subscriber consumes are marked published by the claim itself (issue 16: every event of create +
submit), once the dispatcher knows what its subscribers consume; an aggregate with anything to deliver is claimed,
pushed and settled as before, in order; two dispatchers never mark an event twice."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import text

from cleanprod_kit.db import Database
from cleanprod_kit.outbox import OutboxDispatcher, emit, http_deliverer

URL = "http://verification/internal/events"


class Subscriber:
    """A stand-in HTTP client: the subscriber consumes `application.approved` only and records every batch."""

    def __init__(self) -> None:
        self.asked = 0
        self.batches: list[list[tuple[str, int]]] = []

    async def get(self, url: str) -> httpx.Response:
        self.asked += 1
        return httpx.Response(200, json={"types": ["application.approved"]})

    async def post(self, url: str, json: dict[str, Any]) -> httpx.Response:
        self.batches.append([(e["type"], e["data"]["n"]) for e in json["events"]])
        return httpx.Response(200, json={"results": [{"id": e["id"], "result": "applied"} for e in json["events"]]})


async def _clear(database: Database) -> None:
    async with database.session() as session:
        await session.exec(text("DELETE FROM outbox_events"))  # type: ignore[call-overload]
        await session.commit()


async def _emit(database: Database, events: list[tuple[str, str, int]]) -> list[uuid.UUID]:
    async with database.session() as session:
        ids = [
            emit(session, kind, aggregate_type="application", aggregate_id=agg, payload={"n": n}).id
            for agg, kind, n in events
        ]
        await session.commit()
    return ids


async def _rows(database: Database) -> dict[uuid.UUID, Any]:
    async with database.session() as session:
        return {r.id: r for r in (await session.exec(text("SELECT * FROM outbox_events"))).all()}  # type: ignore[call-overload]


async def test_events_nobody_consumes_are_marked_in_the_claim_and_pushed_to_nobody(database: Database) -> None:
    await _clear(database)
    client = Subscriber()
    dispatcher = OutboxDispatcher(database, "applications", http_deliverer([URL], lambda: client))
    # Before the subscriber has said what it consumes, every event is claimed and pushed as before.
    await _emit(database, [("W", "application.submitted", 0)])
    assert await dispatcher.run_once() == 1 and client.asked == 1 and client.batches == []
    quiet = await _emit(database, [("Q", "application.submitted", 1), ("Q", "application.screened", 2)])
    mixed = await _emit(database, [("M", "application.submitted", 3), ("M", "application.approved", 4)])
    assert await dispatcher.run_once() == 4
    assert client.batches == [[("application.approved", 4)]]  # only what it consumes; Q was not pushed at all
    rows = await _rows(database)
    assert all(rows[i].published_at is not None and rows[i].attempts == 1 for i in quiet + mixed)
    assert [rows[i].next_attempt_at for i in quiet] == [None, None]  # never leased: marked in the claim
    assert rows[mixed[0]].next_attempt_at is not None  # M's head was leased, pushed, settled
    assert client.asked == 1  # the claim used the answer it had; nothing asked again
    assert await dispatcher.run_once() == 0


async def test_a_quiet_aggregate_waits_behind_an_undelivered_event_of_its_own(database: Database) -> None:
    await _clear(database)
    client = Subscriber()
    dispatcher = OutboxDispatcher(database, "applications", http_deliverer([URL], lambda: client), batch_size=1)
    await _emit(database, [("W", "application.approved", 0)])
    assert await dispatcher.run_once() == 1  # the subscriber has now said what it consumes
    first, later = await _emit(database, [("A", "application.approved", 1), ("A", "application.submitted", 2)])
    async with database.session() as session:  # the head failed earlier and is backing off
        backing_off = text("UPDATE outbox_events SET next_attempt_at = now() + interval '1 hour' WHERE id = :id")
        await session.exec(backing_off.bindparams(id=first))  # type: ignore[call-overload]
        await session.commit()
    assert await dispatcher.run_once() == 0
    rows = await _rows(database)
    assert rows[later].published_at is None  # not marked ahead of the event before it


async def test_two_dispatchers_mark_each_unconsumed_event_once_in_order(database: Database) -> None:
    await _clear(database)
    client = Subscriber()
    deliver = http_deliverer([URL], lambda: client)
    await _emit(database, [("W", "application.approved", 0)])
    assert await OutboxDispatcher(database, "applications", deliver).run_once() == 1
    events = [(f"agg-{a}", "application.submitted", n) for n in range(3) for a in range(20)]
    await _emit(database, events)
    first, second = (OutboxDispatcher(database, "applications", deliver, batch_size=7) for _ in range(2))
    total = 0
    while counts := sum(await asyncio.gather(first.run_once(), second.run_once())):
        total += counts
    assert total == 60
    rows = sorted((await _rows(database)).values(), key=lambda r: r.seq)
    assert all(r.published_at is not None and r.attempts == 1 for r in rows)
    for aggregate in {r.aggregate_id for r in rows}:
        marked = [r.published_at for r in rows if r.aggregate_id == aggregate]
        assert marked == sorted(marked)  # each aggregate's events marked in seq order
