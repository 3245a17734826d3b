"""Hot reads straight on the driver (kit `db.Read`, `Database.fetch`; issue 16): the same rows as the ORM session,
types SQLAlchemy would convert refused, connections lost meanwhile replaced, the driver's errors answered as
SQLAlchemy's are."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Integer, Numeric, bindparam, cast, literal, select
from sqlalchemy.types import String, TypeDecorator

from cleanprod_kit import db as kit_db
from cleanprod_kit.db import Database, Read, database_unavailable, value_rejected
from cleanprod_kit.models import OutboxEvent

EVENT_COLUMNS = (
    OutboxEvent.id,
    OutboxEvent.seq,
    OutboxEvent.event_type,
    OutboxEvent.aggregate_id,
    OutboxEvent.payload,
    OutboxEvent.occurred_at,
    OutboxEvent.published_at,
    OutboxEvent.attempts,
)
EVENT = Read(select(*EVENT_COLUMNS).where(OutboxEvent.aggregate_id == bindparam("aggregate_id")))


async def _event(database: Database) -> str:
    aggregate = uuid.uuid4().hex
    async with database.session() as session:
        session.add(
            OutboxEvent(
                event_type="registry.facility.registered",
                aggregate_type="facility",
                aggregate_id=aggregate,
                payload={"tên": "Nhà máy Thép Đông Anh", "sản phẩm": ["thép cán", "phôi"], "công suất": 1.5},
            )
        )
        await session.commit()
    return aggregate


async def test_a_read_answers_the_rows_the_orm_session_answers(database: Database) -> None:
    aggregate = await _event(database)
    async with database.read_session() as session:
        expected = [row._asdict() for row in await session.exec(EVENT.statement, params={"aggregate_id": aggregate})]
    rows = await database.fetch(EVENT, aggregate_id=aggregate)
    assert rows == expected and len(rows) == 1
    assert rows[0]["payload"]["tên"] == "Nhà máy Thép Đông Anh"  # JSON decoded, diacritics intact
    assert await database.fetch_one(EVENT, aggregate_id=uuid.uuid4().hex) is None


async def test_behind_pgbouncer_the_same_read_runs_on_the_engine(kit_db_url: str, database: Database) -> None:
    aggregate = await _event(database)
    bounced = Database(kit_db_url, pool_size=1, max_overflow=0, statement_cache_size=0)
    try:
        assert await bounced.fetch(EVENT, aggregate_id=aggregate) == await database.fetch(EVENT, aggregate_id=aggregate)
        assert bounced._reads is None  # no pool of its own: asyncpg cannot name statements apart there
    finally:
        await bounced.dispose()


async def test_values_fixed_in_the_statement_are_bound_too(database: Database) -> None:
    aggregate = await _event(database)
    read = Read(select(OutboxEvent.attempts).where(OutboxEvent.aggregate_id == aggregate, OutboxEvent.attempts < 5))
    assert await database.fetch(read) == [{"attempts": 0}]


class _Shouting(TypeDecorator[str]):
    impl = String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else value.upper()


async def test_an_in_list_rendered_per_execution_is_refused(database: Database) -> None:
    with pytest.raises(TypeError):
        await database.fetch(Read(select(OutboxEvent.id).where(OutboxEvent.aggregate_id.in_(["a", "b"]))))


async def test_values_are_converted_as_sqlalchemy_converts_them(database: Database) -> None:
    aggregate = await _event(database)
    read = Read(
        select(cast(OutboxEvent.event_type, _Shouting).label("kind"), cast(literal(1.25), Numeric(10, 2)).label("n"))
        .where(OutboxEvent.aggregate_id == bindparam("aggregate_id"), OutboxEvent.published_at.is_(None))
        .where(OutboxEvent.attempts < bindparam("attempts", type_=Integer))
    )
    async with database.read_session() as session:
        expected = (await session.exec(read.statement, params={"aggregate_id": aggregate, "attempts": 3})).one()  # type: ignore[call-overload]
    assert await database.fetch(read, aggregate_id=aggregate, attempts=3) == [{"kind": expected[0], "n": expected[1]}]
    assert expected[0] == "REGISTRY.FACILITY.REGISTERED"  # the type's own conversion ran


async def test_a_read_connection_dropped_by_the_database_is_replaced(
    database: Database, sync_dsn: Callable[[], str]
) -> None:
    pid = Read(select(literal(1).label("one")))
    await database.fetch(pid)
    pool = database._reads
    assert pool is not None
    async with pool.acquire() as connection:
        victim = connection.get_server_pid()
    other = await asyncpg.connect(sync_dsn())  # as a restart would
    try:
        await other.execute("SELECT pg_terminate_backend($1)", victim)
    finally:
        await other.close()
    await asyncio.sleep(0.2)
    assert await database.fetch(pid) == [{"one": 1}]


async def test_the_drivers_own_errors_are_classified_as_sqlalchemys() -> None:
    assert value_rejected(asyncpg.exceptions.NumericValueOutOfRangeError("out of range"))
    assert database_unavailable(asyncpg.exceptions.ConnectionDoesNotExistError("closed in the middle"))
    assert not database_unavailable(asyncpg.exceptions.UndefinedColumnError("a bug"))


async def test_a_read_waiting_too_long_for_a_connection_means_the_database_is_unavailable(
    kit_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kit_db, "READ_POOL_TIMEOUT_SECONDS", 0.2)
    one = Read(select(literal(1).label("one")))
    database = Database(kit_db_url, pool_size=1, max_overflow=0, read_pool_size=1)
    try:
        await database.fetch(one)
        assert database._reads is not None
        async with database._reads.acquire():  # the only read connection is busy
            with pytest.raises(TimeoutError) as waited:
                await database.fetch(one)
        assert database_unavailable(waited.value)  # answered 503 with Retry-After, as SQLAlchemy's pool timeout
        assert await database.fetch(one) == [{"one": 1}]
    finally:
        await database.dispose()
