"""Each user's choice per kind and channel (in-app, e-mail). No row means on; statutory kinds cannot be switched
off (422 `notification_statutory`), so they are never stored off and every reader may trust that."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.auth import Principal
from cleanprod_kit.errors import Unprocessable, field_error

from .models import CHANNELS, STATUTORY_KINDS, NotificationKind, NotificationPreference


async def preferences_of(session: AsyncSession, user_id: str) -> list[dict[str, Any]]:
    rows = (await session.exec(select(NotificationPreference).where(NotificationPreference.user_id == user_id))).all()
    stored = {(row.kind, row.channel): row.enabled for row in rows}
    return [
        {
            "kind": kind.value,
            "statutory": kind in STATUTORY_KINDS,
            **{channel: kind in STATUTORY_KINDS or stored.get((kind.value, channel), True) for channel in CHANNELS},
        }
        for kind in NotificationKind
    ]


async def wants(session: AsyncSession, user_id: str, kind: str, channel: str) -> bool:
    """Whether `user_id` takes `kind` on `channel` (for the mail sender: no row or a statutory kind → yes)."""
    if NotificationKind(kind) in STATUTORY_KINDS:
        return True
    enabled = (
        await session.exec(
            select(NotificationPreference.enabled).where(
                NotificationPreference.user_id == user_id,
                NotificationPreference.kind == kind,
                NotificationPreference.channel == channel,
            )
        )
    ).first()
    return enabled is not False


SWITCHED_OFF_SQL = text("""
SELECT p.user_id, p.kind FROM notification_preferences p
JOIN unnest(CAST(:users AS text[]), CAST(:kinds AS text[])) AS asked(user_id, kind)
  ON p.user_id = asked.user_id AND p.kind = asked.kind
WHERE p.channel = :channel AND NOT p.enabled
""")


async def switched_off(session: AsyncSession, asked: set[tuple[str, str]], channel: str) -> set[tuple[str, str]]:
    """`wants` for many (user id, kind) pairs in one query: the pairs that do not take `channel` (never a
    statutory kind; an unknown kind raises ValueError, as `wants` does)."""
    optional = [(user, kind) for user, kind in asked if NotificationKind(kind) not in STATUTORY_KINDS]
    if not optional:
        return set()
    rows = await session.exec(  # type: ignore[call-overload]
        SWITCHED_OFF_SQL.bindparams(
            users=[user for user, _ in optional], kinds=[kind for _, kind in optional], channel=channel
        )
    )
    return {(row.user_id, row.kind) for row in rows}


async def change(session: AsyncSession, principal: Principal, changes: list[Any]) -> list[dict[str, Any]]:
    """Apply every change or none: one statutory kind switched off refuses the whole list."""
    refused = [
        (position, str(c.kind)) for position, c in enumerate(changes) if c.kind in STATUTORY_KINDS and not c.enabled
    ]
    if refused:
        raise Unprocessable(
            code="notification_statutory",
            params={"kind": refused[0][1]},
            errors=[field_error(f"{p}.enabled", None, "notification_statutory", kind=k) for p, k in refused],
        )
    for c in changes:
        statement = insert(NotificationPreference).values(
            user_id=principal.subject, kind=str(c.kind), channel=str(c.channel), enabled=c.enabled
        )
        statement = statement.on_conflict_do_update(
            index_elements=["user_id", "kind", "channel"], set_={"enabled": statement.excluded.enabled}
        )
        await session.exec(statement)  # type: ignore[call-overload]
    return await preferences_of(session, principal.subject)
