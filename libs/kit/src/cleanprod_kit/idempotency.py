"""`Idempotency-Key` for creating POSTs: a retry with the same key (and the same body) gets the first response.

The key row is inserted in the same transaction as the resource it created, so either both exist or neither.
Concurrent requests with one key queue on a transaction-scoped advisory lock for that key, so the second one
sees the first one's committed answer and replays it (rather than racing it into a domain conflict).

`insert_once` is the same promise for a create that writes only queued rows (`rows.py`) and reads nothing a twin
could make it fail on: no transaction at all — the look-up on the read pool, then one autocommitted statement
writes the resource's rows with the key's record (issue 16). A create that reads one row first (a draft its call)
gives that read as a `ReadWithAnswer`: the row and the key's stored answer come back in one statement.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from fastapi import Request
from sqlalchemy import Select, bindparam, literal_column, select, text, true
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import JSONResponse, Response

from .auth import Principal
from .db import Database, Read
from .errors import Unprocessable, field_error
from .json_values import jsonable
from .models import IdempotencyRecord, utcnow
from .rows import queue_row, write_autocommit

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Visible ASCII only: what an HTTP header carries unchanged (surrounding spaces are stripped on the way), and what
# the OpenAPI document declares as the header's pattern.
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_KEY = re.compile(KEY_PATTERN.strip("^$"))
_KEPT_HEADERS = ("etag", "location")


@dataclass
class Created:
    status_code: int
    body: Any
    headers: dict[str, str]


def _fingerprint(request: Request, payload: Any) -> str:
    raw = orjson.dumps(jsonable(payload), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(request.method.encode() + request.url.path.encode() + raw).hexdigest()


class Answer(Protocol):
    """A stored answer as the replay reads it (a row of `idempotency_keys`)."""

    fingerprint: str
    status_code: int
    response_body: Any
    response_headers: dict[str, str]


def _replay(record: Answer) -> Response:
    headers = dict(record.response_headers)
    headers[REPLAYED_HEADER] = "true"
    return JSONResponse(record.response_body, status_code=record.status_code, headers=headers)


_KEYS = IdempotencyRecord.__table__  # type: ignore[attr-defined]
_LOOKUP = select(_KEYS.c.fingerprint, _KEYS.c.status_code, _KEYS.c.response_body, _KEYS.c.response_headers).where(
    _KEYS.c.principal == bindparam("principal"), _KEYS.c.key == bindparam("key")
)
"""Built once; the stored answer's columns as a plain row (no ORM object: most look-ups find nothing)."""


_LOOKUP_READ = Read(_LOOKUP)
_STORED = {
    column: f"idempotency_{column}" for column in ("fingerprint", "status_code", "response_body", "response_headers")
}


class ReadWithAnswer:
    """The one row a create reads before it writes (a SELECT of at most one row whose first column is never NULL
    in a found row, e.g. its primary key), built once two ways: alone, for a request without Idempotency-Key, and
    beside the key's look-up — `SELECT stored answer, row FROM (one row) LEFT JOIN stored LEFT JOIN row` — so a
    create with a key reads both in one round trip instead of two (issue 16)."""

    def __init__(self, statement: Select[Any]) -> None:
        self.alone = Read(statement)
        self.keys = self.alone.keys
        wanted, stored = statement.subquery("wanted"), _LOOKUP.subquery("stored")
        one = select(literal_column("1").label("one")).subquery("one")
        self.with_answer = Read(
            select(*(stored.c[name].label(label) for name, label in _STORED.items()), *wanted.c)
            .select_from(one)
            .outerjoin(stored, true())
            .outerjoin(wanted, true())
        )

    async def fetch(
        self, database: Database, principal: Principal, key: str | None, params: dict[str, Any]
    ) -> tuple[Answer | None, dict[str, Any] | None]:
        """The key's stored answer (None without a key or when none is stored) and the row (None if none)."""
        if key is None:
            return None, await database.fetch_one(self.alone, **params)
        found = await database.fetch_one(self.with_answer, principal=principal.subject, key=key, **params)
        assert found is not None  # the one-row FROM: always a row
        stored = _Stored(**{name: found[label] for name, label in _STORED.items()})
        row = {name: found[name] for name in self.keys}
        return (
            stored if stored.fingerprint is not None else None,
            row if row[self.keys[0]] is not None else None,
        )


@dataclass
class _Stored:
    fingerprint: str
    status_code: int
    response_body: Any
    response_headers: dict[str, str]


async def _read_stored(database: Database, principal: Principal, key: str) -> Answer | None:
    found = await database.fetch_one(_LOOKUP_READ, principal=principal.subject, key=key)
    return _Stored(**found) if found is not None else None


async def _lookup(session: AsyncSession, principal: Principal, key: str) -> Answer | None:
    found = await session.exec(_LOOKUP, params={"principal": principal.subject, "key": key})  # type: ignore[call-overload]
    return found.first()  # type: ignore[no-any-return]


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _KEY.fullmatch(key):
        raise Unprocessable(
            code="invalid_idempotency_key",
            errors=[field_error("header.Idempotency-Key", None, "invalid_idempotency_key")],
        )
    return key


