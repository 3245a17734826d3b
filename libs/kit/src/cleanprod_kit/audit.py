"""Audit trail: every state change records who (subject, name, role), when, from → to, why, and the request id."""

from __future__ import annotations

from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from .auth import Principal
from .models import AuditEntry
from .requestid import current_request_id


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
