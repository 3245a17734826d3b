"""Transactional outbox: events written with the state change are delivered at least once, in order, retried
after failures, and never handed to two dispatchers at the same time; consumers apply each event once."""

from __future__ import annotations

import asyncio
import random
import uuid

import psycopg
import pytest
from sqlalchemy import text

from cleanprod_kit.db import Database, release
from cleanprod_kit.models import OutboxEvent
from cleanprod_kit.outbox import EventConsumer, EventEnvelope, OutboxDispatcher, backoff_seconds, emit, queue_event


async def _clear(database: Database) -> None:
    async with database.session() as session:
        await session.exec(text("DELETE FROM outbox_events"))  # type: ignore[call-overload]
        await session.exec(text("DELETE FROM processed_events"))  # type: ignore[call-overload]
        await session.commit()


async def _emit(database: Database, count: int, aggregate: str = "a-1") -> list[uuid.UUID]:
    ids = []
    async with database.session() as session:
        for i in range(count):
            ids.append(
                emit(
                    session,
                    "thing.happened",
                    aggregate_type="thing",
                    aggregate_id=aggregate,
                    payload={"n": i, "text": "Hà Nội"},
                ).id
            )
        await session.commit()
    return ids


def _envelope(event_type: str, *, seq: int, aggregate_id: str) -> EventEnvelope:
    return EventEnvelope(
        id=uuid.uuid4(),
        seq=seq,
        type=event_type,
        aggregate_type="thing",
        aggregate_id=aggregate_id,
        occurred_at="2026-11-28T10:00:00Z",
        source="test",
        data={},
    )


async def _assert_applied_once(database: Database, consumer: EventConsumer, envelope: EventEnvelope) -> None:
    """The first delivery is applied; the same event delivered again is recognised as a duplicate."""
    async with database.session() as session:
        assert await consumer.handle(session, envelope) is True
    async with database.session() as session:
        assert await consumer.handle(session, envelope) is False


async def test_events_are_delivered_in_order_and_marked(database: Database) -> None:
    await _clear(database)
    ids = await _emit(database, 5)
    received: list[EventEnvelope] = []

    async def deliver(envelope: EventEnvelope) -> None:
        received.append(envelope)

    dispatcher = OutboxDispatcher(database, "test", deliver)
    assert await dispatcher.run_once() == 5
    assert [e.id for e in received] == ids
    assert [e.data["n"] for e in received] == [0, 1, 2, 3, 4]
    assert received[0].data["text"] == "Hà Nội" and received[0].seq < received[-1].seq
    assert await dispatcher.run_once() == 0  # nothing delivered twice once published


async def test_a_failure_stops_the_batch_and_is_retried_later(database: Database) -> None:
    await _clear(database)
    ids = await _emit(database, 3)
    attempts: list[uuid.UUID] = []
    fail = {ids[1]}

    async def deliver(envelope: EventEnvelope) -> None:
        attempts.append(envelope.id)
        if envelope.id in fail:
            raise ConnectionError("receiver down")

    dispatcher = OutboxDispatcher(database, "test", deliver)
    assert await dispatcher.run_once() == 1
    assert attempts == ids[:2]  # the third waits behind the failed second: order is kept
    async with database.session() as session:
        failed = await session.get(OutboxEvent, ids[1])
        assert failed is not None and failed.published_at is None and failed.attempts == 1
        assert "receiver down" in (failed.last_error or "")
        failed.next_attempt_at = None  # skip the back-off wait
        await session.commit()
    fail.clear()
    assert await dispatcher.run_once() == 2
    assert attempts[-2:] == ids[1:]


async def test_two_dispatchers_never_hold_the_same_event(database: Database) -> None:
    await _clear(database)
    await _emit(database, 40)
    in_flight: set[uuid.UUID] = set()
    delivered: list[uuid.UUID] = []
    overlaps = 0

    async def deliver(envelope: EventEnvelope) -> None:
        nonlocal overlaps
        if envelope.id in in_flight:
            overlaps += 1
        in_flight.add(envelope.id)
        await asyncio.sleep(0.005)
        in_flight.discard(envelope.id)
        delivered.append(envelope.id)

    first = OutboxDispatcher(database, "one", deliver, batch_size=10)
    second = OutboxDispatcher(database, "two", deliver, batch_size=10)
    while True:
        counts = await asyncio.gather(first.run_once(), second.run_once())
        if sum(counts) == 0:
            break
    assert overlaps == 0
    assert len(delivered) == 40 and len(set(delivered)) == 40


