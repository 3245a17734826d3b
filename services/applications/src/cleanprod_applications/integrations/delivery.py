"""The webhook dispatcher: fan-out from the outbox, then signed POSTs with retries. Safe with several replicas and
across restarts, because all of its state is in the database.

1. **Fan-out** reads outbox events in commit-safe order — (txid, seq) among events whose transaction is older
   than the oldest one still running — from the position row `webhook_fanout_positions('webhooks')`, and writes one
   `webhook_deliveries` row per matching active subscription, moving the position in the same transaction. The
   position row is locked with SKIP LOCKED: one replica fans out at a time, the others go on delivering.
2. **Claim**: a short transaction picks due deliveries with `FOR UPDATE SKIP LOCKED` and leases them
   (`locked_until`, `claim_token`); the POST happens after the commit, so a slow receiver never holds a database
   transaction open. The lease outlasts the longest possible attempt, so no delivery is POSTed twice at once.
   A delivery is due only when no earlier delivery of the same (subscription, aggregate) is pending and no earlier
   event of that aggregate is still waiting for the fan-out: the status changes of a dossier arrive in order.
3. **Attempt** re-checks the URL (DNS included), POSTs with short timeouts, follows no redirects, reads at most
   a small part of the answer, and records the outcome if it still holds the lease: 2xx → delivered; anything
   else → retry after exponential back-off with full jitter, until `webhook_max_age_seconds` after `retry_since`,
   then dead (kept for inspection and manual redelivery).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import certifi
import httpcore
import orjson
from sqlalchemy import func, text, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import select

from cleanprod_kit.db import Database
from cleanprod_kit.ids import uuid7
from cleanprod_kit.models import OutboxEvent
from cleanprod_kit.outbox import backoff_seconds, stop_task

from .. import metrics
from ..config import ApplicationsSettings
from ..notifications import rules as notification_rules
from .events import is_exposed, matches_any
from .models import DeliveryStatus, FanoutPosition, WebhookDelivery, WebhookSubscription
from .service import HORIZON, envelope
from .signing import SecretBox, box_from_settings, signed_headers
from .urls import IPAddress, Resolver, UrlPolicy, UrlRefused, check_url, checked_addresses, resolve

log = logging.getLogger("cleanprod.webhooks")

POSITION = "webhooks"
USER_AGENT = "cleanprod-webhooks/1.0"
PREVIEW_BYTES = 512
INSERT_CHUNK = 1_000  # rows per INSERT (asyncpg allows 32 767 parameters per statement)


def body_of(event: OutboxEvent) -> bytes:
    """The POST body: the event envelope as JSON (the same object the event feed serves)."""
    return orjson.dumps(envelope(event).model_dump(mode="json"))


# ---- HTTP ------------------------------------------------------------------------------------------------------
class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host itself, checks every address against the policy and connects to a checked address only
    (TLS still verifies the certificate for the host name): DNS cannot change between the check and the connect."""

    def __init__(self, policy: UrlPolicy, resolver: Resolver = resolve) -> None:
        self.policy = policy
        self.resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses: list[IPAddress] = await checked_addresses(host, port, self.policy, self.resolver)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks are never sent over unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status_code: int | None = None
    error: str | None = None


def _printable(raw: bytes) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in raw.decode("utf-8", errors="replace")).strip()


