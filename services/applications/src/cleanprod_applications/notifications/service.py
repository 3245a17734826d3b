"""Writing notifications (`notify`, in the caller's transaction) and the audience a row is addressed to."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.ids import uuid7
from cleanprod_kit.models import utcnow
from cleanprod_kit.rows import queue_row

from .models import STATUTORY_KINDS, Notification, NotificationKind


@dataclass(frozen=True)
class Audience:
    """Exactly one of: one user (Keycloak sub), every login of one enterprise, every holder of one realm role."""

    user_id: str | None = None
    enterprise_id: uuid.UUID | None = None
    role: str | None = None

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.user_id, self.enterprise_id, self.role)) != 1:
            raise ValueError("an audience is exactly one of user_id, enterprise_id, role")

    @classmethod
    def user(cls, user_id: str) -> Audience:
        return cls(user_id=user_id)

    @classmethod
    def enterprise(cls, enterprise_id: uuid.UUID | str) -> Audience:
        return cls(enterprise_id=uuid.UUID(str(enterprise_id)))

    @classmethod
    def of_role(cls, role: str) -> Audience:
        return cls(role=role)


OFFICERS = Audience.of_role("officer")


async def notify(
    session: AsyncSession,
    *,
    kind: NotificationKind | str,
    audience: Audience,
    params: dict[str, Any],
    link: str | None,
    application_id: uuid.UUID | None,
    dedupe_key: str,
) -> None:
    """Record one thing to tell `audience`, in the caller's transaction (committed with the event or not at all):
    a queued row (`cleanprod_kit.rows`), written with the change's audit entries and events in one statement at
    commit. A second row with the same `dedupe_key` is skipped (ON CONFLICT DO NOTHING)."""
    kind = NotificationKind(kind)
    queue_row(
        session,
        NOTIFICATIONS,
        {
            "id": uuid7(),
            "dedupe_key": dedupe_key,
            "kind": kind.value,
            "statutory": kind in STATUTORY_KINDS,
            "recipient_user_id": audience.user_id,
            "recipient_enterprise_id": audience.enterprise_id,
            "recipient_role": audience.role,
            "params": jsonable_encoder(params),
            "link": link,
            "application_id": application_id,
            "created_at": utcnow(),
        },
        ignore_conflicts_on=("dedupe_key",),
    )


NOTIFICATIONS = Notification.__table__  # type: ignore[attr-defined]
