from __future__ import annotations

import uuid

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.auth import Principal
from cleanprod_kit.changes import public_from
from cleanprod_kit.errors import Conflict, Forbidden
from cleanprod_kit.models import utcnow
from cleanprod_kit.pagination import page_by_id

from ..access import owns
from ..applications.audit import audit_application
from ..applications.models import Application
from ..domain import ApplicationStatus
from .models import ShowcaseConsent
from .schemas import ConsentPublic, ShowcaseProject

SHOWABLE = ApplicationStatus.VERIFIED  # only what the M&V verified is worth copying


def to_public(application_id: uuid.UUID, consent: ShowcaseConsent | None) -> ConsentPublic:
    if consent is None:
        return ConsentPublic(application_id=application_id, given=False, changed_at=None, version=0)
    return ConsentPublic.model_validate(consent, from_attributes=True)


async def consent_of(
    session: AsyncSession, application_id: uuid.UUID, *, for_update: bool = False
) -> ShowcaseConsent | None:
    statement = select(ShowcaseConsent).where(ShowcaseConsent.application_id == application_id)
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return (await session.exec(statement)).first()


async def set_consent(
    session: AsyncSession, principal: Principal, application: Application, consent: ShowcaseConsent | None, given: bool
) -> ShowcaseConsent:
    """Give (only once the savings are verified) or withdraw (any time) the consent; audited old → new."""
    if not owns(principal, application):
        raise Forbidden(code="not_your_application")
    if given and application.status != SHOWABLE:
        raise Conflict(
            code="showcase_needs_verification",
            params={"status": str(application.status)},
            status_now=str(application.status),
        )
    old = consent.given if consent else False
    if consent is None:
        consent = ShowcaseConsent(
            application_id=application.id, given=given, changed_by=principal.subject, changed_at=utcnow()
        )
        session.add(consent)
    else:
        consent.given, consent.changed_by, consent.changed_at = given, principal.subject, utcnow()
        consent.version += 1
    audit_application(
        session,
        principal,
        application,
        "showcase_consent",
        changes=[{"field": "showcase_consent", "old": old, "new": given}] if old != given else [],
    )
    return consent


async def showcased(
    session: AsyncSession, *, sector: str | None, limit: int, cursor: str | None
) -> tuple[list[ShowcaseProject], str | None]:
    """Consented and verified projects, oldest consent first (keyset by application id)."""
    statement = (
        select(Application)
        .join(ShowcaseConsent, ShowcaseConsent.application_id == Application.id)
        .where(ShowcaseConsent.given.is_(True), Application.status == SHOWABLE)
    )  # type: ignore[union-attr]
    if sector:
        statement = statement.where(Application.sector_code == sector)
    rows, next_cursor = await page_by_id(session, statement, Application.id, limit=limit, cursor=cursor)
    return [public_from(ShowcaseProject, a, application_id=a.id) for a in rows], next_cursor
