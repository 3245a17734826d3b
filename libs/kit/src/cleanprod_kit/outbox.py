"""Transactional outbox: `emit` writes the event row in the caller's transaction; `OutboxDispatcher` delivers
pending rows at least once, in `seq` order per aggregate, to every subscriber, retrying with back-off; consumers
de-duplicate by event id (`EventConsumer`). A claimed batch goes to each subscriber in one request
(`POST …/internal/events/batch`), one by one to a subscriber without that endpoint. Any number of dispatcher replicas may run: each aggregate's events are delivered
in `seq` order, one at a time, by whichever replica holds the aggregate's earliest pending event (see below).
A consumer accepts an event only from the service account of its publisher (`publishers.py`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Boolean, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, TEXT, UUID
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from . import guard_codes
from .auth import CurrentPrincipal, Principal
from .db import Database, database_unavailable, get_session, release
from .errors import Problem
from .ids import uuid7
from .json_values import jsonable
from .models import OutboxEvent, ProcessedEvent, utcnow
from .publishers import accepted_source, ensure_service_account, merged_clients
from .requestid import current_request_id
from .rows import queue_row
from .subscriptions import Subscriptions

log = logging.getLogger("cleanprod.outbox")


def event_row(event_type: str, *, aggregate_type: str, aggregate_id: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """One outbox event's column values (its `seq` and `txid` are given by PostgreSQL on insert)."""
    return {
        "id": uuid7(),
        "event_type": event_type,
        "aggregate_type": aggregate_type,
        "aggregate_id": str(aggregate_id),
        "payload": jsonable(payload),
        "occurred_at": utcnow(),
        "request_id": current_request_id(),
        "published_at": None,
        "attempts": 0,
        "next_attempt_at": None,
        "last_error": None,
    }


def emit(
    session: AsyncSession, event_type: str, *, aggregate_type: str, aggregate_id: Any, payload: dict[str, Any]
) -> OutboxEvent:
    """Add the event to `session` as an ORM row (in the caller's transaction)."""
    event = OutboxEvent(
        **event_row(event_type, aggregate_type=aggregate_type, aggregate_id=aggregate_id, payload=payload)
    )
    session.add(event)
    return event


@dataclass(frozen=True)
class QueuedEvent:
    """An event `queue_event` will write at commit: what the code after it reads (the names of `OutboxEvent`)."""

    id: uuid.UUID
    event_type: str
    aggregate_type: str
    aggregate_id: str
    payload: dict[str, Any]
    occurred_at: dt.datetime
    request_id: str | None


def queue_event(
    session: AsyncSession, event_type: str, *, aggregate_type: str, aggregate_id: Any, payload: dict[str, Any]
) -> QueuedEvent:
    """Like `emit`, but the row is written with the session's other queued rows in one statement at commit
    (`rows.py`), not as an ORM object: what a hot write path uses."""
    row = event_row(event_type, aggregate_type=aggregate_type, aggregate_id=aggregate_id, payload=payload)
    queue_row(session, OUTBOX_TABLE, row)
    return QueuedEvent(**{name: row[name] for name in QueuedEvent.__dataclass_fields__})


OUTBOX_TABLE = OutboxEvent.__table__  # type: ignore[attr-defined]


class EventEnvelope(BaseModel):
    """What travels between services (and to webhooks)."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    seq: int
    type: str
    aggregate_type: str
    aggregate_id: str
    occurred_at: dt.datetime
    request_id: str | None = None
    # Set by the sender for logs; a consumer replaces it with the publisher its token proves (publishers.py).
    source: str = ""
    data: dict[str, Any]

    @classmethod
    def of(cls, event: OutboxEvent | ClaimedEvent, source: str) -> EventEnvelope:
        return cls(
            id=event.id,
            seq=event.seq or 0,
            type=event.event_type,
            aggregate_type=event.aggregate_type,
            aggregate_id=event.aggregate_id,
            occurred_at=event.occurred_at,
            request_id=event.request_id,
            source=source,
            data=event.payload,
        )


@dataclass(frozen=True)
class ClaimedEvent(QueuedEvent):
    """An event the dispatcher claimed (the row as the claim read it): what delivering and settling it need — the
    queued event's columns and the `seq` PostgreSQL gave it."""

    seq: int