async def test_no_transaction_is_open_while_a_subscriber_is_called(database: Database, sync_dsn) -> None:
    """The batch is claimed and committed before delivery, and settled after it (issue 12: no HTTP call inside a
    transaction); the claim keeps a second dispatcher off the events meanwhile."""
    await _clear(database)
    ids = await _emit(database, 3)
    seen: list[int] = []

    async def deliver(envelope: EventEnvelope) -> None:
        with psycopg.connect(sync_dsn()) as watcher:
            seen.append(
                watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
                ).fetchone()[0]
            )
        assert await OutboxDispatcher(database, "other", lambda e: asyncio.sleep(0)).run_once() == 0

    assert await OutboxDispatcher(database, "test", deliver).run_once() == 3
    assert seen == [0, 0, 0]
    async with database.session() as session:
        for event_id in ids:
            event = await session.get(OutboxEvent, event_id)
            assert event is not None and event.published_at is not None and event.attempts == 1


async def test_a_dispatcher_stopped_mid_batch_gives_the_rest_back(database: Database) -> None:
    await _clear(database)
    ids = await _emit(database, 3)
    delivered: list[uuid.UUID] = []
    started = asyncio.Event()

    async def slow(envelope: EventEnvelope) -> None:
        if delivered:
            started.set()
            await asyncio.sleep(30)
        delivered.append(envelope.id)

    task = asyncio.create_task(OutboxDispatcher(database, "test", slow).run_once())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    received: list[uuid.UUID] = []

    async def deliver(envelope: EventEnvelope) -> None:
        received.append(envelope.id)

    assert await OutboxDispatcher(database, "test", deliver).run_once() == 2  # not after the claim expired
    assert received == ids[1:]


async def test_consumer_applies_each_event_once(database: Database) -> None:
    consumer = EventConsumer()
    applied: list[str] = []

    @consumer.on("thing.happened")
    async def handle(session, envelope: EventEnvelope) -> None:  # type: ignore[no-untyped-def]
        applied.append(str(envelope.id))

    envelope = _envelope("thing.happened", seq=1, aggregate_id="x")
    await _assert_applied_once(database, consumer, envelope)
    assert applied == [str(envelope.id)]


async def test_fetch_runs_outside_the_transaction_and_reaches_the_handler_once(database: Database) -> None:
    """`on(..., fetch=...)`: what other services must say is fetched with no transaction open (it may have read
    first and released), its result is the handler's third argument, and a duplicate is recognised before it."""
    consumer = EventConsumer()
    fetches: list[bool] = []
    handled: list[tuple[str, bool]] = []

    async def fetch(session, envelope: EventEnvelope) -> str:  # type: ignore[no-untyped-def]
        await session.exec(text("SELECT 1"))  # a read, as a fetch may make, then released before calling out
        await release(session)
        fetches.append(session.in_transaction())
        return f"facts of {envelope.aggregate_id}"

    @consumer.on("thing.fetched", fetch=fetch)
    async def handle(session, envelope: EventEnvelope, fetched: str) -> None:  # type: ignore[no-untyped-def]
        handled.append((fetched, session.in_transaction()))

    envelope = _envelope("thing.fetched", seq=3, aggregate_id="y")
    await _assert_applied_once(database, consumer, envelope)
    assert fetches == [False]
    assert handled == [("facts of y", True)]


async def test_release_refuses_a_session_with_unsaved_changes(database: Database) -> None:
    async with database.session() as session:
        emit(session, "not.saved", aggregate_type="thing", aggregate_id="z", payload={})
        with pytest.raises(RuntimeError):
            await release(session)
        await session.rollback()
    async with database.session() as session:
        queue_event(session, "not.saved", aggregate_type="thing", aggregate_id="z", payload={})
        with pytest.raises(RuntimeError):  # its commit would write the queued event before the change is done
            await release(session)
        await session.rollback()


