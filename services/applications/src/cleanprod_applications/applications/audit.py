"""The audit entry of something done to an application that leaves its status where it is (an edit, an
attachment, a supplement, a verdict held back): from and to state are both the status now."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.audit import record_audit
from cleanprod_kit.auth import Principal
from cleanprod_kit.models import AuditEntry

from .models import ENTITY, Application


def audit_application(
    session: AsyncSession, actor: Principal, application: Application, action: str, **fields: Any
) -> AuditEntry:
    """`fields`: what `record_audit` takes besides the entity and the states (reason, details, changes)."""
    status = str(application.status)
    return record_audit(
        session,
        actor,
        entity_type=ENTITY,
        entity_id=application.id,
        action=action,
        from_state=status,
        to_state=status,
        **fields,
    )
