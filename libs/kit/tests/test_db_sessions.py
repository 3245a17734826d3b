"""The request session's two modes and the idle-connection ping (kit db.py, issue 16)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import asyncpg
import httpx
import pytest
from fastapi import FastAPI, HTTPException
from sqlalchemy import text

from cleanprod_kit import db as kit_db
from cleanprod_kit.db import Database, SessionDep


def app_on(database: Database) -> FastAPI:
    app = FastAPI()
    app.state.db = database

    async def two_transaction_ids(session: SessionDep) -> list[int]:
        return [(await session.exec(text("SELECT txid_current()"))).scalar_one() for _ in range(2)]  # type: ignore[call-overload]

    app.get("/ids")(two_transaction_ids)
    app.post("/ids")(two_transaction_ids)
    return app


async def test_a_safe_request_reads_in_autocommit_and_a_change_in_one_transaction(database: Database) -> None:
    transport = httpx.ASGITransport(app=app_on(database))
    async with httpx.AsyncClient(transport=transport, base_url="http://kit") as client:
        read = (await client.get("/ids")).json()
        change = (await client.post("/ids")).json()
    assert read[0] != read[1]  # each statement its own transaction: no BEGIN, no ROLLBACK
    assert change[0] == change[1]  # one transaction for the whole request


async def test_an_idle_connection_lost_meanwhile_is_replaced_unnoticed(
    database: Database, sync_dsn: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kit_db, "PING_AFTER_IDLE_SECONDS", 0.05)
    async with database.session() as session:
        victim = (await session.exec(text("SELECT pg_backend_pid()"))).scalar_one()  # type: ignore[call-overload]
    other = await asyncpg.connect(sync_dsn())  # the database drops the pooled connection, as a restart would
    try:
        await other.execute("SELECT pg_terminate_backend($1)", victim)
    finally:
        await other.close()
    await asyncio.sleep(0.1)
    async with database.session() as session:  # the idle connection is pinged, found dead and replaced
        backend = (await session.exec(text("SELECT pg_backend_pid()"))).scalar_one()  # type: ignore[call-overload]
    assert backend != victim


async def test_the_request_session_is_closed_once_answered_and_rolled_back_when_the_route_failed(
    database: Database,
) -> None:
    app = FastAPI()
    app.state.db = database

    async def note_then_fail(session: SessionDep) -> None:
        await session.exec(
            text(
                "INSERT INTO audit_log (occurred_at, actor_subject, actor_role, entity_type, entity_id, action, details) "  # type: ignore[call-overload]
                "VALUES (now(), 't', 'officer', 'probe', 'rolled-back', 'poke', '{}')"
            )
        )
        raise HTTPException(409)

    async def read(session: SessionDep) -> int:
        return (await session.exec(text("SELECT 1"))).scalar_one()  # type: ignore[call-overload]

    app.post("/fail")(note_then_fail)
    app.get("/read")(read)
    pool = database.engine.sync_engine.pool
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kit") as client:
        assert (await client.get("/read")).json() == 1
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
        assert (await client.post("/fail")).status_code == 409
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
    async with database.session() as session:
        kept = (await session.exec(text("SELECT count(*) FROM audit_log WHERE entity_id = 'rolled-back'"))).scalar_one()  # type: ignore[call-overload]
    assert kept == 0
