"""A create's one read with the Idempotency-Key's stored answer in the same statement (kit
`idempotency.ReadWithAnswer`, issue 16): the same row and the same stored answer as the two reads it replaces,
whichever of them exists."""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, select

from cleanprod_kit.auth import Principal
from cleanprod_kit.db import Database
from cleanprod_kit.idempotency import ReadWithAnswer, _read_stored
from cleanprod_kit.models import IdempotencyRecord, OutboxEvent, utcnow
from cleanprod_kit.roles import Role

EVENT = ReadWithAnswer(
    select(OutboxEvent.id, OutboxEvent.event_type, OutboxEvent.payload).where(
        OutboxEvent.aggregate_id == bindparam("aggregate_id")
    )
)
CALLER = Principal(subject="ent-reads", username="ent-reads", roles=frozenset({Role.ENTERPRISE}))


async def _event(database: Database) -> str:
    aggregate = uuid.uuid4().hex
    async with database.session() as session:
        session.add(
            OutboxEvent(event_type="thử.nghiệm", aggregate_type="x", aggregate_id=aggregate, payload={"tên": "Lò"})
        )
        await session.commit()
    return aggregate


async def _stored(database: Database, key: str) -> None:
    async with database.session() as session:
        session.add(
            IdempotencyRecord(
                principal=CALLER.subject,
                key=key,
                method="POST",
                path="/x",
                fingerprint="f" * 64,
                status_code=201,
                response_body={"id": "một"},
                response_headers={"ETag": '"1"'},
                created_at=utcnow(),
            )
        )
        await session.commit()


async def test_the_row_and_the_stored_answer_come_back_as_the_two_reads_give_them(database: Database) -> None:
    aggregate, key = await _event(database), uuid.uuid4().hex
    alone = await database.fetch_one(EVENT.alone, aggregate_id=aggregate)
    assert alone is not None and alone["payload"] == {"tên": "Lò"}

    # no key: the row alone; a key with nothing stored: no answer, the row
    assert await EVENT.fetch(database, CALLER, None, {"aggregate_id": aggregate}) == (None, alone)
    assert await EVENT.fetch(database, CALLER, key, {"aggregate_id": aggregate}) == (None, alone)

    await _stored(database, key)
    stored, row = await EVENT.fetch(database, CALLER, key, {"aggregate_id": aggregate})
    assert row == alone and stored == await _read_stored(database, CALLER, key)
    assert stored is not None and stored.response_body == {"id": "một"} and stored.status_code == 201

    # a stored answer without the row, and neither
    missing = uuid.uuid4().hex
    assert await EVENT.fetch(database, CALLER, key, {"aggregate_id": missing}) == (stored, None)
    assert await EVENT.fetch(database, CALLER, uuid.uuid4().hex, {"aggregate_id": missing}) == (None, None)
    assert await EVENT.fetch(database, CALLER, None, {"aggregate_id": missing}) == (None, None)
