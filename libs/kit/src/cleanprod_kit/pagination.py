"""Keyset (cursor) pagination: `limit` (1..200) and an opaque `cursor` that encodes the sort key of the last
row served. Pages never skip or repeat rows even while rows are being inserted."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import math
import uuid
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import BigInteger, ColumnElement, SmallInteger, literal, tuple_
from sqlalchemy.sql import Select
from sqlmodel.ext.asyncio.session import AsyncSession

from . import guard_codes
from .errors import Unprocessable, field_error
from .fields import Param

T = TypeVar("T")
MAX_LIMIT = 200

LimitParam = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (1–200)")]
CursorParam = Annotated[Param | None, Query(max_length=600, description="Opaque cursor from `next_cursor`")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


# Cursors are signed (HMAC-SHA256, truncated) with a per-deployment key, so a client cannot forge or edit one:
# whatever the decoded JSON would hold, a cursor this API did not issue is refused before it reaches a query.
DEV_CURSOR_KEY = b"cleanprod-dev-cursor-key"  # dev/test only; production sets <P>CURSOR_KEY
_SIGNATURE_BYTES = 16
INT64 = 2**63
# The key of the app serving the request (set per request by the app factory), so apps sharing a process in tests
# each keep their own.
cursor_key_var: ContextVar[bytes] = ContextVar("cursor_key", default=DEV_CURSOR_KEY)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode())


def _signature(payload: str) -> str:
    return _b64(hmac.new(cursor_key_var.get(), payload.encode(), hashlib.sha256).digest()[:_SIGNATURE_BYTES])


def invalid_cursor(field: str = "query.cursor", why: str = "is not one this API issued") -> Unprocessable:
    return Unprocessable(
        f"The cursor {why}; start again without it.",
        code=guard_codes.INVALID_CURSOR,
        errors=[field_error(field, "invalid cursor", guard_codes.INVALID_CURSOR)],
    )


def _plain(value: Any) -> bool:
    """Cursor values are strings, 64-bit integers, finite floats or null — nothing else is ever issued."""
    if value is None or isinstance(value, str):
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -INT64 <= value < INT64
    return isinstance(value, float) and math.isfinite(value)


def encode_cursor(values: Sequence[Any]) -> str:
    raw = orjson.dumps([str(v) if isinstance(v, uuid.UUID | dt.date | dt.datetime) else v for v in values])
    payload = _b64(raw)
    return f"{payload}.{_signature(payload)}"


def decode_cursor(cursor: str, arity: int, *, field: str = "query.cursor") -> list[Any]:
    payload, dot, signature = cursor.partition(".")
    if not dot or not hmac.compare_digest(signature.encode(), _signature(payload).encode()):  # any text, even non-ASCII
        raise invalid_cursor(field)
    try:
        values = orjson.loads(_unb64(payload))
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise invalid_cursor(field) from None
    if not isinstance(values, list) or len(values) != arity or not all(_plain(v) for v in values):
        raise invalid_cursor(field)
    return values


def _int_bound(column: ColumnElement[Any]) -> int:
    if isinstance(column.type, BigInteger):
        return INT64
    return 2**15 if isinstance(column.type, SmallInteger) else 2**31


def _typed(column: ColumnElement[Any], value: Any) -> Any:
    if value is None:
        return literal(value, column.type)
    try:
        value = _cursor_value(column, value)
    except (ValueError, TypeError, ArithmeticError):
        raise invalid_cursor(why="does not fit this list") from None
    return literal(value, column.type)


def _cursor_value(column: ColumnElement[Any], value: Any) -> Any:
    """A decoded cursor value as the column's Python type; TypeError/ValueError when it does not fit."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        python_type = None
    if python_type in (None, object):  # a type that names no Python type (e.g. SQLModel's AutoString): text
        if not isinstance(value, str):
            raise TypeError
        return value
    if python_type is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError
        if not -_int_bound(column) <= value < _int_bound(column):
            raise ValueError
        return value
    if python_type in (float, Decimal):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError
        return python_type(value)
    if not isinstance(value, str):
        raise TypeError
    if python_type is dt.datetime:
        return dt.datetime.fromisoformat(value)
    if python_type is dt.date:
        return dt.date.fromisoformat(value)
    return value if python_type is str else python_type(value)  # uuid.UUID and other text-made types


async def keyset_page(
    session: AsyncSession,
    statement: Select[Any],
    *,
    order_by: Sequence[ColumnElement[Any]],
    key: Callable[[Any], Sequence[Any]],
    limit: int,
    cursor: str | None,
    descending: bool = False,
    equal_first: Sequence[ColumnElement[Any]] = (),
) -> tuple[list[Any], str | None]:
    """Run `statement` ordered ascending (or `descending`) by `order_by` (the last column must be unique), one
    page at a time. `equal_first`: columns the statement fixes to one value, sorted on before `order_by` (the
    same order) so that an index on `(column, *order_by)` serves filter and order; not part of the cursor."""
    if cursor:
        last = decode_cursor(cursor, len(order_by))
        after = tuple_(*[_typed(c, v) for c, v in zip(order_by, last)])
        statement = statement.where(tuple_(*order_by) < after if descending else tuple_(*order_by) > after)
    columns = [*equal_first, *order_by]
    statement = statement.order_by(*[c.desc() for c in columns] if descending else columns).limit(limit + 1)
    rows = list((await session.exec(statement)).all())  # models for one entity, tuples for several
    next_cursor = encode_cursor(key(rows[limit - 1])) if len(rows) > limit else None
    return rows[:limit], next_cursor


async def page_by_id(
    session: AsyncSession,
    statement: Select[Any],
    id_column: Any,
    *,
    limit: int,
    cursor: str | None,
    descending: bool = False,
    equal_first: Sequence[ColumnElement[Any]] = (),
) -> tuple[list[Any], str | None]:
    """`keyset_page` ordered by the rows' unique `id` alone (`id_column`: the model's `id` attribute).

    `equal_first`: columns the statement fixes to one value (an equality filter). They go before the id in ORDER
    BY — the same order, as they are constant — so that an index `(column, id)` serves the filter and the order
    at once; without them a generic plan walks the primary key and filters, reading rows in proportion to the
    table (docs/performance.md "Lists"). The cursor still holds the id alone."""
    owner = id_column.class_  # the model whose id orders the page

    def key(row: Any) -> list[Any]:
        # One entity selected: the row is the model; several (select(A, B, …)): a tuple holding it; columns: a
        # row with an `id` column.
        if isinstance(row, owner):
            return [row.id]
        entity = next((e for e in row if isinstance(e, owner)), None)
        return [entity.id if entity is not None else row.id]

    return await keyset_page(
        session,
        statement,
        order_by=[id_column],
        key=key,
        limit=limit,
        cursor=cursor,
        descending=descending,
        equal_first=equal_first,
    )
