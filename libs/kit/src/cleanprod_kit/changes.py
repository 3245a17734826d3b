"""The one pipeline for a change, in the same order in every service:

    check read access → lock → If-Match → act → audit/event → commit → answer

A route gets a `Change` from its service's `deps.py` (an `Annotated` dependency that knows how to read the
resource the caller may see) and does three things:

    application = await change.lock()                          # read access (404) → FOR UPDATE → If-Match
    await flows.file_dossier(change.session, change.principal, application, …)  # act, audit entry, outbox event
    return await change.answer(response, ApplicationPublic)    # commit → ETag of the new version → public schema

A creating POST uses `change.create_once(payload, create)` instead of `answer` (Idempotency-Key, one commit);
a 204 uses `change.commit()`. Where If-Match names another row's version (a child row with its own, e.g. a saved
draft), the route locks with `lock(if_match=IfMatch.OTHER_ROW)` and calls `change.check_version(…)` on that row.
The acting step is the service's (its `flows.py`); it writes the audit entry (`audit.record_audit`) and the event
(`outbox.emit`) in the caller's transaction, so the change, its audit entry and its event commit together.

The OpenAPI document (`openapi.py`) lists If-Match and 412/428 for every route that depends on a `Change`, and
Idempotency-Key for one that calls `change.create_once`; a route that only needs the row lock, not If-Match, uses
`lock_row` instead.

Why the lock is taken by `change.lock()` in the route and not by the dependency itself: FastAPI resolves a
route's dependencies before it validates the body, so a dependency that locked (and checked If-Match) would
answer 404/412/428 where a bad body is a 422 today. Taking the lock in the route's first line keeps
"the body is checked first" and still leaves the order of the steps to this module.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from fastapi import Request, Response
from pydantic import BaseModel
from sqlalchemy import inspect as sa_inspect
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from .auth import Principal
from .concurrency import check_if_match, etag_for, set_etag
from .errors import NotFound
from .idempotency import Created, create_once


class Versioned(Protocol):
    """A mutable resource: its integer `version` is its ETag."""

    version: int


R = TypeVar("R", bound=Versioned)
T = TypeVar("T")
S = TypeVar("S")

Public = type[S] | Callable[[Any], S | Awaitable[S]]
"""How a resource becomes its answer: a pydantic schema (filled with `model_validate(…, from_attributes=True)`),
or a function (plain or async) of the resource."""


class IfMatch(StrEnum):
    REQUIRED = "required"  # 428 without If-Match, 412 when stale: every change of the resource itself
    WHEN_SENT = "when_sent"  # checked only when the client sent one (adding a child row, e.g. an assignment)
    OTHER_ROW = "other_row"  # If-Match names another row's version (a child with its own, e.g. a saved draft):
    # `lock()` does not check it; the route calls `change.check_version(…)` once it has read that row


async def readable_or_404(
    session: AsyncSession,
    model: type[T],
    ident: Any,
    ensure_readable: Callable[[T], Awaitable[None] | None],
    *,
    code: str,
    params: Mapping[str, str],
) -> T:
    """The row `ident` of `model` if the caller may read it. A missing row is 404 `code`; `ensure_readable`
    (the service's access rule) raises for a row the caller may not see — 404 too, so existence is not
    disclosed, or 403 where the service's rules say so."""
    found = await session.get(model, ident)
    if found is None:
        raise NotFound(code=code, params=dict(params))
    checked = ensure_readable(found)
    if inspect.isawaitable(checked):
        await checked
    return found


async def _locked(session: AsyncSession, resource: T) -> T | None:
    mapper = sa_inspect(type(resource))
    key = mapper.primary_key_from_instance(resource)
    same_key = [column == value for column, value in zip(mapper.primary_key, key, strict=True)]
    statement = select(type(resource)).where(*same_key).with_for_update().execution_options(populate_existing=True)
    return (await session.exec(statement)).first()


async def lock_row(session: AsyncSession, resource: T) -> T:
    """Re-read `resource`'s row `FOR UPDATE`; the object in the session is refreshed from the locked row, so
    what the change acts on is what was committed last (another writer may have committed meanwhile). A row
    deleted since it was read is 404 `record_not_found`."""
    locked = await _locked(session, resource)
    if locked is None:
        session.expunge(resource)
        raise NotFound(code="record_not_found", params={"what": type(resource).__name__})
    return locked


def check_version(request: Request, version: int, if_match: IfMatch = IfMatch.REQUIRED) -> None:
    """The If-Match step: 428 `if_match_required` without one (when required), 412 `stale_version` when it
    names another version than `version`."""
    if if_match is IfMatch.OTHER_ROW:
        return
    if if_match is IfMatch.REQUIRED or request.headers.get("if-match") is not None:
        check_if_match(request, version)


async def public_of(resource: Any, public: Public[S]) -> S:
    """The answer for `resource` (see `Public`)."""
    if isinstance(public, type) and issubclass(public, BaseModel):
        return public.model_validate(resource, from_attributes=True)  # type: ignore[return-value]
    result = public(resource)
    if inspect.isawaitable(result):
        return await result
    return result  # type: ignore[return-value]


class _RowWith:
    """`row`'s attributes, with `derived` values in front: what `from_attributes` reads for `public_from`."""

    def __init__(self, row: Any, derived: Mapping[str, Any]) -> None:
        self._row, self._derived = row, derived

    def __getattr__(self, name: str) -> Any:
        if name in self._derived:
            return self._derived[name]
        return getattr(self._row, name)


_ABSENT = object()
_READ_BY_NAME: dict[type[Any], tuple[str, ...] | None] = {}


def _names_read(schema: type[BaseModel]) -> tuple[str, ...] | None:
    """The attribute names `from_attributes` reads for `schema`: its fields' names — None when a field is read
    by another name (an alias), which only pydantic resolves, or when a model validator sees the input itself
    (it would be given a dict instead of the row)."""
    if schema not in _READ_BY_NAME:
        validators = schema.__pydantic_decorators__.model_validators.values()
        plain = all(f.alias is None and f.validation_alias is None for f in schema.model_fields.values()) and all(
            v.info.mode == "after" for v in validators
        )
        _READ_BY_NAME[schema] = tuple(schema.model_fields) if plain else None
    return _READ_BY_NAME[schema]


def public_from(schema: type[S], row: Any, **derived: Any) -> S:
    """`schema` filled from `row` by field name (`model_validate(…, from_attributes=True)`), with `derived` values
    for the fields a row has not (computed, nested, renamed): only those are listed, never a copy of each column.

    The values are read into a dict first, each once, and the dict validated (nested values still from
    attributes): the same values pydantic would read, without a Python `__getattr__` call per field — about half
    the cost of an application's answer (issue 16)."""
    names = _names_read(schema)  # type: ignore[arg-type]
    if names is None:
        return schema.model_validate(_RowWith(row, derived), from_attributes=True)  # type: ignore[attr-defined, no-any-return]
    values = {}
    for name in names:
        value = derived[name] if name in derived else getattr(row, name, _ABSENT)
        if value is not _ABSENT:  # left out: pydantic gives the field's default, or says it is missing
            values[name] = value
    return schema.model_validate(values, from_attributes=True)  # type: ignore[attr-defined, no-any-return]


def created(body: Any, *, version: int, location: str, status_code: int = 201) -> Created:
    """What a creating POST answers: the new resource, its ETag and where it lives (for `create_once`)."""
    return Created(status_code, body, {"ETag": etag_for(version), "Location": location})


class Change(Generic[R]):
    """One change of one resource by one caller, step by step in the pipeline's order (module docstring).

    `read` loads the resource the caller may read (404 otherwise, before any lock: strangers never queue behind
    a row they cannot see). `if_match` is the route's default for `lock()`.

    `read_locked`, when a service has one, replaces read + re-read by one statement: the row `FOR UPDATE`
    with the caller's access rule in its WHERE clause (so a row the caller may not see is neither returned nor
    locked: strangers still never queue behind it), raising the service's 404 when it finds nothing. Each
    statement saved is a round trip and SQLAlchemy's work for it (issue 16)."""

    def __init__(
        self,
        request: Request,
        session: AsyncSession,
        principal: Principal,
        read: Callable[[], Awaitable[R]],
        *,
        if_match: IfMatch = IfMatch.REQUIRED,
        read_locked: Callable[[], Awaitable[R]] | None = None,
    ) -> None:
        self.request = request
        self.session = session
        self.principal = principal
        self._read = read
        self._read_locked = read_locked
        self._if_match = if_match
        self.resource: R | None = None

    async def lock(self, *, if_match: IfMatch | None = None, check: Callable[[R], None] | None = None) -> R:
        """Read access → row lock → `check` (a state rule that must win over a stale If-Match, optional) →
        If-Match. Returns the locked resource, refreshed."""
        if self._read_locked is not None:
            resource = await self._read_locked()
        else:
            read = await self._read()
            locked = await _locked(self.session, read)
            if locked is None:  # deleted since it was read: read again, so the 404 is the service's own
                self.session.expunge(read)
                await self._read()
                raise NotFound(code="record_not_found", params={"what": type(read).__name__})
            resource = locked
        if check is not None:
            check(resource)
        check_version(self.request, resource.version, self._if_match if if_match is None else if_match)
        self.resource = resource
        return resource

    def check_version(self, version: int, if_match: IfMatch = IfMatch.REQUIRED) -> None:
        """If-Match against another row's version (after `lock(if_match=IfMatch.OTHER_ROW)`)."""
        check_version(self.request, version, if_match)

    async def commit(self) -> None:
        """Commit without an answer of the resource (a 204, or an answer the route builds itself)."""
        if self.resource is None:
            raise RuntimeError("Change.commit before Change.lock: nothing was changed")
        await self.session.commit()

    async def answer(self, response: Response, public: Public[S], resource: Versioned | None = None) -> S:
        """Commit, then answer: the ETag of the new version (of `resource`, by default the locked one) and the
        public schema."""
        await self.commit()
        target = resource if resource is not None else self.resource
        assert target is not None  # commit() refuses a change that locked nothing
        set_etag(response, target.version)
        return await public_of(target, public)

    async def create_once(self, payload: Any, create: Callable[[], Awaitable[Created]]) -> Response:
        """For a creating POST: run `create` (it may call `lock()` and act), commit and answer once per
        Idempotency-Key (`idempotency.create_once`)."""
        return await create_once(self.request, self.session, self.principal, payload, create)