# One statement, autocommitted, claims a batch (issue 16: it was BEGIN, the heads, the followers, an UPDATE per
# head and COMMIT). `heads`: due events with no earlier unpublished event of their aggregate, locked SKIP LOCKED,
# with their `next_attempt_at` before the claim (`due`, to give an untried head back as it was); `followers`: the
# held aggregates' next unpublished events, as many as the batch has room for — no lock needed, nobody else can
# claim them while we hold their heads. When the dispatcher knows which event types its subscribers consume
# (`:knowing`, `:consumed`: a fresh answer of every one, `HttpDeliverer.consumed_types`), a held aggregate whose
# claimed events are all of types nobody consumes has nothing to deliver: those events are marked published here
# (`quiet`, `marked`) instead of being leased, pushed to nobody and marked after (every event of create + submit).
# Its head is locked by this statement until it commits, so no other dispatcher takes any of them meanwhile, and
# what the aggregate has beyond the claim becomes its head afterwards, in order. Every other head is leased
# `lease` ahead. Every claimed row is answered, in `seq` order, `published` saying which were marked (their
# payload is not sent back).
CLAIM_SQL = text("""
WITH heads AS (
    SELECT o.id, o.seq, o.event_type, o.aggregate_type, o.aggregate_id, o.payload, o.occurred_at, o.request_id,
           o.next_attempt_at AS due
    FROM outbox_events o
    WHERE o.published_at IS NULL AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= :now)
      AND NOT EXISTS (
          SELECT 1 FROM outbox_events e
          WHERE e.aggregate_type = o.aggregate_type AND e.aggregate_id = o.aggregate_id
            AND e.published_at IS NULL AND e.seq < o.seq)
    ORDER BY o.seq LIMIT :batch
    FOR UPDATE OF o SKIP LOCKED
), followers AS (
    SELECT f.id, f.seq, f.event_type, f.aggregate_type, f.aggregate_id, f.payload, f.occurred_at, f.request_id,
           f.next_attempt_at AS due
    FROM outbox_events f
    WHERE f.published_at IS NULL
      AND (f.aggregate_type, f.aggregate_id) IN (SELECT aggregate_type, aggregate_id FROM heads)
      AND f.id NOT IN (SELECT id FROM heads)
    ORDER BY f.seq LIMIT greatest(:batch - (SELECT count(*) FROM heads), 0)
), chain AS (
    SELECT *, true AS head FROM heads UNION ALL SELECT *, false AS head FROM followers
), quiet AS (
    SELECT aggregate_type, aggregate_id FROM chain GROUP BY aggregate_type, aggregate_id
    HAVING :knowing AND bool_and(event_type <> ALL(:consumed))
), marked AS (
    UPDATE outbox_events o SET published_at = :now, attempts = o.attempts + 1
    FROM chain c
    WHERE o.id = c.id AND o.published_at IS NULL AND (c.aggregate_type, c.aggregate_id) IN (SELECT * FROM quiet)
    RETURNING o.id
), leased AS (
    UPDATE outbox_events o SET next_attempt_at = :lease
    FROM chain c WHERE o.id = c.id AND c.head AND (c.aggregate_type, c.aggregate_id) NOT IN (SELECT * FROM quiet)
    RETURNING o.id
)
SELECT c.id, c.seq, c.event_type, c.aggregate_type, c.aggregate_id, c.occurred_at, c.request_id, c.due, c.head,
       q.aggregate_id IS NOT NULL AS published, CASE WHEN q.aggregate_id IS NULL THEN c.payload END AS payload
FROM chain c LEFT JOIN quiet q ON (q.aggregate_type, q.aggregate_id) = (c.aggregate_type, c.aggregate_id)
ORDER BY c.seq
""").bindparams(bindparam("knowing", type_=Boolean), bindparam("consumed", type_=ARRAY(TEXT)))

