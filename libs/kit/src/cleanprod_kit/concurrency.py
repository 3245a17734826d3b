"""Optimistic concurrency: every mutable resource has an integer `version`, sent as a strong ETag.

Writers must send `If-Match` (428 when missing, 412 when stale). The row is read `FOR UPDATE` before the
comparison, so two writers with the same `If-Match` serialise on the row lock and exactly one wins.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request, Response
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from .errors import NotFound, PreconditionFailed, PreconditionRequired

T = TypeVar("T")


def etag_for(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag_for(version)


def _parse_if_match(raw: str) -> list[str]:
    return [part.strip().removeprefix("W/") for part in raw.split(",") if part.strip()]


def check_if_match(request: Request, current_version: int) -> None:
    raw = request.headers.get("if-match")
    if raw is None:
        raise PreconditionRequired()  # code if_match_required
    tags = _parse_if_match(raw)
    if "*" in tags:
        return
    if etag_for(current_version) not in tags:
        raise PreconditionFailed(current_etag=etag_for(current_version))  # code stale_version


async def get_for_update(session: AsyncSession, model: type[T], ident: Any, *, what: str | None = None) -> T:
    # populate_existing: an object already in the session must be refreshed from the locked row.
    statement = select(model).where(model.id == ident).with_for_update().execution_options(populate_existing=True)  # type: ignore[attr-defined]
    result = await session.exec(statement)
    obj = result.first()
    if obj is None:
        raise NotFound(code="record_not_found", params={"what": f"{what or model.__name__} {ident}"})
    return obj
