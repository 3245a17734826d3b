"""Enterprise records: plain functions over a session; the views stay thin."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_contracts.v1 import events
from cleanprod_kit.audit import apply_changes, record_audit
from cleanprod_kit.auth import Principal
from cleanprod_kit.changes import readable_or_404
from cleanprod_kit.db import violated_constraint
from cleanprod_kit.errors import Conflict, Forbidden, field_error
from cleanprod_kit.outbox import emit
from cleanprod_kit.pagination import page_by_id
from cleanprod_kit.roles import Role
from cleanprod_kit.search import matches_all_words
from cleanprod_kit.tax_codes import canonical

from ..access import MANAGE_ROLES, ensure_readable, ensure_writable, owns, visibility_filter
from .models import Enterprise
from .schemas import EnterpriseCreate, EnterpriseUpdate


async def get_enterprise(session: AsyncSession, principal: Principal, enterprise_id: uuid.UUID) -> Enterprise:
    """The enterprise the caller may read (404 otherwise: existence is not disclosed)."""
    what = f"Enterprise {enterprise_id}"
    return await readable_or_404(
        session,
        Enterprise,
        enterprise_id,
        lambda enterprise: ensure_readable(principal, enterprise.tax_code, what),
        code="record_not_found",
        params={"what": what},
    )


async def create_enterprise(session: AsyncSession, principal: Principal, data: EnterpriseCreate) -> Enterprise:
    if principal.has(*MANAGE_ROLES):
        pass
    elif principal.has(Role.ENTERPRISE):
        # its own record, or one of its branch units (<own>-NNN): a head office registers its branches
        if not owns(principal, data.tax_code):
            raise Forbidden(
                code="tax_code_not_yours",
                params={"tax_code": principal.tax_code or "NNNNNNNNNN"},
                errors=[field_error("tax_code", None, "not_yours")],
            )
    else:
        raise Forbidden(code="enterprise_register_forbidden")
    enterprise = Enterprise(**data.model_dump())
    session.add(enterprise)
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        if violated_constraint(exc) == "enterprises_tax_code_key":
            raise Conflict(
                code="duplicate_tax_code",
                params={"tax_code": data.tax_code},
                errors=[field_error("tax_code", None, "duplicate_tax_code", tax_code=data.tax_code)],
            ) from None
        raise
    record_audit(
        session,
        principal,
        entity_type="enterprise",
        entity_id=enterprise.id,
        action="create",
        to_state="registered",
        details={"tax_code": enterprise.tax_code},
    )
    emit(
        session,
        "registry.enterprise.registered",
        aggregate_type="enterprise",
        aggregate_id=enterprise.id,
        payload=events.EnterpriseRegistered(
            id=enterprise.id, tax_code=enterprise.tax_code, name=enterprise.name
        ).payload(),
    )
    return enterprise


def apply_update(
    enterprise: Enterprise, principal: Principal, data: EnterpriseUpdate, session: AsyncSession
) -> dict[str, Any]:
    ensure_writable(principal, enterprise.tax_code, f"Enterprise {enterprise.id}")
    changes = data.model_dump(exclude_unset=True)
    changed = apply_changes(enterprise, changes)
    record_audit(
        session,
        principal,
        entity_type="enterprise",
        entity_id=enterprise.id,
        action="update",
        details={"fields": sorted(changes)},
        changes=changed,
    )
    emit(
        session,
        "registry.enterprise.updated",
        aggregate_type="enterprise",
        aggregate_id=enterprise.id,
        payload=events.EnterpriseUpdated(id=enterprise.id, fields=sorted(changes)).payload(),
    )
    return changes


async def list_enterprises(
    session: AsyncSession,
    principal: Principal,
    *,
    q: str | None,
    ward: str | None,
    district: str | None,
    tax_code: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Enterprise], str | None]:
    statement = select(Enterprise)
    visible = visibility_filter(principal)
    if visible is not None:
        statement = statement.where(visible)
    if q:
        condition = matches_all_words(Enterprise.search_text, q)
        if condition is not None:
            statement = statement.where(condition)
    if ward:
        statement = statement.where(Enterprise.ward == ward)
    if district:
        statement = statement.where(Enterprise.district == district)
    if tax_code:
        statement = statement.where(Enterprise.tax_code == canonical(tax_code))
    return await page_by_id(session, statement, Enterprise.id, limit=limit, cursor=cursor)
