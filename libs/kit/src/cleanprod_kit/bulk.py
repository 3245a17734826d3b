"""Bulk actions: one request, many items, each item in its own transaction with its own answer.

`run_items` runs `work(item)` for each item and commits after each one; an item that raises a `Problem` (or hits
a constraint) is rolled back alone and answered with its problem+json body in the request's language, so an
item's failure never undoes the others. `bulk_once` honours `Idempotency-Key` on the whole request: the answer
is stored once all items ran, and a retry with the same key and body gets it back (`Idempotent-Replayed: true`)
without running anything again. While a keyed request runs, a session-level advisory lock on its own
connection (the items commit in between, so a transaction-scoped lock would not last) makes a concurrent retry
wait for it and then replay.

The answer is always `207 Multi-Status` with `{results: [{index, id, status, result?, problem?}], succeeded,
failed}`; `status` is the HTTP status the item would have had on its own (201, 404, 409, 412, …).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import JSONResponse, Response

from .auth import Principal
from .concurrency import etag_for
from .errors import Conflict, PreconditionFailed, PreconditionRequired, Problem, request_language
from .idempotency import _check_and_replay, _fingerprint, _lock_name, _lookup, _remember, idempotency_key

MULTI_STATUS = 207
T = TypeVar("T")


class BulkItemResult(BaseModel):
    index: int
    id: str
    status: int
    result: dict[str, Any] | None = None
    problem: dict[str, Any] | None = None


class BulkAnswer(BaseModel):
    """Per-item outcomes of a bulk action, in the order the items were sent."""

    results: list[BulkItemResult]
    succeeded: int
    failed: int


def check_item_version(given: int | None, current: int, *, required: bool) -> None:
    """The bulk form of If-Match: an item's `version` must be the record's current one (412), and is needed
    where the single action needs If-Match (428)."""
    if given is None:
        if required:
            raise PreconditionRequired()
        return
    if given != current:
        raise PreconditionFailed(current_etag=etag_for(current))


async def run_items(
    request: Request,
    session: AsyncSession,
    items: Sequence[T],
    *,
    item_id: Callable[[T], Any],
    work: Callable[[T], Awaitable[Any]],
    success_status: int = 201,
) -> BulkAnswer:
    language = request_language(request)
    results: list[BulkItemResult] = []
    for index, item in enumerate(items):
        ident = str(item_id(item))
        try:
            outcome = await work(item)
            await session.commit()
        except Problem as problem:
            await session.rollback()
            results.append(
                BulkItemResult(index=index, id=ident, status=problem.status, problem=problem.to_body(language=language))
            )
            continue
        except IntegrityError:  # a concurrent single action took the same place first
            await session.rollback()
            problem = Conflict(code="data_conflict")
            results.append(
                BulkItemResult(index=index, id=ident, status=problem.status, problem=problem.to_body(language=language))
            )
            continue
        results.append(BulkItemResult(index=index, id=ident, status=success_status, result=jsonable_encoder(outcome)))
    failed = sum(1 for r in results if r.problem is not None)
    return BulkAnswer(results=results, succeeded=len(results) - failed, failed=failed)


async def bulk_once(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    payload: Any,
    run: Callable[[], Awaitable[BulkAnswer]],
) -> Response:
    """Run the bulk action at most once per Idempotency-Key (see the module doc) and answer 207."""
    key = idempotency_key(request)
    if key is None:
        return JSONResponse(jsonable_encoder(await run()), status_code=MULTI_STATUS)
    fingerprint = _fingerprint(request, payload)
    name = _lock_name(principal, key)
    engine = session.bind
    async with engine.connect() as lock:  # type: ignore[union-attr]
        await lock.execute(text("SELECT pg_advisory_lock(hashtextextended(:k, 0))").bindparams(k=name))
        try:
            existing = await _lookup(session, principal, key)
            if existing is not None:
                return _check_and_replay(existing, fingerprint)
            await session.rollback()  # end the look-up's transaction: each item runs in its own
            body = jsonable_encoder(await run())
            _remember(session, request, principal, key, fingerprint, MULTI_STATUS, body, {})
            await session.commit()
            return JSONResponse(body, status_code=MULTI_STATUS)
        finally:
            await lock.execute(text("SELECT pg_advisory_unlock(hashtextextended(:k, 0))").bindparams(k=name))
            await lock.commit()
