"""Keyset (cursor) pagination: `limit` (1..200) and an opaque `cursor` that encodes the sort key of the last
row served. Pages never skip or repeat rows even while rows are being inserted."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, literal, tuple_
from sqlalchemy.sql import Select
from sqlmodel.ext.asyncio.session import AsyncSession

from .errors import Unprocessable, field_error

T = TypeVar("T")
MAX_LIMIT = 200

LimitParam = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (1–200)")]
CursorParam = Annotated[str | None, Query(max_length=512, description="Opaque cursor from `next_cursor`")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(values: Sequence[Any]) -> str:
    raw = orjson.dumps([str(v) if isinstance(v, uuid.UUID | dt.date | dt.datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != arity:
            raise ValueError
        return values
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise Unprocessable("The cursor is not one this API issued; start again without it.",
                            errors=[field_error("query.cursor", "invalid cursor")]) from None


def _typed(column: ColumnElement[Any], value: Any) -> Any:
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        python_type = None
    if value is None or python_type is None or isinstance(value, python_type):
        return literal(value, column.type)
    try:
        if python_type is uuid.UUID:
            value = uuid.UUID(value)
        elif python_type is dt.datetime:
            value = dt.datetime.fromisoformat(value)
        elif python_type is dt.date:
            value = dt.date.fromisoformat(value)
        else:
            value = python_type(value)
    except (ValueError, TypeError):
        raise Unprocessable("The cursor does not fit this list; start again without it.",
                            errors=[field_error("query.cursor", "invalid cursor")]) from None
    return literal(value, column.type)


async def keyset_page(
    session: AsyncSession,
    statement: Select[Any],
    *,
    order_by: Sequence[ColumnElement[Any]],
    key: Callable[[Any], Sequence[Any]],
    limit: int,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    """Run `statement` ordered ascending by `order_by` (the last column must be unique), one page at a time."""
    if cursor:
        last = decode_cursor(cursor, len(order_by))
        statement = statement.where(tuple_(*order_by) > tuple_(*[_typed(c, v) for c, v in zip(order_by, last)]))
    statement = statement.order_by(*order_by).limit(limit + 1)
    rows = list((await session.exec(statement)).all())  # models for one entity, tuples for several
    next_cursor = encode_cursor(key(rows[limit - 1])) if len(rows) > limit else None
    return rows[:limit], next_cursor
