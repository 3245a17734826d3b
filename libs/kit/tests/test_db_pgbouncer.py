"""`*_DB_STATEMENT_CACHE_SIZE=0` (db.statement_cache_options) against a real PgBouncer in transaction mode (Debian's
package; infra/pgbouncer.py), as the services run behind the CloudNativePG Pooler in infra/k8s. With asyncpg's
defaults a statement prepared on one server connection is reused on another and fails; with the setting, every
transaction works wherever PgBouncer puts it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Integer, bindparam, select, text
from sqlalchemy.exc import DBAPIError

from cleanprod_kit.db import Database, Read
from infra import pgbouncer


@pytest.fixture(scope="module")
def bouncer(pg_instance: Any, kit_db_url: str) -> Iterator[pgbouncer.PgBouncer]:
    assert pgbouncer.available(), (
        "install Debian's pgbouncer (./cleanprod test does as root): apt-get install pgbouncer"
    )
    running = pgbouncer.start_pgbouncer(pg_instance, pool_size=2)
    yield running
    running.stop()


async def _reuse_on_another_server_connection(database: Database) -> None:
    """Run a statement, then run it again while the server connection it was prepared on is held by another
    client's open transaction: PgBouncer has to lend this client the second server connection."""
    async with database.engine.connect() as first:
        await first.execute(text("SELECT 41 + 1"))
        await first.commit()
        async with database.engine.connect() as second:
            await second.execute(text("SELECT 2"))  # an open transaction: its server connection is taken
            assert (await first.execute(text("SELECT 41 + 1"))).scalar() == 42
            await first.commit()
            await second.commit()


async def test_driver_defaults_fail_behind_transaction_pooling(bouncer: pgbouncer.PgBouncer) -> None:
    database = Database(bouncer.url("kit_test"), pool_size=2, max_overflow=0)
    try:
        with pytest.raises(DBAPIError, match="prepared statement .* does not exist"):
            await _reuse_on_another_server_connection(database)
    finally:
        await database.dispose()


async def test_no_statement_cache_works_behind_transaction_pooling(bouncer: pgbouncer.PgBouncer) -> None:
    database = Database(bouncer.url("kit_test"), pool_size=4, max_overflow=0, statement_cache_size=0)
    try:
        await _reuse_on_another_server_connection(database)

        async def client(n: int) -> list[int]:
            answers = []
            async with database.session() as session:
                for m in range(10):
                    statement = text("SELECT CAST(:n AS int) * 100 + :m").bindparams(n=n, m=m)
                    answers.append((await session.exec(statement)).scalar_one())
                    await session.commit()  # each transaction may land on either server connection
            return answers

        results = await asyncio.gather(*(client(n) for n in range(8)))
        assert results == [[n * 100 + m for m in range(10)] for n in range(8)]
    finally:
        await database.dispose()


async def test_hot_reads_work_behind_transaction_pooling(bouncer: pgbouncer.PgBouncer) -> None:
    """`Database.fetch` (kit `Read`) runs on the engine there: every read answers, wherever PgBouncer puts it."""
    database = Database(bouncer.url("kit_test"), pool_size=4, max_overflow=0, statement_cache_size=0)
    read = Read(select((bindparam("n", type_=Integer) * 100 + bindparam("m", type_=Integer)).label("v")))
    try:

        async def client(n: int) -> list[int]:
            return [(await database.fetch(read, n=n, m=m))[0]["v"] for m in range(10)]

        results = await asyncio.gather(*(client(n) for n in range(8)))
        assert results == [[n * 100 + m for m in range(10)] for n in range(8)]
    finally:
        await database.dispose()


async def test_writes_in_autocommit_work_behind_transaction_pooling(bouncer: pgbouncer.PgBouncer) -> None:
    """`Database.write` runs on the engine there, as `fetch` does: every statement lands, wherever PgBouncer puts
    it."""
    database = Database(bouncer.url("kit_test"), pool_size=4, max_overflow=0, statement_cache_size=0)
    aggregate = uuid.uuid4().hex
    insert = text(
        "INSERT INTO outbox_events (id, event_type, aggregate_type, aggregate_id, payload, occurred_at, attempts) "
        "SELECT gen_random_uuid(), 'thing.written', 'thing', :aggregate, CAST(:payload AS JSONB), now(), 0"
    )
    try:
        await asyncio.gather(*(database.write(insert, {"aggregate": aggregate, "payload": "{}"}) for _ in range(8)))
        counted = text("SELECT count(*) AS n FROM outbox_events WHERE aggregate_id = :aggregate")
        async with database.engine.connect() as connection:
            assert (await connection.execute(counted, {"aggregate": aggregate})).scalar_one() == 8
    finally:
        await database.dispose()


async def test_single_statements_work_behind_transaction_pooling(bouncer: pgbouncer.PgBouncer) -> None:
    """What runs one statement at a time — `Database.autocommit` (the outbox's claim, the mail sender's
    statements) and read sessions — runs in a transaction of its own there: in autocommit, asyncpg's prepare and
    execute may land on two server connections."""
    database = Database(bouncer.url("kit_test"), pool_size=4, max_overflow=0, statement_cache_size=0)
    aggregate = uuid.uuid4().hex
    insert = text(
        "INSERT INTO outbox_events (id, event_type, aggregate_type, aggregate_id, payload, occurred_at, attempts) "
        "SELECT gen_random_uuid(), 'thing.written', 'thing', :aggregate, CAST('{}' AS JSONB), now(), 0 RETURNING id"
    )

    async def written() -> int:
        return len(await database.autocommit(insert, {"aggregate": aggregate}))

    async def read(n: int) -> int:
        async with database.read_session() as session:
            return (await session.execute(text("SELECT CAST(:n AS INT) + 1"), {"n": n})).scalar_one()

    try:
        for _ in range(5):
            assert await asyncio.gather(*(written() for _ in range(8))) == [1] * 8
            assert await asyncio.gather(*(read(n) for n in range(8))) == [n + 1 for n in range(8)]
        counted = text("SELECT count(*) FROM outbox_events WHERE aggregate_id = :aggregate")
        assert (await database.autocommit(counted, {"aggregate": aggregate}))[0][0] == 40
    finally:
        await database.dispose()
