"""`Idempotency-Key` for creating POSTs: a retry with the same key (and the same body) gets the first response.

The key row is inserted in the same transaction as the resource it created, so either both exist or neither.
Concurrent requests with one key queue on a transaction-scoped advisory lock for that key, so the second one
sees the first one's committed answer and replays it (rather than racing it into a domain conflict).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from fastapi import Request
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import JSONResponse, Response

from .auth import Principal
from .errors import Unprocessable, field_error
from .models import IdempotencyRecord, utcnow
from .rows import queue_row

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


def json_values(value: Any) -> Any:
    """`jsonable_encoder(value)` — for a pydantic model the same values straight from pydantic's JSON mode (the
    encoder would walk the dumped values once more, key by key, for nothing)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    return jsonable_encoder(value)


def _fingerprint(request: Request, payload: Any) -> str:
    raw = orjson.dumps(json_values(payload), option=orjson.OPT_SORT_KEYS)
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
    key = idempotency_key(request)
    fingerprint = _fingerprint(request, payload)
    if key is not None:
        lock = text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))").bindparams(k=_lock_name(principal, key))
        await session.exec(lock)
        existing = await _lookup(session, principal, key)
        if existing is not None:
            return _check_and_replay(existing, fingerprint)
    created = await create()
    body = json_values(created.body)
    if key is not None:
        headers = {k: v for k, v in created.headers.items() if k.lower() in _KEPT_HEADERS}
        _remember(session, request, principal, key, fingerprint, created.status_code, body, headers)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        if key is None:
            raise
        existing = await _lookup(session, principal, key)
        if existing is None:  # the conflict was not the key: a real domain conflict
            raise
        return _check_and_replay(existing, fingerprint)
    return JSONResponse(body, status_code=created.status_code, headers=created.headers)


def _check_and_replay(record: Answer, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise Unprocessable(slug="idempotency-key-reused")
    return _replay(record)