# The delivered events of a claim, in one autocommitted statement (one array parameter: one prepared statement
# whatever the batch's size, where an IN list was a new statement for every length).
PUBLISHED_SQL = text("""
UPDATE outbox_events SET published_at = :now, attempts = attempts + 1
WHERE id = ANY(:ids) AND published_at IS NULL
""").bindparams(bindparam("ids", type_=ARRAY(UUID(as_uuid=True))))

Claimed = tuple[ClaimedEvent, dt.datetime | None]
Deliver = Callable[[EventEnvelope], Awaitable[None]]
# A deliverer may also push a whole claim at once (`HttpDeliverer.batch`): the dispatcher then uses that.
BatchDeliver = Callable[[Sequence[EventEnvelope], float], Awaitable[dict[uuid.UUID, Exception | None]]]


def backoff_seconds(attempts: int, base: float = 0.5, cap: float = 300.0) -> float:
    """Exponential back-off with full jitter."""
    return random.uniform(0, min(cap, base * (2 ** max(0, attempts - 1))))


async def stop_task(task: asyncio.Task[None] | None) -> None:
    """Cancel a background loop and wait until it has ended (None: none runs)."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


class OutboxDispatcher:
    """Delivers pending events, in `seq` order per aggregate, with any number of replicas.

    An aggregate (a dossier, a facility, …) is *held* by whoever holds its **head**, its earliest unpublished event:
    a batch claims due heads `FOR UPDATE SKIP LOCKED` and moves their `next_attempt_at` `claim_seconds` ahead (the
    lease); only a head can be claimed, so no replica touches a later event of a held aggregate. The claimer then
    takes the head's followers (the aggregate's next unpublished events) and delivers each aggregate's chain in
    order, several chains at once. A failure stops its own chain: the failed event becomes the head, due after its
    back-off, and blocks its aggregate only. No transaction is open while a subscriber is called (claim, deliver,
    settle); a dispatcher that dies between the two leaves its lease to expire and the chain is delivered again from
    the head (at least once, still in order). A chain stops taking new events after half the lease, so a lease does
    not run out while its holder is still delivering (the HTTP client's timeouts are far shorter).

    A deliverer with a `batch` method (`HttpDeliverer`: every kit service's) gets the whole claim at once, one
    request per subscriber; each chain is then settled as if its events had been pushed one by one. Such a
    deliverer also says which types its subscribers consume (`consumed_types`): a claimed aggregate whose events are
    all of types nobody consumes is then marked published by the claim itself, as nothing is to be pushed."""

    def __init__(
        self,
        db: Database,
        source: str,
        deliver: Deliver,
        *,
        poll_seconds: float = 0.5,
        batch_size: int = 50,
        claim_seconds: float = 120.0,
        concurrency: int = 8,
        retry_base_seconds: float = 0.5,
        retry_cap_seconds: float = 300.0,
        coalesce_seconds: float = 0.05,
    ) -> None:
        self.db = db
        self.source = source
        self.deliver = deliver
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.claim_seconds = claim_seconds
        self.concurrency = concurrency
        self.retry_base_seconds = retry_base_seconds
        self.retry_cap_seconds = retry_cap_seconds
        self.coalesce_seconds = coalesce_seconds
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def notify(self) -> None:
        self._wake.set()

    async def _claim(self) -> tuple[list[list[Claimed]], int]:
        """Chains of due events, one per aggregate, each in `seq` order: the claimed head first, then its followers.
        Each event comes with its `next_attempt_at` before the claim (to give an untried head back as it was).
        Also how many events the claim marked published itself (nobody consumes them; `CLAIM_SQL`)."""
        now = utcnow()
        params: dict[str, Any] = {"now": now, "lease": now + dt.timedelta(seconds=self.claim_seconds)}
        params["batch"] = self.batch_size
        consumed_types = getattr(self.deliver, "consumed_types", None)
        consumed = consumed_types() if consumed_types is not None else None
        params["knowing"] = consumed is not None  # unknown: every held head is leased and pushed, nothing marked
        params["consumed"] = sorted(consumed or ())
        rows = await self.db.autocommit(CLAIM_SQL, params)
        chains: dict[tuple[str, str], list[Claimed]] = {}
        marked = 0
        for row in rows:  # in seq order, so each chain starts with its head
            if row.published:
                marked += 1
                continue
            event = ClaimedEvent(
                id=row.id,
                event_type=row.event_type,
                aggregate_type=row.aggregate_type,
                aggregate_id=row.aggregate_id,
                payload=row.payload,
                occurred_at=row.occurred_at,
                request_id=row.request_id,
                seq=row.seq,
            )
            chains.setdefault((event.aggregate_type, event.aggregate_id), []).append((event, row.due))
        return list(chains.values()), marked

    async def _settle(
        self,
        claimed: list[Claimed],
        published: set[uuid.UUID],
        failures: dict[uuid.UUID, Exception],
    ) -> None:
        """Mark the delivered events, record the failures, give the untried heads back. The delivered ones — nearly
        all — in one statement, autocommitted when that is all there is to settle (issue 16)."""
        delivered = [event.id for event, _ in claimed if event.id in published]
        rest = [(event, due) for event, due in claimed if event.id not in published]
        if not rest:
            await self.db.autocommit(PUBLISHED_SQL, {"now": utcnow(), "ids": delivered})
            return
        async with self.db.session() as session:
            if delivered:
                await session.exec(PUBLISHED_SQL.bindparams(now=utcnow(), ids=delivered))  # type: ignore[call-overload]
            for claimed_event, due in rest:
                event = await session.get(OutboxEvent, claimed_event.id)
                if event is None or event.published_at is not None:
                    continue
                error = failures.get(event.id)
                if error is not None:
                    event.attempts += 1
                    event.last_error = f"{type(error).__name__}: {error}"[:2000]
                    event.next_attempt_at = utcnow() + dt.timedelta(
                        seconds=backoff_seconds(event.attempts, self.retry_base_seconds, self.retry_cap_seconds)
                    )
                    log.warning("event delivery failed", extra={"event_id": str(event.id), "error": event.last_error})
                else:
                    event.next_attempt_at = due  # not tried: due again at once, in order
            await session.commit()

    async def _deliver_chain(
        self,
        chain: list[Claimed],
        published: set[uuid.UUID],
        failures: dict[uuid.UUID, Exception],
        slots: asyncio.Semaphore,
        until: float,
    ) -> None:
        async with slots:
            for event, _ in chain:
                if time.monotonic() > until:
                    return  # the rest is given back; the next claim takes it up from here
                try:
                    await self.deliver(EventEnvelope.of(event, self.source))
                except Exception as exc:  # noqa: BLE001 - any failure means "try again later"
                    failures[event.id] = exc
                    return  # keep order: later events of this aggregate wait for this one
                published.add(event.id)

    async def _deliver_batch(
        self,
        batch: BatchDeliver,
        chains: list[list[Claimed]],
        published: set[uuid.UUID],
        failures: dict[uuid.UUID, Exception],
        until: float,
    ) -> None:
        """The whole claim in one push per subscriber (`HttpDeliverer.batch`), in `seq` order. Then, per chain, as
        one by one: what was accepted up to its first failure is published, that failure recorded (the event
        becomes the head, due after its back-off), the rest given back untried."""
        events = sorted((event for chain in chains for event, _ in chain), key=lambda event: event.seq)
        try:
            outcomes = await batch([EventEnvelope.of(event, self.source) for event in events], until)
        except Exception as exc:  # noqa: BLE001 - as a failed push: each chain's head is retried later
            outcomes = {chain[0][0].id: exc for chain in chains}
        for chain in chains:
            for event, _ in chain:
                if event.id not in outcomes:
                    break  # not tried: given back in order
                error = outcomes[event.id]
                if error is not None:
                    failures[event.id] = error
                    break
                published.add(event.id)

    async def run_once(self) -> int:
        """Deliver one batch; returns how many events were published."""
        chains, marked = await self._claim()
        # Counted from the claim, waiting for a slot included: no chain starts an event late in its lease.
        until = time.monotonic() + self.claim_seconds / 2
        published: set[uuid.UUID] = set()
        failures: dict[uuid.UUID, Exception] = {}
        slots = asyncio.Semaphore(self.concurrency)
        batch = getattr(self.deliver, "batch", None)
        try:
            if batch is not None and chains:
                await self._deliver_batch(batch, chains, published, failures, until)
            else:
                await asyncio.gather(*(self._deliver_chain(c, published, failures, slots, until) for c in chains))
        finally:  # also when stopped mid-batch: what was not delivered is given back at once
            if chains:
                # Recorded even when the stop arrives during the settle itself (a short transaction): an event
                # accepted but left unmarked would be delivered again by the next dispatcher.
                settle = asyncio.ensure_future(
                    self._settle([item for chain in chains for item in chain], published, failures)
                )
                try:
                    await asyncio.shield(settle)
                except asyncio.CancelledError:
                    await settle
                    raise
        return marked + len(published)

    async def _loop(self) -> None:
        while True:
            try:
                while published := await self.run_once():
                    if published < self.batch_size:
                        # Busy but not behind: let more commits gather for the next claim (issue 16: back to back,
                        # a claim took ~2 applications' events). Only after a claim that found work, and never
                        # longer than the poll, so a quiet system delivers as before and a full batch at once.
                        await asyncio.sleep(min(self.coalesce_seconds, self.poll_seconds))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - database hiccup: log and keep the loop alive
                log.exception("outbox dispatcher iteration failed")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=f"outbox-{self.source}")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None


# What `POST /internal/events/batch` answers for each event.
APPLIED, DUPLICATE, FAILED, SKIPPED = "applied", "duplicate", "failed", "skipped"
MAX_EVENTS_PER_BATCH = 500  # the dispatcher sends at most its batch size (50)


class EventBatch(BaseModel):
    events: list[EventEnvelope] = Field(max_length=MAX_EVENTS_PER_BATCH)


def _publisher_clients(request: Request) -> dict[str, str]:
    settings = getattr(request.app.state, "settings", None)
    return getattr(settings, "event_publisher_clients", None) or merged_clients(None)


def _from_its_publisher(envelope: EventEnvelope, principal: Principal, clients: dict[str, str]) -> EventEnvelope:
    """The envelope with `source` set to the publisher the token proves; Forbidden when the token's client does
    not publish the event's type (publishers.py)."""
    source = accepted_source(envelope.type, principal, clients)
    if envelope.source and envelope.source != source:
        log.info(
            "event source in the body ignored",
            extra={"event_id": str(envelope.id), "body_source": envelope.source[:64], "source": source},
        )
    return envelope.model_copy(update={"source": source})


def _failure(exc: Exception, envelope: EventEnvelope) -> dict[str, Any]:
    """A failed event's status and code, as `POST /internal/events` would have answered it alone: a problem's own
    (403 for a publisher not allowed), 503 for an unreachable database, else 500 (logged with its traceback)."""
    if isinstance(exc, Problem):
        return {"status": exc.status, "code": exc.code, "detail": exc.detail}
    if database_unavailable(exc):
        log.warning("database unavailable for event %s: %s: %s", envelope.id, type(exc).__name__, exc)
        return {"status": 503, "code": guard_codes.DATABASE_UNAVAILABLE}
    log.error("event %s (%s) failed", envelope.id, envelope.type, exc_info=exc)
    return {"status": 500, "code": "internal_error"}


# (session, envelope), or (session, envelope, fetched) for an event type registered with `fetch`.
Handler = Callable[..., Awaitable[None]]
Fetch = Callable[[AsyncSession, EventEnvelope], Awaitable[Any]]


async def service_account(principal: CurrentPrincipal) -> Principal:
    return ensure_service_account(principal)


class EventConsumer:
    """Receives events pushed by other services at POST /internal/events: role `service`, and the token's
    client must be the one of the service that publishes the event's type (else 403
    `event_publisher_not_allowed`, nothing recorded). The envelope's `source` is then that service's name,
    whatever the body said."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}
        self.fetchers: dict[str, Fetch] = {}

    def on(self, event_type: str, *, fetch: Fetch | None = None) -> Callable[[Handler], Handler]:
        """Register the handler of an event type. With `fetch`, what the handler needs from other services is
        fetched first, outside the event's transaction (no HTTP call inside a transaction): `fetch(session,
        envelope)` may read, must `db.release(session)` before it calls out, and its result reaches the handler
        as a third argument, `handler(session, envelope, fetched)`. Duplicates are recognised before `fetch`."""

        def register(fn: Handler) -> Handler:
            self.handlers[event_type] = fn
            if fetch is not None:
                self.fetchers[event_type] = fetch
            return fn

        return register

    async def handle(self, session: AsyncSession, envelope: EventEnvelope) -> bool:
        """Apply the event once; returns False for a duplicate. Commits."""
        handler = self.handlers.get(envelope.type)
        fetch = self.fetchers.get(envelope.type)
        fetched: Any = None
        if fetch is not None:
            seen = await session.get(ProcessedEvent, envelope.id)
            await release(session)
            if seen is not None:
                return False
            fetched = await fetch(session, envelope)
            await release(session)
        session.add(ProcessedEvent(event_id=envelope.id, event_type=envelope.type))
        try:
            await session.flush()
        except IntegrityError:
            await session.rollback()
            return False
        if handler is not None:
            await (handler(session, envelope, fetched) if fetch is not None else handler(session, envelope))
        await session.commit()
        return True

    async def handle_batch(
        self, db: Database, envelopes: Sequence[EventEnvelope], principal: Principal, clients: dict[str, str]
    ) -> list[dict[str, Any]]:
        """Each event applied as `POST /internal/events` applies it, in the list's order, each in its own
        transaction; one that fails does not stop the others, except the later events of its own aggregate
        (`skipped`: applying them would break the aggregate's order). One result per event, in order."""
        results: list[dict[str, Any]] = []
        stopped: set[tuple[str, str]] = set()
        for envelope in envelopes:
            aggregate = (envelope.aggregate_type, envelope.aggregate_id)
            if aggregate in stopped:
                results.append({"id": str(envelope.id), "result": SKIPPED})
                continue
            result = await self._apply_one(db, envelope, principal, clients)
            if result["result"] == FAILED:
                stopped.add(aggregate)
            results.append(result)
        return results

    async def _apply_one(
        self, db: Database, envelope: EventEnvelope, principal: Principal, clients: dict[str, str]
    ) -> dict[str, Any]:
        try:
            envelope = _from_its_publisher(envelope, principal, clients)
            async with db.session() as session:
                fresh = await self.handle(session, envelope)
        except Exception as exc:  # noqa: BLE001 - the event's failure, answered in its result
            return {"id": str(envelope.id), "result": FAILED, **_failure(exc, envelope)}
        return {"id": str(envelope.id), "result": APPLIED if fresh else DUPLICATE}

    def router(self) -> APIRouter:
        router = APIRouter(prefix="/internal", tags=["internal"], include_in_schema=False)

        @router.post("/events", status_code=200)
        async def receive(
            envelope: EventEnvelope,
            request: Request,
            principal: Principal = Depends(service_account),
            session: AsyncSession = Depends(get_session),
        ) -> dict[str, Any]:
            envelope = _from_its_publisher(envelope, principal, _publisher_clients(request))
            fresh = await self.handle(session, envelope)
            return {"id": str(envelope.id), "duplicate": not fresh}

        @router.post("/events/batch", status_code=200)
        async def receive_batch(
            batch: EventBatch, request: Request, principal: Principal = Depends(service_account)
        ) -> dict[str, list[dict[str, Any]]]:
            """Several events in one request (the outbox's pushes, issue 16); see `handle_batch`. 200 with one
            result per event, whatever each one's result."""
            clients = _publisher_clients(request)
            return {"results": await self.handle_batch(request.app.state.db, batch.events, principal, clients)}

        @router.get("/events")
        async def consumed_types(principal: Principal = Depends(service_account)) -> dict[str, list[str]]:
            """The event types this service consumes: publishers push only these (subscriptions.py)."""
            return {"types": sorted(self.handlers)}

        return router


def http_deliverer(subscribers: Sequence[str], client_factory: Callable[[], Any]) -> HttpDeliverer:
    """Deliver to every subscriber URL that consumes the event's type (`Subscriptions`): a batch in one request
    per subscriber (`HttpDeliverer.batch`, what the dispatcher uses), or one event (calling it)."""
    return HttpDeliverer(subscribers, client_factory)


NOT_TRIED = object()  # a subscriber's outcome for an event it was not sent (after a failure of its aggregate)
Outcome = Exception | None | object


class HttpDeliverer:
    """Pushes events over HTTP to each subscriber URL (`…/internal/events`), only the types it consumes
    (`subscriptions.py`). A batch goes in one request per subscriber to `<url>/batch` (`EventConsumer`'s batch
    endpoint); a subscriber without it (404/405: an older version during a rolling update) is pushed one event
    at a time as before, and asked again after the subscriptions' TTL; a batch too large for its body limit (413)
    is pushed one by one too. Any non-2xx answer fails what it answered for, so the dispatcher retries."""

    def __init__(self, subscribers: Sequence[str], client_factory: Callable[[], Any], concurrency: int = 8) -> None:
        self.subscribers = list(subscribers)
        self.client_factory = client_factory
        self.subscriptions = Subscriptions(client_factory)
        self.concurrency = concurrency
        self._one_by_one_since: dict[str, float] = {}

    async def __call__(self, envelope: EventEnvelope) -> None:
        """One event to every subscriber that consumes its type, one after another; raises on the first failure."""
        body: dict[str, Any] | None = None
        for url in self.subscribers:
            if not await self.subscriptions.wants(url, envelope.type):
                continue
            body = body or envelope.model_dump(mode="json")
            await self._push_one(url, body)

    def consumed_types(self) -> frozenset[str] | None:
        """The event types some subscriber consumes, from the subscribers' fresh answers (no request is made);
        None when one has not answered lately or declares none (it is sent everything): then the dispatcher
        claims as if every event were consumed, and pushing asks again."""
        consumed: set[str] = set()
        for url in self.subscribers:
            known, types = self.subscriptions.known(url)
            if not known or types is None:
                return None
            consumed |= types
        return frozenset(consumed)

    async def batch(self, envelopes: Sequence[EventEnvelope], until: float) -> dict[uuid.UUID, Exception | None]:
        """Push `envelopes` (in `seq` order) to every subscriber at once. Per event: None when every subscriber
        that consumes it accepted it (applied, or a duplicate), the first failure otherwise; an event left out was
        not tried (a subscriber skipped it behind a failure of its aggregate, or `until` — time.monotonic() — had
        passed before it could be pushed alone)."""
        outcomes = await asyncio.gather(*(self._push_batch(url, envelopes, until) for url in self.subscribers))
        merged: dict[uuid.UUID, Exception | None] = {}
        for envelope in envelopes:
            seen = [outcome.get(envelope.id) for outcome in outcomes]
            failure = next((o for o in seen if isinstance(o, Exception)), None)
            if failure is not None:
                merged[envelope.id] = failure
            elif NOT_TRIED not in seen:
                merged[envelope.id] = None
        return merged

    async def _push_batch(self, url: str, envelopes: Sequence[EventEnvelope], until: float) -> dict[uuid.UUID, Outcome]:
        """This subscriber's outcome per event: None (accepted, or a type it does not consume), an exception, or
        NOT_TRIED."""
        outcome: dict[uuid.UUID, Outcome] = {envelope.id: None for envelope in envelopes}
        try:
            types = await self.subscriptions.types(url)
        except Exception as exc:  # noqa: BLE001 - cannot say what it consumes: every event fails, retried later
            return {envelope.id: exc for envelope in envelopes}
        wanted = [e for e in envelopes if types is None or e.type in types]
        if not wanted:
            return outcome
        if not self._one_by_one(url):
            try:
                response = await self.client_factory().post(
                    f"{url}/batch", json={"events": [e.model_dump(mode="json") for e in wanted]}
                )
            except Exception as exc:  # noqa: BLE001 - unreachable: every event it should get fails
                outcome.update({e.id: exc for e in wanted})
                return outcome
            if response.status_code in (404, 405):
                self._one_by_one_since[url] = time.monotonic()
            elif response.status_code != 413:
                outcome.update(_batch_answer(url, wanted, response))
                return outcome
        outcome.update(await self._push_each(url, wanted, until))
        return outcome

    def _one_by_one(self, url: str) -> bool:
        since = self._one_by_one_since.get(url)
        return since is not None and time.monotonic() - since < self.subscriptions.ttl

    async def _push_each(self, url: str, wanted: list[EventEnvelope], until: float) -> dict[uuid.UUID, Outcome]:
        """One request per event, as before batches: each aggregate's events in order, stopping at a failure or
        at `until`, several aggregates at once."""
        chains: dict[tuple[str, str], list[EventEnvelope]] = {}
        for envelope in wanted:
            chains.setdefault((envelope.aggregate_type, envelope.aggregate_id), []).append(envelope)
        outcome: dict[uuid.UUID, Outcome] = {envelope.id: NOT_TRIED for envelope in wanted}
        slots = asyncio.Semaphore(self.concurrency)

        async def push_chain(chain: list[EventEnvelope]) -> None:
            async with slots:
                for envelope in chain:
                    if time.monotonic() > until:
                        return
                    try:
                        await self._push_one(url, envelope.model_dump(mode="json"))
                    except Exception as exc:  # noqa: BLE001 - this aggregate waits; the others go on
                        outcome[envelope.id] = exc
                        return
                    outcome[envelope.id] = None

        await asyncio.gather(*(push_chain(chain) for chain in chains.values()))
        return outcome

    async def _push_one(self, url: str, body: dict[str, Any]) -> None:
        response = await self.client_factory().post(url, json=body)
        if response.status_code >= 300:
            raise RuntimeError(f"{url} answered {response.status_code}")


def _batch_answer(url: str, wanted: list[EventEnvelope], response: Any) -> dict[uuid.UUID, Outcome]:
    """The outcome per event of a batch's answer: applied and duplicate are accepted, skipped was not tried,
    anything else (failed, an event the answer left out, a non-2xx answer) a failure."""
    if response.status_code >= 300:
        error = RuntimeError(f"{url}/batch answered {response.status_code}")
        return {envelope.id: error for envelope in wanted}
    results = {str(r.get("id")): r for r in response.json().get("results", [])}
    outcome: dict[uuid.UUID, Outcome] = {}
    for envelope in wanted:
        result = results.get(str(envelope.id))
        kind = result.get("result") if result else None
        if kind in (APPLIED, DUPLICATE):
            outcome[envelope.id] = None
        elif kind == SKIPPED:
            outcome[envelope.id] = NOT_TRIED
        elif result is None:
            outcome[envelope.id] = RuntimeError(f"{url}/batch answered nothing for the event")
        else:
            outcome[envelope.id] = RuntimeError(
                f"{url}/batch: the event {kind}: {result.get('status')} {result.get('code')}"
            )
    return outcome
