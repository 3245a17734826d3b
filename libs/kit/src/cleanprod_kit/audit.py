"""Audit trail: every state change records who (subject, name, role), when, from → to, why, and the request id."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from sqlalchemy import ColumnElement, Date, Text, and_, cast, func, literal, or_, true
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import StreamingResponse

from .auth import Principal, require_roles
from .columns import touch
from .db import SessionDep
from .errors import Unprocessable, field_error
from .exports import EXPORT_RESPONSES, PAGE_SIZE, Column, FormatQuery, export_response
from .fields import CalendarDate, Param
from .local_time import LOCAL_TZ_NAME
from .models import AuditEntry, utcnow
from .pagination import CursorParam, LimitParam, Page, page_by_id
from .requestid import current_request_id
from .rows import queue_row
from .search import matches_all_words


class FieldChange(BaseModel):
    """One changed field of an update: its stored value before and after (JSON values: dates as ISO text)."""

    field: str
    old: Any
    new: Any


# Columns every table keeps up to date itself; their change says nothing about what the user changed.
BOOKKEEPING_FIELDS = frozenset({"version", "created_at", "updated_at", "search_text"})


def snapshot(model: Any, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The JSON values of `model`'s fields (all of them by default), to compare before and after an update."""
    names = list(fields) if fields is not None else list(type(model).model_fields)
    return {name: to_jsonable_python(getattr(model, name)) for name in names}


def field_changes(
    before: Mapping[str, Any], after: Mapping[str, Any], *, ignore: Iterable[str] = BOOKKEEPING_FIELDS
) -> list[dict[str, Any]]:
    """`[{field, old, new}]` for each field whose value differs between two snapshots (field order of `after`).
    The one shape of "what changed" in every service's audit entries (`details.changes`)."""
    skipped = set(ignore)
    return [
        {"field": name, "old": before.get(name), "new": value}
        for name, value in after.items()
        if name not in skipped and before.get(name) != value
    ]


