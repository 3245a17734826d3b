"""A running dispatcher that has just found work claims again after a short pause (`coalesce_seconds`), not after
its poll, so commits arriving meanwhile are delivered together in one claim (issue 16); a quiet one waits for its
poll or a wake-up as before."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy import text

from cleanprod_kit.db import Database
from cleanprod_kit.outbox import EventEnvelope, OutboxDispatcher, emit


class Recording:
    """A deliverer that takes whole claims (`batch`, as `HttpDeliverer`) and records each claim's events."""

    def __init__(self) -> None:
        self.claims: list[list[str]] = []

    async def __call__(self, envelope: EventEnvelope) -> None:
        self.claims.append([envelope.aggregate_id])

    async def batch(self, envelopes: Sequence[EventEnvelope], until: float) -> dict:
        self.claims.append([e.aggregate_id for e in envelopes])
        return {e.id: None for e in envelopes}


async def _emit_one(database: Database, aggregate: str) -> None:
    async with database.session() as session:
        emit(session, "application.submitted", aggregate_type="application", aggregate_id=aggregate, payload={})
        await session.commit()


async def _until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    # Far shorter than the poll (30 s): only the pause after a claim that found work can explain a delivery.
    deadline = asyncio.get_running_loop().time() + 10
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.02)


async def test_commits_during_the_pause_after_a_busy_claim_go_out_in_one_claim(database: Database) -> None:
    async with database.session() as session:
        await session.exec(text("DELETE FROM outbox_events"))  # type: ignore[call-overload]
        await session.commit()
    recording = Recording()
    dispatcher = OutboxDispatcher(database, "test", recording, poll_seconds=30, coalesce_seconds=1.0)
    dispatcher.start()
    try:
        await asyncio.sleep(0.1)  # its first claim found nothing: it now waits for the poll or a wake-up
        await _emit_one(database, "first")
        dispatcher.notify()
        await _until(lambda: recording.claims == [["first"]], "the wake-up was not followed by a claim")
        for n in range(3):  # three commits while it pauses after that busy claim
            await _emit_one(database, f"later-{n}")
        await _until(lambda: len(recording.claims) == 2, "no claim after the pause")
        assert recording.claims[1] == ["later-0", "later-1", "later-2"]
    finally:
        await dispatcher.stop()