async def test_handler_failure_leaves_no_trace_so_a_retry_applies_it(database: Database) -> None:
    consumer = EventConsumer()
    calls = 0

    @consumer.on("flaky")
    async def handle(session, envelope: EventEnvelope) -> None:  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("not yet")

    envelope = _envelope("flaky", seq=2, aggregate_id="x")
    async with database.session() as session:
        try:
            await consumer.handle(session, envelope)
            raise AssertionError("the handler error should propagate")
        except RuntimeError:
            await session.rollback()
    async with database.session() as session:
        assert await consumer.handle(session, envelope) is True
    assert calls == 2


def test_backoff_grows_and_is_capped() -> None:
    assert all(0 <= backoff_seconds(1) <= 0.5 for _ in range(50))
    assert all(0 <= backoff_seconds(30, cap=60) <= 60 for _ in range(50))
    assert max(backoff_seconds(6) for _ in range(200)) > 2  # full jitter up to 0.5·2^5 = 16 s


async def test_emit_takes_part_in_the_callers_transaction(database: Database, sync_dsn) -> None:
    await _clear(database)
    async with database.session() as session:
        emit(session, "rolled.back", aggregate_type="thing", aggregate_id="z", payload={})
        await session.rollback()
    with psycopg.connect(sync_dsn()) as conn:
        assert conn.execute("SELECT count(*) FROM outbox_events").fetchone() == (0,)


class OrderWatch:
    """A subscriber shared by several dispatchers that records, per aggregate, what was attempted and what was
    accepted, and any two deliveries of one aggregate (or one event) in flight at once. It answers after a random
    delay and fails a share of attempts at random, as a flaky receiver would."""

    def __init__(self, fail_ratio: float, max_delay: float) -> None:
        self.fail_ratio = fail_ratio
        self.max_delay = max_delay
        self.in_flight: set[str] = set()
        self.overlaps: list[str] = []
        self.attempted: dict[str, list[int]] = {}
        self.accepted: dict[str, list[int]] = {}
        self.failures = 0
        self.rng = random.Random(11)

    async def deliver(self, envelope: EventEnvelope) -> None:
        aggregate = envelope.aggregate_id
        if aggregate in self.in_flight:
            self.overlaps.append(aggregate)
        self.in_flight.add(aggregate)
        self.attempted.setdefault(aggregate, []).append(envelope.seq)
        try:
            await asyncio.sleep(self.rng.uniform(0, self.max_delay))
            if self.rng.random() < self.fail_ratio:
                self.failures += 1
                raise ConnectionError("receiver answered 503")
            self.accepted.setdefault(aggregate, []).append(envelope.seq)
        finally:
            self.in_flight.discard(aggregate)


async def _emit_interleaved(database: Database, aggregates: list[str], per_aggregate: int) -> dict[str, list[int]]:
    """Events of several aggregates, interleaved across transactions; returns each aggregate's seqs in order (of
    every event in the outbox)."""
    rng = random.Random(5)
    pending = [a for a in aggregates for _ in range(per_aggregate)]
    rng.shuffle(pending)
    for start in range(0, len(pending), 7):
        await _emit_mixed(database, pending[start : start + 7])
    async with database.session() as session:
        rows = (
            await session.exec(text("SELECT aggregate_id, seq FROM outbox_events ORDER BY seq"))  # type: ignore[call-overload]
        ).all()
    expected: dict[str, list[int]] = {}
    for aggregate, seq in rows:
        expected.setdefault(aggregate, []).append(seq)
    return expected


async def _emit_mixed(database: Database, aggregates: list[str]) -> None:
    async with database.session() as session:
        for aggregate in aggregates:
            emit(session, "thing.happened", aggregate_type="thing", aggregate_id=aggregate, payload={"a": aggregate})
        await session.commit()


