"""Audit trail: every state change records who (subject, name, role), when, from → to, why, and the request id."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from .auth import Principal
from .models import AuditEntry
from .pagination import keyset_page
from .requestid import current_request_id


class AuditRecord(BaseModel):
    """One audit entry as the API shows it."""

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
) -> AuditEntry:
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
    return [AuditRecord(id=e.id, at=e.occurred_at, entity_type=e.entity_type, entity_id=e.entity_id,
                        action=e.action, actor_subject=e.actor_subject, actor_name=e.actor_name,
                        actor_role=e.actor_role, from_state=e.from_state, to_state=e.to_state, reason=e.reason,
                        request_id=e.request_id, details=e.details) for e in rows], next_cursor