class WebhookSender:
    """POSTs one signed body. Never raises: every failure becomes an Outcome with a short, safe description."""

    def __init__(self, settings: ApplicationsSettings, resolver: Resolver = resolve) -> None:
        self.policy = UrlPolicy.from_settings(settings)
        self.resolver = resolver
        self.timeout = settings.webhook_timeout_seconds
        context = ssl.create_default_context(cafile=certifi.where())
        self.pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=max(4, settings.webhook_concurrency),
            keepalive_expiry=5.0,
            retries=0,
            network_backend=PinnedBackend(self.policy, resolver),
        )

    async def aclose(self) -> None:
        await self.pool.aclose()

    async def send(self, url: str, headers: dict[str, str], body: bytes) -> Outcome:
        host = urlsplit(url).netloc
        request_headers = [
            (b"Host", host.encode("ascii", "ignore")),
            (b"User-Agent", USER_AGENT.encode()),
            (b"Content-Type", b"application/json"),
            (b"Content-Length", str(len(body)).encode()),
            *[(k.encode(), v.encode()) for k, v in headers.items()],
        ]
        timeouts = {
            "connect": min(5.0, self.timeout),
            "read": self.timeout,
            "write": self.timeout,
            "pool": self.timeout,
        }
        preview = b""
        try:
            async with asyncio.timeout(self.timeout):
                await check_url(url, self.policy, self.resolver)  # again before each delivery: DNS can change
                async with self.pool.stream(
                    "POST", url, headers=request_headers, content=body, extensions={"timeout": timeouts}
                ) as response:
                    if not 200 <= response.status < 300:
                        async for chunk in response.aiter_stream():  # type: ignore[attr-defined]
                            preview += chunk
                            if len(preview) >= PREVIEW_BYTES:
                                break
                    status = response.status
        except TimeoutError:
            return Outcome(False, error=f"no answer within {self.timeout:g} s")
        except UrlRefused as exc:
            return Outcome(False, error=f"URL refused: {exc.message}")
        except (
            httpcore.TimeoutException,
            httpcore.NetworkError,
            httpcore.ProtocolError,
            httpcore.UnsupportedProtocol,
            OSError,
        ) as exc:
            return Outcome(False, error=f"{type(exc).__name__}: {exc}"[:500])
        if 200 <= status < 300:
            return Outcome(True, status_code=status)
        detail = _printable(preview[:PREVIEW_BYTES])
        return Outcome(False, status_code=status, error=f"answered {status}" + (f": {detail}" if detail else ""))


# ---- the dispatcher --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    event_id: uuid.UUID
    attempts: int
    claim_token: uuid.UUID
    subscription_id: uuid.UUID
    url: str
    secret_ciphertext: str


CLAIM_SQL = text("""
WITH pos AS (
    SELECT last_txid, last_seq FROM webhook_fanout_positions WHERE name = :position
), ready AS (
    SELECT d.id
    FROM webhook_deliveries d
    JOIN webhook_subscriptions s ON s.id = d.subscription_id
    WHERE d.status = 'pending' AND s.active
      AND d.next_attempt_at <= now()
      AND (d.locked_until IS NULL OR d.locked_until <= now())
      AND NOT EXISTS (
          SELECT 1 FROM webhook_deliveries e
          WHERE e.subscription_id = d.subscription_id AND e.aggregate_type = d.aggregate_type
            AND e.aggregate_id = d.aggregate_id AND e.status = 'pending' AND e.event_seq < d.event_seq)
      AND NOT EXISTS (
          SELECT 1 FROM outbox_events o, pos
          WHERE o.aggregate_type = d.aggregate_type AND o.aggregate_id = d.aggregate_id
            AND o.seq < d.event_seq AND (o.txid, o.seq) > (pos.last_txid, pos.last_seq))
    ORDER BY d.next_attempt_at, d.event_seq
    LIMIT :limit
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries w
SET locked_until = now() + make_interval(secs => :lease), claim_token = :token, attempts = w.attempts + 1,
    last_attempt_at = now(), updated_at = now()
FROM ready, webhook_subscriptions s
WHERE w.id = ready.id AND s.id = w.subscription_id
RETURNING w.id, w.event_id, w.attempts, w.subscription_id, s.url, s.secret_ciphertext
""")

SUCCESS_SQL = text("""
UPDATE webhook_deliveries
SET status = 'delivered', delivered_at = now(), locked_until = NULL, claim_token = NULL,
    last_status_code = :code, last_error = NULL, updated_at = now()
WHERE id = :id AND claim_token = :token
""")