def _lock_name(principal: Principal, key: str) -> str:
    """The advisory lock that serialises the requests of one principal carrying one key."""
    return f"idempotency:{principal.subject}:{key}"


def _remember(
    session: AsyncSession,
    request: Request,
    principal: Principal,
    key: str,
    fingerprint: str,
    status_code: int,
    body: Any,
    headers: dict[str, str],
) -> None:
    """Keep the answer to replay to a repeat of the key: queued (`rows.py`), so it is written with the change's
    other queued rows in one statement when the change commits; a concurrent twin's row makes that commit raise."""
    queue_row(
        session,
        IdempotencyRecord.__table__,  # type: ignore[attr-defined]
        {
            "principal": principal.subject,
            "key": key,
            "method": request.method,
            "path": request.url.path,
            "fingerprint": fingerprint,
            "status_code": status_code,
            "response_body": body,
            "response_headers": headers,
            "created_at": utcnow(),
        },
    )


async def create_once(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    payload: Any,
    create: Callable[[], Awaitable[Created]],
) -> Response:
    """Run `create` (which adds rows to `session` without committing), commit, and answer — at most once per key."""

    async def look_up(key: str) -> Answer | None:  # under the key's lock, until the commit
        lock = text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))").bindparams(k=_lock_name(principal, key))
        await session.exec(lock)
        return await _lookup(session, principal, key)

    async def commit() -> None:
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            raise

    async def look_up_after_conflict(key: str) -> Answer | None:
        return await _lookup(session, principal, key)

    return await _answer_once(request, session, principal, payload, create, look_up, commit, look_up_after_conflict)


async def insert_once(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    payload: Any,
    create: Callable[..., Awaitable[Created]],
    *,
    read: ReadWithAnswer | None = None,
    params: dict[str, Any] | None = None,
) -> Response:
    """`create_once` without a transaction, for a `create` that only queues rows on `session` (`rows.queue_row`,
    no ORM object added) and reads through the read pool (`Database.fetch`), never through `session`: the key is
    looked up on the read pool, and the queued rows — the key's record among them — are written by one statement
    in autocommit (one statement is atomic: every row or none). Four round trips fewer than `create_once` (BEGIN,
    the advisory lock, an ORM look-up, COMMIT).

    With `read` (and its `params`), the row it reads is looked up with the key in one statement and `create` is
    called with it (None when there is none); without, `create` takes no argument.

    Without the lock, two requests with one key may both create: PostgreSQL makes the second statement wait on
    the key's primary key until the first commits, then fails it, and the second answers the first's replay —
    what the lock gives, as long as nothing `create` reads can fail the twin otherwise (a uniqueness checked by
    a read: use `create_once`)."""
    database: Database = request.app.state.db
    found: list[dict[str, Any] | None] = []  # the row `read` found, once read

    async def look_up_key(key: str) -> Answer | None:
        return await _read_stored(database, principal, key)

    async def look_up(key: str) -> Answer | None:
        if read is None:
            return await look_up_key(key)
        stored, row = await read.fetch(database, principal, key, params or {})
        found.append(row)
        return stored

    async def create_after_read() -> Created:
        if read is None:
            return await create()
        if not found:  # no key: the row alone
            found.append((await read.fetch(database, principal, None, params or {}))[1])
        return await create(found[0])

    async def write() -> None:
        await write_autocommit(database, session)

    return await _answer_once(request, session, principal, payload, create_after_read, look_up, write, look_up_key)


async def _answer_once(  # noqa: PLR0913 - the two ways above differ only in how they look up and write
    request: Request,
    session: AsyncSession,
    principal: Principal,
    payload: Any,
    create: Callable[[], Awaitable[Created]],
    look_up: Callable[[str], Awaitable[Answer | None]],
    write: Callable[[], Awaitable[None]],
    look_up_after_conflict: Callable[[str], Awaitable[Answer | None]],
) -> Response:
    """A stored answer for the key is replayed; else `create` runs, the key's record is queued beside its rows and
    `write` writes them. A conflict on write is the key's twin that got there first (its answer is replayed) or a
    real domain conflict (raised)."""
    key = idempotency_key(request)
    fingerprint = _fingerprint(request, payload)
    if key is not None:
        existing = await look_up(key)
        if existing is not None:
            return _check_and_replay(existing, fingerprint)
    created = await create()
    body = jsonable(created.body)
    if key is not None:
        headers = {k: v for k, v in created.headers.items() if k.lower() in _KEPT_HEADERS}
        _remember(session, request, principal, key, fingerprint, created.status_code, body, headers)
    try:
        await write()
    except IntegrityError:
        existing = None if key is None else await look_up_after_conflict(key)
        if existing is None:  # no key, or the conflict was not the key: a real domain conflict
            raise
        return _check_and_replay(existing, fingerprint)
    return JSONResponse(body, status_code=created.status_code, headers=created.headers)


def _check_and_replay(record: Answer, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise Unprocessable(slug="idempotency-key-reused")
    return _replay(record)
