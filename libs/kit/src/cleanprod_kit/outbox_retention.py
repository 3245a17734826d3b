"""Outbox retention: delivered events older than the retention period are deleted, a batch at a time, by a
periodic task in every replica (`OutboxPruner`, started by the app factory). Without it the outbox only grows,
and so does everything that reads it in order (the e-gov feed, the webhook fan-out).

What is never deleted: an event not yet delivered to the subscribers (`published_at IS NULL`), however old, and
whatever the service says it still needs (`keep`: e.g. the applications service keeps events with a webhook
delivery still pending and events its webhook fan-out has not read). The retention period is a setting
(`<P>OUTBOX_RETENTION_DAYS`, 0 = keep everything); docs/performance.md "Outbox retention" says why its default is
what it is. Separate from the dispatcher (outbox.py) on purpose: pruning touches only rows the dispatcher is done
with, and the two share no code path.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, not_, select
from sqlalchemy.sql.elements import Grouping, TextClause

from .db import Database
from .models import OutboxEvent, utcnow
from .outbox import stop_task
from .settings import ServiceSettings

log = logging.getLogger("cleanprod.outbox")

Keep = Callable[[], Any]
"""A WHERE condition on `outbox_events` (a new one per call): rows it is true for are kept."""

BATCH = 5_000


def _condition(keep: Any) -> Any:
    """A keep-rule as a negatable condition: a `text()` clause is grouped (`not_` refuses a bare one)."""
    return Grouping(keep) if isinstance(keep, TextClause) else keep


async def prune_outbox(db: Database, *, older_than: dt.datetime, keep: Keep | None = None, batch: int = BATCH) -> int:
    """Delete delivered events that occurred before `older_than` (and that `keep` does not hold), oldest first,
    in transactions of at most `batch` rows, until none is left; returns how many were deleted.

    Rows are chosen along the `seq` index from the oldest and locked `SKIP LOCKED`, so two replicas pruning at once
    never wait on each other, and a row the dispatcher holds is left for the next run."""
    total = 0
    while True:
        chosen = (
            select(OutboxEvent.id)
            .where(
                OutboxEvent.published_at.is_not(None),  # type: ignore[union-attr]
                OutboxEvent.occurred_at < older_than,
                *([not_(_condition(keep()))] if keep is not None else []),
            )
            .order_by(OutboxEvent.seq)  # type: ignore[arg-type]
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
        async with db.session() as session:
            result = await session.exec(delete(OutboxEvent).where(OutboxEvent.id.in_(chosen.scalar_subquery())))  # type: ignore[call-overload, union-attr]
            await session.commit()
        total += result.rowcount
        if result.rowcount < batch:
            return total


class OutboxPruner:
    """Runs `prune_outbox` every `interval_seconds` (the first run soon after start), events older than
    `retention_days`. A failed run is logged and tried again at the next interval."""

    def __init__(
        self,
        db: Database,
        *,
        retention_days: float,
        interval_seconds: float,
        keep: Keep | None = None,
        first_run_seconds: float = 60.0,
    ) -> None:
        self.db = db
        self.retention = dt.timedelta(days=retention_days)
        self.interval_seconds = interval_seconds
        self.keep = keep
        self.first_run_seconds = min(first_run_seconds, interval_seconds)
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        deleted = await prune_outbox(self.db, older_than=utcnow() - self.retention, keep=self.keep)
        if deleted:
            log.info("outbox pruned", extra={"deleted": deleted, "retention_days": self.retention.days})
        return deleted

    async def _loop(self) -> None:
        await asyncio.sleep(self.first_run_seconds)
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - database hiccup: log, try again at the next interval
                log.exception("outbox pruning failed")
            await asyncio.sleep(self.interval_seconds)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="outbox-pruner")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None


def start_pruner(db: Database, settings: ServiceSettings, keep: Keep | None) -> OutboxPruner | None:
    """The service's pruner, started — unless the outbox is off or the retention is 0 (keep everything)."""
    if not settings.outbox_enabled or settings.outbox_retention_days <= 0:
        return None
    pruner = OutboxPruner(
        db,
        retention_days=settings.outbox_retention_days,
        interval_seconds=settings.outbox_prune_interval_seconds,
        keep=keep,
    )
    pruner.start()
    return pruner


async def stop_pruner(pruner: OutboxPruner | None) -> None:
    if pruner is not None:
        await pruner.stop()