def apply_changes(model: Any, values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Set `values` on `model` and `touch` it; returns what changed (`field_changes`) for the update's audit entry."""
    before = snapshot(model)
    for name, value in values.items():
        setattr(model, name, value)
    touch(model)
    return field_changes(before, snapshot(model))


class AuditRecord(BaseModel):
    """One audit entry as the API shows it; `changes` = the old and new value of each field an update changed."""

    id: int
    at: dt.datetime
    entity_type: str
    entity_id: str
    action: str
    actor_subject: str
    actor_name: str | None
    actor_role: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    request_id: str | None
    details: dict[str, Any]
    changes: list[FieldChange] = []

    @classmethod
    def of(cls, e: AuditEntry) -> AuditRecord:
        return cls(
            id=e.id,
            at=e.occurred_at,
            entity_type=e.entity_type,
            entity_id=e.entity_id,
            action=e.action,
            actor_subject=e.actor_subject,
            actor_name=e.actor_name,
            actor_role=e.actor_role,
            from_state=e.from_state,
            to_state=e.to_state,
            reason=e.reason,
            request_id=e.request_id,
            details=e.details,
            changes=[FieldChange.model_validate(c) for c in e.details.get("changes") or []],
        )


def audit_row(
    principal: Principal,
    *,
    entity_type: str,
    entity_id: Any,
    action: str,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    changes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One audit entry's column values. `changes` (from `field_changes`) is stored as `details.changes`; an update
    records it even when empty."""
    if changes is not None:
        details = {**(details or {}), "changes": changes}
    return {
        "occurred_at": utcnow(),
        "actor_subject": principal.subject,
        "actor_name": principal.display_name,
        "actor_role": principal.primary_role,
        "entity_type": entity_type,
        "entity_id": str(entity_id),
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "reason": reason,
        "request_id": current_request_id(),
        "details": details or {},
    }


def record_audit(session: AsyncSession, principal: Principal, **entry: Any) -> AuditEntry:
    """Add the audit entry (`audit_row`'s arguments) to `session` as an ORM row."""
    row = AuditEntry(**audit_row(principal, **entry))
    session.add(row)
    return row


def queue_audit(session: AsyncSession, principal: Principal, **entry: Any) -> None:
    """The audit entry (`audit_row`'s arguments), written with the session's other queued rows in one statement
    at commit (`rows.py`): what a hot write path uses instead of `record_audit`'s ORM row."""
    queue_row(session, AUDIT_TABLE, audit_row(principal, **entry))


AUDIT_TABLE = AuditEntry.__table__  # type: ignore[attr-defined]


async def audit_page(
    session: AsyncSession,
    condition: ColumnElement[bool],
    *,
    limit: int,
    cursor: str | None,
    descending: bool = False,
) -> tuple[list[AuditRecord], str | None]:
    """The audit entries matching `condition`, oldest first (newest first when `descending`), one cursor page at
    a time."""
    rows, next_cursor = await page_by_id(
        session, select(AuditEntry).where(condition), AuditEntry.id, limit=limit, cursor=cursor, descending=descending
    )
    return [AuditRecord.of(e) for e in rows], next_cursor


# --- Audit search across every entity of a service (`GET /api/v1/audit/<service>`) -----------------------------
# One helper for the three services: the gateway routes one prefix per service (`/api/v1/audit/registry`, …) and
# the portal merges the three answers by time. Newest first: an auditor looks for what happened lately.

AUDIT_SEARCH_ROLES = ("officer", "auditor")


def audit_search_condition(
    *,
    actor: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    action: str | None = None,
    occurred_from: dt.date | None = None,
    occurred_to: dt.date | None = None,
    text: str | None = None,
) -> ColumnElement[bool]:
    """The filters of the audit search: `actor` = the subject or (accent-insensitively) part of the name; dates
    are Hanoi days, both ends included; `text` = every word in the name, reason, entity id, states or details
    (old and new values), accent-insensitive."""
    a = AuditEntry
    parts: list[ColumnElement[bool]] = []
    if actor:
        name = func.cp_fold(func.coalesce(a.actor_name, ""))
        by_name = matches_all_words(name, actor)
        parts.append(or_(a.actor_subject == actor, by_name) if by_name is not None else a.actor_subject == actor)
    if entity_type:
        parts.append(a.entity_type == entity_type)
    if entity_id:
        parts.append(a.entity_id == entity_id)
    if action:
        parts.append(a.action == action)
    local_day = cast(func.timezone(LOCAL_TZ_NAME, a.occurred_at), Date)
    if occurred_from:
        parts.append(local_day >= occurred_from)
    if occurred_to:
        parts.append(local_day <= occurred_to)
    if text:
        blob = func.cp_fold(
            func.concat_ws(
                literal(" "),
                a.actor_name,
                a.actor_subject,
                a.entity_type,
                a.entity_id,
                a.action,
                a.from_state,
                a.to_state,
                a.reason,
                cast(a.details, Text),
            )
        )
        words = matches_all_words(blob, text)
        if words is not None:
            parts.append(words)
    return and_(true(), *parts)


async def audit_search_page(
    session: AsyncSession, condition: ColumnElement[bool], *, limit: int, cursor: str | None
) -> tuple[list[AuditRecord], str | None]:
    """Like `audit_page`, newest first (the id is the order entries were written in)."""
    return await audit_page(session, condition, limit=limit, cursor=cursor, descending=True)


AUDIT_EXPORT_COLUMNS_SPEC = (
    ("at", "Thời điểm", "When", "datetime"),
    ("actor_name", "Người thực hiện", "Who", "text"),
    ("actor_subject", "Mã tài khoản", "Account id", "text"),
    ("actor_role", "Vai trò", "Role", "text"),
    ("entity_type", "Loại đối tượng", "Entity type", "text"),
    ("entity_id", "Mã đối tượng", "Entity id", "text"),
    ("action", "Hành động", "Action", "text"),
    ("from_state", "Trạng thái trước", "From state", "text"),
    ("to_state", "Trạng thái sau", "To state", "text"),
    ("changes", "Thay đổi (cũ → mới)", "Changes (old → new)", "text"),
    ("reason", "Lý do", "Reason", "text"),
    ("request_id", "Mã yêu cầu", "Request id", "text"),
)


def changes_text(changes: Iterable[Any]) -> str:
    """`field: old → new; …` — how an export cell shows an entry's changes."""

    def value(v: Any) -> str:
        return "∅" if v is None else (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))

    parts = []
    for c in changes:
        c = c if isinstance(c, Mapping) else c.model_dump()
        parts.append(f"{c['field']}: {value(c.get('old'))} → {value(c.get('new'))}")
    return "; ".join(parts)


def audit_export_columns() -> list[Column]:
    def cell(key: str) -> Any:
        if key == "changes":
            return lambda r: changes_text(r["changes"] if isinstance(r, Mapping) else r.changes)
        return None

    return [Column(key, vi, en, kind, cell(key)) for key, vi, en, kind in AUDIT_EXPORT_COLUMNS_SPEC]


class AuditFilters:
    """The search's query parameters (shared by the search and its export)."""

    def __init__(
        self,
        actor: Param | None = Query(None, max_length=255, description="Account id, or words of the name"),
        entity_type: Param | None = Query(None, max_length=64),
        entity_id: Param | None = Query(None, max_length=64),
        action: Param | None = Query(None, max_length=64),
        occurred_from: CalendarDate | None = Query(None, alias="from", description="On or after (Hanoi day)"),
        occurred_to: CalendarDate | None = Query(None, alias="to", description="On or before (Hanoi day)"),
        q: Param | None = Query(None, max_length=200, description="Words anywhere (accent-insensitive)"),
    ) -> None:
        if occurred_from and occurred_to and occurred_to < occurred_from:
            where = {"start": "from", "end": "to"}
            raise Unprocessable(
                code="range_order", params=where, errors=[field_error("query.to", None, "range_order", **where)]
            )
        self.condition = audit_search_condition(
            actor=actor,
            entity_type=entity_type,
            entity_id=entity_id,
            action=action,
            occurred_from=occurred_from,
            occurred_to=occurred_to,
            text=q,
        )


def audit_search_router(service: str) -> APIRouter:
    """`GET /api/v1/audit/<service>` (the search, `Page[AuditRecord]`) and `…/export?format=csv|xlsx` (the same
    entries as a file), for officers and auditors. Every service includes it once with its own name."""
    router = APIRouter(
        prefix=f"/api/v1/audit/{service}", tags=["audit"], dependencies=[Depends(require_roles(*AUDIT_SEARCH_ROLES))]
    )

    @router.get("", response_model=Page[AuditRecord], summary=f"Audit search across the {service}'s entities")
    async def search(
        session: SessionDep,
        filters: Annotated[AuditFilters, Depends()],
        limit: LimitParam = 50,
        cursor: CursorParam = None,
    ) -> Page[AuditRecord]:
        """Every audit entry of this service matching the filters, newest first, with `changes` (old → new)."""
        items, next_cursor = await audit_search_page(session, filters.condition, limit=limit, cursor=cursor)
        return Page(items=items, next_cursor=next_cursor)

    @router.get("/export", response_class=StreamingResponse, responses=EXPORT_RESPONSES)
    async def export(
        request: Request,
        filters: Annotated[AuditFilters, Depends()],
        export_format: FormatQuery = "csv",
    ) -> StreamingResponse:
        """The search's entries as CSV or XLSX, newest first, one row per entry (changes as `field: old → new`)."""

        async def fetch(cursor: str | None) -> tuple[list[Any], str | None]:
            async with request.app.state.db.session() as session:
                return await audit_search_page(session, filters.condition, limit=PAGE_SIZE, cursor=cursor)

        return await export_response(request, export_format, f"audit-{service}", audit_export_columns(), fetch)

    return router
