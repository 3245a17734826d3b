"""Audit trail: every state change records who (subject, name, role), when, from → to, why, and the request id."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from sqlalchemy import ColumnElement
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from .auth import Principal
from .models import AuditEntry
from .pagination import keyset_page
from .requestid import current_request_id


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


def field_changes(before: Mapping[str, Any], after: Mapping[str, Any], *,
                  ignore: Iterable[str] = BOOKKEEPING_FIELDS) -> list[dict[str, Any]]:
    """`[{field, old, new}]` for each field whose value differs between two snapshots (field order of `after`).
    The one shape of "what changed" in every service's audit entries (`details.changes`)."""
    skipped = set(ignore)
    return [{"field": name, "old": before.get(name), "new": value} for name, value in after.items()
            if name not in skipped and before.get(name) != value]


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
        return cls(id=e.id, at=e.occurred_at, entity_type=e.entity_type, entity_id=e.entity_id,
                   action=e.action, actor_subject=e.actor_subject, actor_name=e.actor_name,
                   actor_role=e.actor_role, from_state=e.from_state, to_state=e.to_state, reason=e.reason,
                   request_id=e.request_id, details=e.details,
                   changes=[FieldChange.model_validate(c) for c in e.details.get("changes") or []])


def record_audit(
    session: AsyncSession,
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
) -> AuditEntry:
    """`changes` (from `field_changes`) is stored as `details.changes`; an update records it even when empty."""
    if changes is not None:
        details = {**(details or {}), "changes": changes}
    entry = AuditEntry(
        actor_subject=principal.subject,
        actor_name=principal.display_name,
        actor_role=principal.primary_role,
        entity_type=entity_type,
        entity_id=str(entity_id),
        action=action,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        request_id=current_request_id(),
        details=details or {},
    )
    session.add(entry)
    return entry


async def audit_trail(session: AsyncSession, entity_type: str, entity_id: Any) -> list[AuditEntry]:
    result = await session.exec(
        select(AuditEntry)
        .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == str(entity_id))
        .order_by(AuditEntry.id)  # type: ignore[arg-type]
    )
    return list(result.all())


async def audit_page(session: AsyncSession, condition: ColumnElement[bool], *, limit: int, cursor: str | None
                     ) -> tuple[list[AuditRecord], str | None]:
    """The audit entries matching `condition`, oldest first, one cursor page at a time."""
    rows, next_cursor = await keyset_page(session, select(AuditEntry).where(condition),
                                          order_by=[AuditEntry.id],  # type: ignore[list-item]
                                          key=lambda e: [e.id], limit=limit, cursor=cursor)
    return [AuditRecord.of(e) for e in rows], next_cursor
