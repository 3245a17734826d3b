"""What the contract tests of every service share: the events a producer path wrote, read back from its outbox,
and the check that each one is read by its contract model."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from .base import EventPayload
from .v1.events import read_payload


async def outbox_payloads(database_url: str, aggregate_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Event type → the payloads the service's outbox holds for these aggregates, in the order written."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT event_type, payload FROM outbox_events WHERE aggregate_id = ANY(:ids) ORDER BY seq"),
                {"ids": [str(i) for i in aggregate_ids]},
            )
            by_type: dict[str, list[dict[str, Any]]] = {}
            for event_type, payload in rows:
                by_type.setdefault(event_type, []).append(payload)
            return by_type
    finally:
        await engine.dispose()


def read_every(by_type: dict[str, list[dict[str, Any]]], event_type: str) -> list[EventPayload]:
    """Each payload of `event_type` read with its contract model (pydantic's ValidationError names the field
    a producer and the contract disagree on); fails when the producer path wrote none."""
    payloads = by_type.get(event_type)
    assert payloads, f"the producer path wrote no {event_type}"
    return [read_payload(event_type, payload) for payload in payloads]