FAILURE_SQL = text("""
UPDATE webhook_deliveries
SET status = CASE WHEN now() >= retry_since + make_interval(secs => :max_age) THEN 'dead' ELSE 'pending' END,
    dead_at = CASE WHEN now() >= retry_since + make_interval(secs => :max_age) THEN now() END,
    next_attempt_at = LEAST(now() + make_interval(secs => :delay), retry_since + make_interval(secs => :max_age)),
    locked_until = NULL, claim_token = NULL, last_status_code = :code, last_error = :error, updated_at = now()
WHERE id = :id AND claim_token = :token
RETURNING status
""")

RELEASE_SQL = text("""
UPDATE webhook_deliveries SET locked_until = NULL, claim_token = NULL, updated_at = now()
WHERE id = :id AND claim_token = :token
""")


def _deliveries(rows: list[Any], subscriptions: list[WebhookSubscription]) -> list[dict[str, Any]]:
    """One pending delivery per (exposed event, subscription that wants it and existed when it was committed)."""
    values: list[dict[str, Any]] = []
    for event_id, txid, seq, event_type, aggregate_type, aggregate_id, dossier_code in rows:
        if not is_exposed(aggregate_type, {"dossier_code": dossier_code}):
            continue
        for subscription in subscriptions:
            if txid >= subscription.from_txid and matches_any(subscription.event_types, event_type):
                values.append(
                    {
                        "id": uuid7(),
                        "subscription_id": subscription.id,
                        "event_id": event_id,
                        "event_seq": seq,
                        "event_type": event_type,
                        "aggregate_type": aggregate_type,
                        "aggregate_id": aggregate_id,
                        "status": DeliveryStatus.PENDING.value,
                        "attempts": 0,
                        "next_attempt_at": func.now(),
                        "retry_since": func.now(),
                        "created_at": func.now(),
                        "updated_at": func.now(),
                    }
                )
    return values


