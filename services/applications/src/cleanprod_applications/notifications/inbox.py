"""What a caller sees of the notifications: the rows addressed to its user id, to its enterprise (an enterprise
token's tax code, matched to the enterprise ids of its applications) or to one of its realm roles, less the
optional kinds it switched off in the portal; and its own read marks."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, literal, or_
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.auth import Principal
from cleanprod_kit.errors import NotFound
from cleanprod_kit.models import utcnow
from cleanprod_kit.pagination import keyset_page
from cleanprod_kit.roles import Role
from cleanprod_kit.tax_codes import canonical

from ..applications.models import Application
from .models import Notification, NotificationPreference, NotificationRead
from .texts import render

# Roles whose holders are people who log in (a service or e-gov client has no inbox).
PERSON_ROLES = (Role.ENTERPRISE, Role.REVIEWER, Role.OFFICER, Role.VERIFIER, Role.FINANCE, Role.AUDITOR)


def addressed_to(principal: Principal) -> ColumnElement[bool]:
    """The rows addressed to the caller (exactly those: a row of another user, enterprise or role never matches)."""
    conditions: list[Any] = [Notification.recipient_user_id == principal.subject]
    tax_code = principal.enterprise_tax_code()
    if tax_code is not None:
        own = select(Application.enterprise_id).where(Application.enterprise_tax_code == canonical(tax_code))
        conditions.append(Notification.recipient_enterprise_id.in_(own))  # type: ignore[union-attr]
    roles = [role for role in PERSON_ROLES if principal.has(role)]
    if roles:
        conditions.append(Notification.recipient_role.in_(roles))  # type: ignore[union-attr]
    return or_(*conditions)


def _switched_off(principal: Principal) -> ColumnElement[bool]:
    """Optional kinds the caller turned off in the portal (statutory ones are never stored off)."""
    return Notification.kind.in_(  # type: ignore[attr-defined]
        select(NotificationPreference.kind).where(
            NotificationPreference.user_id == principal.subject,
            NotificationPreference.channel == "in_app",
            NotificationPreference.enabled.is_(False),  # type: ignore[attr-defined]
        )
    )


def _read_by(principal: Principal) -> ColumnElement[bool]:
    return exists().where(
        NotificationRead.notification_id == Notification.id, NotificationRead.user_id == principal.subject
    )


def visible_to(principal: Principal) -> ColumnElement[bool]:
    return and_(addressed_to(principal), ~_switched_off(principal))


def to_item(notification: Notification, read: bool, language: str) -> dict[str, Any]:
    title, body = render(notification.kind, notification.params, language)
    return {
        "id": notification.id,
        "kind": notification.kind,
        "statutory": notification.statutory,
        "title": title,
        "body": body,
        "link": notification.link,
        "application_id": notification.application_id,
        "dossier_code": notification.params.get("dossier_code"),
        "created_at": notification.created_at,
        "read": read,
    }


async def list_for(
    session: AsyncSession, principal: Principal, *, unread: bool, limit: int, cursor: str | None, language: str
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first (ids are time-ordered uuid7)."""
    read = _read_by(principal)
    statement = select(Notification, read.label("read")).where(visible_to(principal))
    if unread:
        statement = statement.where(~read)
    rows, next_cursor = await keyset_page(
        session,
        statement,
        order_by=[Notification.id],  # type: ignore[list-item]
        key=lambda row: [row[0].id],
        limit=limit,
        cursor=cursor,
        descending=True,
    )
    return [to_item(notification, bool(is_read), language) for notification, is_read in rows], next_cursor


async def unread_count(session: AsyncSession, principal: Principal) -> int:
    statement = select(func.count()).select_from(Notification).where(visible_to(principal), ~_read_by(principal))
    return int((await session.exec(statement)).one())


async def mark_read(session: AsyncSession, principal: Principal, notification_id: uuid.UUID) -> None:
    """404 for a row not addressed to the caller, as for a missing one (its existence is not disclosed)."""
    found = (
        await session.exec(select(Notification.id).where(Notification.id == notification_id, addressed_to(principal)))
    ).first()
    if found is None:
        raise NotFound(code="notification_not_found", params={"notification_id": str(notification_id)})
    statement = (
        insert(NotificationRead)
        .values(notification_id=notification_id, user_id=principal.subject, read_at=utcnow())
        .on_conflict_do_nothing(index_elements=["notification_id", "user_id"])
    )
    await session.exec(statement)  # type: ignore[call-overload]


async def mark_all_read(session: AsyncSession, principal: Principal) -> None:
    unread = select(Notification.id, literal(principal.subject), literal(utcnow())).where(
        addressed_to(principal), ~_read_by(principal)
    )
    statement = (
        insert(NotificationRead)
        .from_select(["notification_id", "user_id", "read_at"], unread)
        .on_conflict_do_nothing(index_elements=["notification_id", "user_id"])
    )
    await session.exec(statement)  # type: ignore[call-overload]
