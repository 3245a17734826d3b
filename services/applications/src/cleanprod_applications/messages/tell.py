"""Who is told about a shared message (issue 10, contract 4), in the message's transaction: a message from the
Department tells every account of the enterprise, one from the enterprise tells the officers. Internal messages
tell nobody (the caller never passes them here). The links are the portal's pages of the thread."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.roles import Role

from ..applications.models import Application
from ..notifications.models import NotificationKind
from ..notifications.service import OFFICERS, Audience, notify
from .models import Message

EXCERPT_CHARS = 160


def enterprise_link(application: Application) -> str:
    return f"/enterprise/applications/{application.id}#messages"


def officer_link(application: Application) -> str:
    return f"/officer/applications/{application.id}/messages"


def excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1].rstrip() + "…"


async def tell_about(session: AsyncSession, application: Application, message: Message) -> None:
    from_staff = message.author_role == Role.OFFICER
    await notify(
        session,
        kind=NotificationKind.message_received,
        audience=Audience.enterprise(application.enterprise_id) if from_staff else OFFICERS,
        params={
            "dossier_code": application.dossier_code,
            "title": application.title,
            "author": message.author_name or (application.enterprise_name if not from_staff else ""),
            "excerpt": excerpt(message.body),
        },
        link=enterprise_link(application) if from_staff else officer_link(application),
        application_id=application.id,
        dedupe_key=f"message:{message.id}",
    )
