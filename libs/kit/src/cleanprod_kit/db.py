"""Async database access: one engine per process, one session per request (SQLModel's AsyncSession).

Two costs are kept off the hot path (issue 16, docs/performance.md "Requests"):
- a pooled connection is pinged only when it has been idle for `PING_AFTER_IDLE_SECONDS` (after a database
  restart the first checkout of every idle connection notices and replaces it), not on every checkout as
  `pool_pre_ping` does — that ping was three round trips (BEGIN; ;; ROLLBACK) per request;
- a safe request (GET, HEAD) reads in autocommit: each statement is its own transaction, as under READ
  COMMITTED every statement sees a fresh snapshot anyway, so the answer is the same without BEGIN and ROLLBACK.
  Safe requests do not write (a flush with changes in such a session is logged as an error).

The hottest simple reads skip the session altogether: a `Read` (a SELECT built once) runs on the driver through
`Database.fetch`, on a small pool of its own.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Annotated, Any

import asyncpg
from anyio import CancelScope
from fastapi import Depends, Request
from sqlalchemy import TextClause, event, text
from sqlalchemy.engine import Dialect, Row
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.sql import Executable, Select
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from . import rows

log = logging.getLogger("cleanprod.db")

PING_AFTER_IDLE_SECONDS = 1.0
READ_POOL_TIMEOUT_SECONDS = 30.0
"""How long a hot read waits for a connection of the read pool (as SQLAlchemy's `pool_timeout`): then 503."""
SAFE_METHODS = frozenset({"GET", "HEAD"})


def statement_cache_options(statement_cache_size: int | None) -> dict[str, Any]:
    """Engine options for asyncpg's prepared-statement caches. None keeps the driver's defaults (a direct
    connection). 0 is for PgBouncer in transaction mode, where consecutive transactions of one client connection
    run on different server connections: nothing is cached (neither asyncpg's own cache nor SQLAlchemy's), and
    each statement asyncpg still prepares gets a unique name, so two clients never collide on a server connection
    (`prepared statement "__asyncpg_stmt_1__" already exists`)."""
    if statement_cache_size is None:
        return {}
    # SQLAlchemy's asyncpg adapter takes its own cache size and the name function from the connect arguments.
    connect: dict[str, Any] = {
        "statement_cache_size": statement_cache_size,
        "prepared_statement_cache_size": statement_cache_size,
    }
    if statement_cache_size == 0:
        connect["prepared_statement_name_func"] = lambda: f"__cp_{uuid.uuid4().hex}__"
    return {"connect_args": connect}


class Read:
    """A SELECT built once and compiled once to the driver's own SQL (`$1`… in the order SQLAlchemy binds), for
    the hottest reads (`Database.fetch`): run straight on asyncpg, without an ORM session and without
    SQLAlchemy's work per execution — for a simple read that was most of its CPU, ~4× the driver's own
    (issue 16, docs/performance.md "Requests"). Rows come back as dicts of the selected columns' keys.

    Values are converted as SQLAlchemy converts them: each parameter by its type's bind processor, each column
    by its type's result processor for the type the database describes (known at the first execution); JSON is
    decoded by the read pool's codec, as SQLAlchemy's dialect does. IN lists (rendered per execution) are refused."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self.sql = ""
        self.keys = tuple(column.key for column in statement.selected_columns)
        # (name, value fixed in the statement or _REQUIRED, bind processor) per parameter, in the driver's order
        self._binds: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...] = ()
        self._results: tuple[Callable[[Any], Any] | None, ...] | None = None  # None: not described yet

    def compile(self, dialect: Dialect) -> str:
        if not self.sql:
            compiled = self.statement.compile(dialect=dialect)
            sql = str(compiled)
            if "POSTCOMPILE" in sql:
                raise TypeError("expanding parameters (IN lists) are rendered per execution: not a Read")
            binds = []
            for name in compiled.positiontup or ():
                bind = compiled.binds[name]
                fixed = _REQUIRED if bind.required else bind.effective_value
                binds.append((name, fixed, bind.type.dialect_impl(dialect).bind_processor(dialect)))
            self._binds = tuple(binds)
            self.sql = sql
        return self.sql

    def parameters(self, params: dict[str, Any]) -> list[Any]:
        values = []
        for name, fixed, process in self._binds:
            value = params[name] if fixed is _REQUIRED or name in params else fixed
            values.append(process(value) if process is not None else value)
        return values

    @property
    def described(self) -> bool:
        return self._results is not None

    def describe(self, dialect: Dialect, type_oids: list[int]) -> None:
        """The result processors for the column types the database describes (SQLAlchemy chooses by them)."""
        self._results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, oid)
            for column, oid in zip(self.statement.selected_columns, type_oids, strict=True)
        )

    def rows(self, records: Sequence[Any]) -> list[dict[str, Any]]:
        keys, processors = self.keys, self._results or ()
        if not any(processors):
            return [dict(zip(keys, record, strict=True)) for record in records]
        return [
            {k: (p(v) if p is not None else v) for k, p, v in zip(keys, processors, record, strict=True)}
            for record in records
        ]


_REQUIRED = object()


async def _json_codecs(connection: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await connection.set_type_codec(kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    """A read connection runs single SELECTs in autocommit and changes no session state, so nothing is reset
    when it goes back to the pool (asyncpg's default reset is one more round trip per read)."""


class Database:
    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 10,
        echo: bool = False,
        statement_cache_size: int | None = None,
        read_pool_size: int = 10,
    ) -> None:
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            echo=echo,
            **statement_cache_options(statement_cache_size),
        )
        _ping_idle_connections(self.engine)
        self.sessionmaker = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        # What runs one statement at a time — read sessions, `autocommit` — runs in autocommit: a single statement
        # is atomic, and BEGIN and COMMIT are two round trips. Not behind PgBouncer in transaction mode (statement
        # cache 0): there the driver's prepare and execute of a statement outside a transaction may land on two
        # server connections (`prepared statement … does not exist`), so each runs in a transaction of its own.
        self.single_statements: AsyncEngine = (
            self.engine if statement_cache_size == 0 else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self.read_sessionmaker = async_sessionmaker(
            self.single_statements,
            class_=AsyncSession,
            sync_session_class=_ReadSession,
            expire_on_commit=False,
        )

        self.read_pool_size = read_pool_size
        # Set by tracing (Tracing.instrument_database): a span around each hot read; None = not traced.
        self.statement_span: Callable[[str], AbstractContextManager[None]] | None = None
        self.statement_cache_size = statement_cache_size
        self._reads: asyncpg.Pool | None = None
        self._reads_opening = asyncio.Lock()

    def session(self) -> AsyncSession:
        return self.sessionmaker()

    async def fetch(self, read: Read, **params: Any) -> list[dict[str, Any]]:
        """The rows of a hot read (`Read`), on the read pool: small, autocommit, opened on first use. Behind
        PgBouncer in transaction mode (statement cache 0) the same statement runs on a Core connection of the
        engine instead — same rows — as asyncpg cannot name its statements apart there."""
        if self.statement_cache_size == 0:
            async with self.engine.connect() as connection:
                result = await connection.execute(read.statement, params)
                return [dict(zip(read.keys, row, strict=True)) for row in result]
        sql = read.compile(self.engine.dialect)
        values = read.parameters(params)
        pool = self._reads or await self._open_reads()
        async with pool.acquire(timeout=READ_POOL_TIMEOUT_SECONDS) as connection:
            if not read.described:
                statement = await connection.prepare(sql)
                read.describe(self.engine.dialect, [a.type.oid for a in statement.get_attributes()])
            if self.statement_span is None:
                records = await connection.fetch(sql, *values)
            else:
                with self.statement_span(sql):
                    records = await connection.fetch(sql, *values)
        return read.rows(records)

    async def fetch_one(self, read: Read, **params: Any) -> dict[str, Any] | None:
        rows = await self.fetch(read, **params)
        return rows[0] if rows else None

    async def autocommit(self, statement: Executable, params: dict[str, Any]) -> Sequence[Row[Any]]:
        """One statement alone, on an engine connection of its own, in autocommit (`single_statements`; behind
        PgBouncer in a transaction of its own): its rows, none for a plain write."""
        async with self.single_statements.begin() as connection:
            result = await connection.execute(statement, params)
            return result.all() if result.returns_rows else []

    async def write(self, statement: TextClause, params: dict[str, Any]) -> None:
        """One statement (a textual one, e.g. `rows.statement`'s) in autocommit, on the read pool's driver
        connections: without SQLAlchemy's execution path — a Core connection, its events, the compiled cache's
        look-up and a result — which cost about as much as the round trip itself (issue 16). A constraint it breaks
        raises SQLAlchemy's `IntegrityError` (the driver's error as `orig`), as the engine would. Behind PgBouncer
        (statement cache 0) it is `autocommit`'s, as asyncpg cannot name its statements apart there."""
        if self.statement_cache_size == 0:
            await self.autocommit(statement, params)
            return
        sql, names = _driver_sql(statement, self.engine.dialect)
        values = [params[name] for name in names]
        pool = self._reads or await self._open_reads()
        async with pool.acquire(timeout=READ_POOL_TIMEOUT_SECONDS) as connection:
            try:
                if self.statement_span is None:
                    await connection.execute(sql, *values)
                else:
                    with self.statement_span(sql):
                        await connection.execute(sql, *values)
            except asyncpg.IntegrityConstraintViolationError as exc:
                raise IntegrityError(sql, params, exc) from exc

    async def _open_reads(self) -> asyncpg.Pool:
        async with self._reads_opening:
            if self._reads is None:
                url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
                self._reads = await asyncpg.create_pool(
                    url,
                    min_size=0,
                    max_size=self.read_pool_size,
                    init=_json_codecs,
                    reset=_nothing_to_reset,
                    **(
                        {} if self.statement_cache_size is None else {"statement_cache_size": self.statement_cache_size}
                    ),
                )
            return self._reads

    def read_session(self) -> AsyncSession:
        """A session for reading only, in autocommit (no BEGIN/ROLLBACK round trips)."""
        return self.read_sessionmaker()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        if self._reads is not None:
            await self._reads.close()
            self._reads = None
        await self.engine.dispose()


@functools.lru_cache(maxsize=256)
def _driver_sql(statement: TextClause, dialect: Dialect) -> tuple[str, tuple[str, ...]]:
    """`statement` compiled once to the driver's SQL (`$1`…), with its parameters' names in that order."""
    compiled = statement.compile(dialect=dialect)
    return str(compiled), tuple(compiled.positiontup or ())


def _ping_idle_connections(engine: AsyncEngine) -> None:
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return  # new, or in use a moment ago
        try:
            dbapi_connection.ping()
        except Exception as exc:  # noqa: BLE001 - any failure: the pool replaces the connection and retries
            raise DisconnectionError(f"idle connection lost: {exc}") from exc


class _ReadSession(Session):
    """The synchronous side of `Database.read_session()`."""


@event.listens_for(_ReadSession, "before_flush")
def _read_session_flushed(session: Any, flush_context: Any, instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        log.error("a safe (GET/HEAD) request writes: its changes are committed statement by statement")


async def get_session(request: Request) -> AsyncSession:
    """The request's session: autocommit reads for a safe request, one transaction (the route commits) otherwise.
    Closed once the response is sent, also when the route raised (closing rolls back what was not committed) —
    what `async with session` around a `yield` did, without the cost of a generator dependency: FastAPI wraps
    each one in two context managers and a cancel scope, and the session's own `__aexit__` starts a task to
    close it (~10 % of a simple read's CPU, issue 16). The close is registered on the request's exit stack,
    the one FastAPI closes request-scoped dependencies with."""
    database: Database = request.app.state.db
    session = database.read_session() if request.method in SAFE_METHODS else database.session()
    request.scope["fastapi_inner_astack"].push_async_callback(_close, session)
    return session


async def _close(session: AsyncSession) -> None:
    with CancelScope(shield=True):  # a cancelled request still returns its connection to the pool
        await session.close()


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def release(session: AsyncSession) -> None:
    """End the session's read-only transaction before calling another service: a transaction kept open across an
    HTTP call holds its locks and a pooled connection for as long as the other side takes (issue 12). The
    objects read stay usable (sessions do not expire on commit); the next statement begins a new transaction."""
    if session.new or session.dirty or session.deleted or rows.queued(session):
        raise RuntimeError("release() ends read-only work; this session has unsaved changes")
    if session.in_transaction():
        await session.commit()


def violated_constraint(exc: IntegrityError) -> str | None:
    """Name of the constraint an IntegrityError broke (asyncpg exposes it on the original exception)."""
    orig: Any = getattr(exc, "orig", None)
    for candidate in (orig, getattr(orig, "__cause__", None)):
        name = getattr(candidate, "constraint_name", None)
        if name:
            return str(name)
    return None


def null_violation(exc: IntegrityError) -> str | None:
    """The column a NOT NULL violation names, if that is what the IntegrityError is."""
    orig: Any = getattr(exc, "orig", None)
    for candidate in (orig, getattr(orig, "__cause__", None)):
        if isinstance(candidate, asyncpg.exceptions.NotNullViolationError):
            return str(getattr(candidate, "column_name", None) or "") or None
    return None


# asyncpg's errors for a server that is down, starting, shutting down or full (not InterfaceError: that is also
# misuse, a bug; a connection closed under us shows as `connection_invalidated`).
_UNREACHABLE = (
    asyncpg.exceptions.PostgresConnectionError,  # class 08: connection failure, does not exist, rejected
    asyncpg.exceptions.CannotConnectNowError,  # starting up
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.ConnectionDoesNotExistError,  # lost under a hot read (SQLAlchemy: connection_invalidated)
)
_DRIVER_MODULES = ("asyncpg", "sqlalchemy")


def _raised_by_driver(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__", "").startswith(_DRIVER_MODULES):
            return True
        tb = tb.tb_next
    return False


def _sqlstate(exc: DBAPIError | asyncpg.PostgresError) -> str:
    orig: Any = getattr(exc, "orig", exc)  # a hot read (Read) raises the driver's own error
    for candidate in (orig, getattr(orig, "__cause__", None)):
        state = getattr(candidate, "sqlstate", None)
        if state:
            return str(state)
    return ""


def value_rejected(exc: BaseException) -> bool:
    """PostgreSQL refused a value (SQLSTATE class 22: out of range, too long, bad date…) that slipped past the
    request schema: the client's input, answered 422, not a server fault."""
    return isinstance(exc, DBAPIError | asyncpg.PostgresError) and _sqlstate(exc).startswith("22")


def concurrent_write_lost(exc: BaseException) -> bool:
    """A deadlock (40P01) or serialization failure (40001): another transaction won this write; the loser is told
    to re-read and retry (409), as for any conflicting write."""
    return isinstance(exc, DBAPIError | asyncpg.PostgresError) and _sqlstate(exc) in ("40001", "40P01")


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` means the database cannot be reached right now (refused or lost connection, unknown host,
    pool exhausted, server starting or shutting down) — a reason to answer 503, not a bug."""
    if isinstance(exc, SATimeoutError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        return any(isinstance(c, (*_UNREACHABLE, OSError)) for c in (exc.orig, getattr(exc.orig, "__cause__", None)))
    if isinstance(exc, _UNREACHABLE):
        return True
    # The driver lets socket errors through unwrapped while connecting: only those count, not e.g. a file error.
    return isinstance(exc, OSError) and _raised_by_driver(exc)