async def test_several_dispatchers_keep_order_per_aggregate_with_failures(kit_db_url: str, database: Database) -> None:
    """Four dispatchers, each with its own connection pool (as four replicas would have), over 600 events of 12
    aggregates, with random delays and one attempt in five failing: each aggregate's events are accepted exactly
    in seq order, an event is tried only once every earlier one of its aggregate was accepted, two events of one
    aggregate are never in flight together, and nothing is lost. New events keep arriving while they run."""
    await _clear(database)
    aggregates = [f"dossier-{n:02d}" for n in range(12)]
    expected = await _emit_interleaved(database, aggregates, 25)
    watch = OrderWatch(fail_ratio=0.2, max_delay=0.004)
    pools = [Database(kit_db_url, pool_size=2, max_overflow=2) for _ in range(4)]
    dispatchers = [
        OutboxDispatcher(
            pool, f"replica-{n}", watch.deliver, batch_size=20, retry_base_seconds=0.01, retry_cap_seconds=0.05
        )
        for n, pool in enumerate(pools)
    ]
    try:
        for dispatcher in dispatchers:
            dispatcher.poll_seconds = 0.02
            dispatcher.start()
        expected = await _emit_interleaved(database, aggregates, 25)  # more while they deliver: now all 600
        total = sum(len(seqs) for seqs in expected.values())
        assert total == 600
        deadline = asyncio.get_running_loop().time() + 60
        while sum(len(v) for v in watch.accepted.values()) < total:
            assert asyncio.get_running_loop().time() < deadline, "not everything was delivered in time"
            await asyncio.sleep(0.05)
    finally:
        for dispatcher in dispatchers:
            await dispatcher.stop()
        for pool in pools:
            await pool.dispose()
    assert watch.failures > 50, "the failure injection did not happen"
    assert watch.overlaps == [], "two events of one aggregate were in flight at the same time"
    assert watch.accepted == expected  # in seq order, none lost, none accepted twice
    for aggregate, attempts in watch.attempted.items():
        # Retries repeat the failed event; no later one is attempted before it.
        assert attempts == sorted(attempts), f"{aggregate}: a later event was attempted before an earlier one"
    async with database.session() as session:
        left = (
            await session.exec(text("SELECT count(*) FROM outbox_events WHERE published_at IS NULL"))  # type: ignore[call-overload]
        ).one()
    assert left == (0,)


async def test_a_failing_aggregate_blocks_only_itself(database: Database) -> None:
    await _clear(database)
    await _emit_mixed(database, ["stuck", "fine", "stuck", "fine", "fine", "stuck"])
    accepted: list[tuple[str, int]] = []

    async def deliver(envelope: EventEnvelope) -> None:
        if envelope.aggregate_id == "stuck":
            raise ConnectionError("receiver of this dossier is down")
        accepted.append((envelope.aggregate_id, envelope.seq))

    dispatcher = OutboxDispatcher(database, "test", deliver, retry_base_seconds=0.01, retry_cap_seconds=0.01)
    assert await dispatcher.run_once() == 3
    await asyncio.sleep(0.03)
    assert await dispatcher.run_once() == 0  # the stuck head is retried; its followers wait behind it
    assert [a for a, _ in accepted] == ["fine"] * 3 and [s for _, s in accepted] == sorted(s for _, s in accepted)
    async with database.session() as session:
        rows = (
            await session.exec(
                text(  # type: ignore[call-overload]
                    "SELECT attempts, published_at IS NULL FROM outbox_events WHERE aggregate_id = 'stuck' ORDER BY seq"
                )
            )
        ).all()
    assert [tuple(r) for r in rows] == [(2, True), (0, True), (0, True)]  # only the head was tried, twice


async def test_a_chain_stops_at_half_its_lease_and_gives_the_rest_back(database: Database) -> None:
    """A slow subscriber: no event is started after half the lease (waiting for a delivery slot counts too), so
    the lease cannot run out under a delivery still going; what was not started is due again at once, in order."""
    await _clear(database)
    await _emit_mixed(database, ["slow", "slow", "slow", "other", "other"])
    attempted: list[tuple[str, int]] = []

    async def deliver(envelope: EventEnvelope) -> None:
        attempted.append((envelope.aggregate_id, envelope.seq))
        await asyncio.sleep(0.15)

    dispatcher = OutboxDispatcher(database, "test", deliver, claim_seconds=0.4, concurrency=1)
    assert await dispatcher.run_once() == 2  # "slow": two started within 0.2 s; "other" waited for the slot
    assert [a for a, _ in attempted] == ["slow", "slow"]
    while await dispatcher.run_once():
        pass
    assert [a for a, _ in attempted].count("slow") == 3 and [a for a, _ in attempted].count("other") == 2
    for aggregate in ("slow", "other"):
        seqs = [s for a, s in attempted if a == aggregate]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)  # in order, none twice
