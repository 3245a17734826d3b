"""Outbox retention (kit `outbox_retention`): delivered events past the retention are deleted, oldest first and in
batches; undelivered events, recent ones and whatever the service's `keep` names stay; a row another transaction
holds is skipped, not waited for."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import text

from cleanprod_kit.db import Database
from cleanprod_kit.models import OutboxEvent, utcnow
from cleanprod_kit.outbox import emit
from cleanprod_kit.outbox_retention import OutboxPruner, prune_outbox


async def _events(database: Database, **groups: tuple[int, bool, int]) -> None:
    """Per aggregate id: (how many events, delivered?, age in days)."""
    async with database.session() as session:
        await session.exec(text("DELETE FROM outbox_events"))  # type: ignore[call-overload]
        for aggregate, (count, delivered, age_days) in groups.items():
            for i in range(count):
                event = emit(
                    session, "thing.happened", aggregate_type="thing", aggregate_id=aggregate, payload={"n": i}
                )
                event.occurred_at = utcnow() - dt.timedelta(days=age_days)
                event.published_at = event.occurred_at if delivered else None
        await session.commit()


async def _left(database: Database) -> dict[str, int]:
    async with database.session() as session:
        rows = await session.exec(
            text("SELECT aggregate_id, count(*) FROM outbox_events GROUP BY aggregate_id")  # type: ignore[call-overload]
        )
        return {r[0]: r[1] for r in rows.all()}


async def test_only_delivered_events_past_the_retention_go(database: Database) -> None:
    await _events(
        database,
        old_delivered=(7, True, 40),
        old_undelivered=(2, False, 400),  # never delivered: kept however old
        recent_delivered=(3, True, 5),
        kept_by_the_service=(2, True, 40),
    )
    cutoff = utcnow() - dt.timedelta(days=30)
    deleted = await prune_outbox(
        database, older_than=cutoff, keep=lambda: OutboxEvent.aggregate_id == "kept_by_the_service", batch=3
    )
    assert deleted == 7  # in three batches of at most 3
    assert await _left(database) == {"old_undelivered": 2, "recent_delivered": 3, "kept_by_the_service": 2}
    assert await prune_outbox(database, older_than=cutoff) == 2  # without `keep`
    assert await prune_outbox(database, older_than=cutoff) == 0


async def test_a_locked_row_is_skipped_and_pruned_later(database: Database) -> None:
    await _events(database, old=(4, True, 40))
    cutoff = utcnow() - dt.timedelta(days=30)
    async with database.session() as holder:
        locked = (
            await holder.exec(text("SELECT id FROM outbox_events ORDER BY seq LIMIT 1 FOR UPDATE"))  # type: ignore[call-overload]
        ).one()[0]
        deleted = await asyncio.wait_for(prune_outbox(database, older_than=cutoff), timeout=10)  # does not wait
        assert deleted == 3
        await holder.rollback()
    async with database.session() as session:
        assert (await session.get(OutboxEvent, locked)) is not None
    assert await prune_outbox(database, older_than=cutoff) == 1


async def test_the_pruner_runs_with_its_retention(database: Database) -> None:
    await _events(database, ancient=(2, True, 100), month=(2, True, 20))
    pruner = OutboxPruner(database, retention_days=30, interval_seconds=3600)
    assert await pruner.run_once() == 2 and await _left(database) == {"month": 2}
    shorter = OutboxPruner(database, retention_days=10, interval_seconds=0.05, first_run_seconds=0)
    shorter.start()
    try:
        for _ in range(200):
            if not await _left(database):
                break
            await asyncio.sleep(0.05)
    finally:
        await shorter.stop()
    assert await _left(database) == {}


async def test_a_keep_rule_written_as_sql_text_is_honoured(database: Database) -> None:
    """A service may state what it still needs as a `text()` clause (applications: webhook deliveries pending), as
    the running service passes it — not wrapped in `or_()` (which hid a refused bare clause)."""
    await _events(database, old_delivered=(4, True, 40), kept_by_the_service=(2, True, 40))
    cutoff = utcnow() - dt.timedelta(days=30)
    keep = lambda: text("outbox_events.aggregate_id = :kept").bindparams(kept="kept_by_the_service")  # noqa: E731
    assert await prune_outbox(database, older_than=cutoff, keep=keep) == 4
    assert await _left(database) == {"kept_by_the_service": 2}
