"""Public read models: calls not yet closed, any call by id, a dossier's status. No principal: these are served
to anonymous callers (the gateway forwards no token to /api/v1/public)."""

from __future__ import annotations

import uuid

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.errors import NotFound
from cleanprod_kit.pagination import keyset_page

from ..calls import service as calls
from ..calls.models import Call
from ..config import ApplicationsSettings
from ..domain import LOCAL_TZ, egov_status
from ..integrations.dossier import LABELS_VI, dossier_times
from ..integrations.service import find_dossier
from .schemas import PublicCall, PublicDossierStatus


def to_public_call(call: Call) -> PublicCall:
    staff = calls.to_public(call)
    return PublicCall(**staff.model_dump(include=set(PublicCall.model_fields)))


async def open_calls(session: AsyncSession, *, limit: int, cursor: str | None) -> tuple[list[Call], str | None]:
    """Calls not yet closed on the Hanoi calendar (open now or opening later), soonest closing first."""
    statement = select(Call).where(Call.closes_on >= calls.today())
    return await keyset_page(
        session,
        statement,
        order_by=[Call.closes_on, Call.id],  # type: ignore[list-item]
        key=lambda c: [c.closes_on, c.id],
        limit=limit,
        cursor=cursor,
    )


async def call(session: AsyncSession, call_id: uuid.UUID) -> Call:
    return await calls.get_call(session, call_id)


async def dossier_status(
    session: AsyncSession, settings: ApplicationsSettings, dossier_code: str
) -> PublicDossierStatus:
    facts = await find_dossier(session, dossier_code) if len(dossier_code) <= 64 else None
    if facts is None:  # unknown and malformed alike: nothing to tell about which codes exist
        raise NotFound(code="dossier_not_found", params={"dossier_code": dossier_code})
    code = egov_status(facts.status, supplement_requested=facts.supplement_requested)
    assert code is not None
    times = dossier_times(facts)
    return PublicDossierStatus(
        dossier_code=facts.dossier_code,
        status=facts.status.value,
        egov_status=code.value,
        egov_status_label=LABELS_VI[code],
        received_at=times.received.astimezone(LOCAL_TZ),
        due_at=times.due.astimezone(LOCAL_TZ) if times.due else None,
        decided_at=times.decided.astimezone(LOCAL_TZ) if times.decided else None,
    )