class WebhookDispatcher:
    """One per process (started by main.py); call `run_once()` in tests, or `start()`/`stop()` for the loop."""

    def __init__(
        self,
        db: Database,
        settings: ApplicationsSettings,
        *,
        sender: WebhookSender | None = None,
        name: str | None = None,
        batch_size: int = 500,
    ) -> None:
        self.db = db
        self.settings = settings
        self.sender = sender or WebhookSender(settings)
        self.name = name or f"webhooks-{uuid.uuid4().hex[:8]}"
        self.batch_size = batch_size
        self.concurrency = settings.webhook_concurrency
        # Longer than any attempt can take (the attempt is cut at the timeout), so a lease never runs out while
        # its POST is still going.
        self.lease_seconds = 2 * settings.webhook_timeout_seconds + 10
        self.box: SecretBox | None = box_from_settings(settings)
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()

    # ---- fan-out -------------------------------------------------------------------------------------------------
    async def fanout_once(self) -> int:
        """Read one batch of committed events after the position; returns how many (0: caught up or busy)."""
        async with self.db.session() as session:
            position = (
                await session.exec(
                    select(FanoutPosition).where(FanoutPosition.name == POSITION).with_for_update(skip_locked=True)
                )
            ).first()
            if position is None:
                exists = (
                    await session.exec(select(FanoutPosition.name).where(FanoutPosition.name == POSITION))
                ).first()
                if exists is None:  # first run on a database without the row: start from the beginning
                    await session.exec(
                        pg_insert(FanoutPosition)
                        .values(name=POSITION, last_txid=0, last_seq=0, updated_at=func.now())
                        .on_conflict_do_nothing()
                    )
                    await session.commit()
                return 0  # another replica is fanning out
            after = tuple_(position.last_txid, position.last_seq)
            subscriptions = list(
                (
                    await session.exec(
                        select(WebhookSubscription).where(WebhookSubscription.active).with_for_update(read=True)
                    )
                ).all()
            )
            if not subscriptions:
                # Nobody listens: move to the newest committed event without reading the batch.
                last = (
                    await session.exec(
                        select(OutboxEvent.txid, OutboxEvent.seq)
                        .where(OutboxEvent.txid < HORIZON, tuple_(OutboxEvent.txid, OutboxEvent.seq) > after)  # type: ignore[operator]
                        .order_by(OutboxEvent.txid.desc(), OutboxEvent.seq.desc())
                        .limit(1)  # type: ignore[union-attr]
                    )
                ).first()
                if last is not None:
                    position.last_txid, position.last_seq = int(last[0]), int(last[1])
                    await session.commit()
                return 0
            rows = list(
                (
                    await session.exec(
                        select(
                            OutboxEvent.id,
                            OutboxEvent.txid,
                            OutboxEvent.seq,
                            OutboxEvent.event_type,
                            OutboxEvent.aggregate_type,
                            OutboxEvent.aggregate_id,
                            OutboxEvent.payload["dossier_code"].astext,
                        )  # type: ignore[index]
                        .where(OutboxEvent.txid < HORIZON, tuple_(OutboxEvent.txid, OutboxEvent.seq) > after)  # type: ignore[operator]
                        .order_by(OutboxEvent.txid, OutboxEvent.seq)  # type: ignore[arg-type]
                        .limit(self.batch_size)
                    )
                ).all()
            )
            if not rows:
                return 0
            values = _deliveries(rows, subscriptions)
            for start in range(0, len(values), INSERT_CHUNK):
                await session.exec(
                    pg_insert(WebhookDelivery)
                    .values(values[start : start + INSERT_CHUNK])
                    .on_conflict_do_nothing(index_elements=["subscription_id", "event_seq"])
                )
            position.last_txid, position.last_seq = int(rows[-1][1]), int(rows[-1][2])
            await session.commit()
            if values:
                log.debug("fan-out", extra={"events": len(rows), "deliveries": len(values)})
            return len(rows)

    async def fanout(self) -> int:
        total = 0
        while (n := await self.fanout_once()) == self.batch_size:
            total += n
        return total + n

    # ---- claim and attempt ---------------------------------------------------------------------------------------
    async def claim(self, limit: int) -> list[Claimed]:
        if limit <= 0:
            return []
        token = uuid.uuid4()
        async with self.db.session() as session:
            result = await session.exec(
                CLAIM_SQL.bindparams(
                    position=POSITION,
                    limit=limit,  # type: ignore[call-overload]
                    lease=float(self.lease_seconds),
                    token=token,
                )
            )
            rows = result.all()
            await session.commit()
        return [
            Claimed(
                id=r[0],
                event_id=r[1],
                attempts=r[2],
                claim_token=token,
                subscription_id=r[3],
                url=r[4],
                secret_ciphertext=r[5],
            )
            for r in rows
        ]

    async def attempt(self, claimed: Claimed) -> Outcome:
        try:
            outcome = await self._post(claimed)
            await self._record(claimed, outcome)
            return outcome
        except asyncio.CancelledError:
            # Stopping mid-attempt: give the lease back so another replica retries soon (the receiver may get it
            # twice, with the same Webhook-Id).
            try:
                async with asyncio.timeout(2):
                    async with self.db.session() as session:
                        await session.exec(RELEASE_SQL.bindparams(id=claimed.id, token=claimed.claim_token))  # type: ignore[call-overload]
                        await session.commit()
            except Exception:  # noqa: BLE001 - the lease runs out by itself
                pass
            raise

    async def _post(self, claimed: Claimed) -> Outcome:
        async with self.db.session() as session:
            event = await session.get(OutboxEvent, claimed.event_id)
        if event is None:
            return Outcome(False, error="the event is no longer in the outbox")
        if self.box is None:
            return Outcome(False, error="APPLICATIONS_WEBHOOK_SECRET_KEY is not configured")
        try:
            secret = self.box.decrypt(claimed.secret_ciphertext, str(claimed.subscription_id))
        except ValueError as exc:
            return Outcome(False, error=str(exc))
        body = body_of(event)
        headers = signed_headers(secret, str(event.id), int(time.time()), body)
        return await self.sender.send(claimed.url, headers, body)

    async def _record(self, claimed: Claimed, outcome: Outcome) -> None:
        async with self.db.session() as session:
            if outcome.delivered:
                await session.exec(
                    SUCCESS_SQL.bindparams(
                        id=claimed.id,
                        token=claimed.claim_token,  # type: ignore[call-overload]
                        code=outcome.status_code,
                    )
                )
                await session.commit()
                metrics.webhook_attempted("delivered")
                return
            delay = backoff_seconds(
                claimed.attempts,
                base=self.settings.webhook_retry_base_seconds,
                cap=self.settings.webhook_retry_cap_seconds,
            )
            status = (
                await session.exec(
                    FAILURE_SQL.bindparams(  # type: ignore[call-overload]
                        id=claimed.id,
                        token=claimed.claim_token,
                        code=outcome.status_code,
                        error=(outcome.error or "")[:2000],
                        delay=float(delay),
                        max_age=float(self.settings.webhook_max_age_seconds),
                    )
                )
            ).scalar_one_or_none()
            if status == DeliveryStatus.DEAD:  # officers are told in the transaction that gives the delivery up
                await notification_rules.webhook_dead_lettered(
                    session,
                    delivery_id=claimed.id,
                    subscription_id=claimed.subscription_id,
                    url=claimed.url,
                    attempts=claimed.attempts,
                )
            await session.commit()
        metrics.webhook_attempted("dead" if status == DeliveryStatus.DEAD else "retry")
        if status == DeliveryStatus.DEAD:
            log.warning(
                "webhook delivery dead-lettered",
                extra={
                    "delivery_id": str(claimed.id),
                    "subscription_id": str(claimed.subscription_id),
                    "error": outcome.error,
                },
            )
        else:
            log.info(
                "webhook delivery failed; will retry",
                extra={"delivery_id": str(claimed.id), "attempts": claimed.attempts, "error": outcome.error},
            )

    async def run_once(self) -> int:
        """Fan out everything committed, then attempt one batch of due deliveries and wait for them; returns how many
        were attempted (tests drive the dispatcher with this)."""
        await self.fanout()
        claimed = await self.claim(self.concurrency)
        await asyncio.gather(*(self.attempt(c) for c in claimed))
        return len(claimed)

    # ---- the loop ------------------------------------------------------------------------------------------------
    def notify(self) -> None:
        self._wake.set()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._wake.set()  # a freed slot, and maybe the next delivery of that dossier is due now

    async def _attempt_task(self, claimed: Claimed) -> None:
        try:
            await self.attempt(claimed)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - recorded by the lease running out; keep the loop alive
            log.exception("webhook attempt failed unexpectedly", extra={"delivery_id": str(claimed.id)})

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            progressed = False
            try:
                progressed = await self.fanout() > 0
                claimed = await self.claim(self.concurrency - len(self._inflight))
                for item in claimed:
                    task = asyncio.create_task(self._attempt_task(item), name=f"{self.name}-{item.id}")
                    self._inflight.add(task)
                    task.add_done_callback(self._finished)
                progressed = progressed or bool(claimed)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - database hiccup: log and keep going
                log.exception("webhook dispatcher iteration failed")
            if not progressed:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.settings.webhook_poll_seconds)
                except TimeoutError:
                    pass

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self, grace_seconds: float = 3.0) -> None:
        await stop_task(self._task)
        self._task = None
        if self._inflight:
            _, pending = await asyncio.wait(set(self._inflight), timeout=grace_seconds)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        await self.sender.aclose()
