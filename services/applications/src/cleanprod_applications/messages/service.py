"""Messages on an application: a thread between the Department and the enterprise, each message shared or
internal, with attachments that are the application's documents (the documents module's upload rules: type by
content, size limit, SHA-256; no second store).

Internal messages are for the Department's staff only (`access.sees_internal`): they and their attachments are
left out of every list, download, history entry and notification an enterprise token can reach. No message is
put in the outbox (its events feed the e-government webhooks); the people concerned are told through the
notifications table, in the same transaction.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.auth import Principal
from cleanprod_kit.changes import public_from
from cleanprod_kit.errors import Forbidden, NotFound
from cleanprod_kit.pagination import page_by_id
from cleanprod_kit.roles import Role

from ..access import owns, sees_internal
from ..applications.audit import audit_application
from ..applications.models import Application
from ..documents import service as documents
from ..documents.models import Document
from .models import Message, Visibility
from .schemas import MessageBody, MessagePublic
from .tell import tell_about


def _visible(principal: Principal) -> list:
    return [] if sees_internal(principal) else [Message.visibility == Visibility.SHARED]


async def post_message(
    session: AsyncSession, principal: Principal, application: Application, body: MessageBody
) -> Message:
    """Officers write shared or internal messages; the owning enterprise shared ones only."""
    if principal.has(Role.OFFICER):
        role = Role.OFFICER
    elif owns(principal, application):
        role = Role.ENTERPRISE
        if body.visibility == Visibility.INTERNAL:
            raise Forbidden(code="internal_message_forbidden")
    else:
        raise Forbidden(code="message_forbidden")
    message = Message(
        application_id=application.id,
        author_subject=principal.subject,
        author_name=principal.display_name,
        author_role=str(role),
        body=body.body,
        visibility=body.visibility,
    )
    session.add(message)
    await session.flush()
    internal = message.visibility == Visibility.INTERNAL
    audit_application(
        session,
        principal,
        application,
        "post_internal_message" if internal else "post_message",
        details={"message_id": str(message.id), "visibility": str(message.visibility), "body": message.body},
    )
    if not internal:
        await tell_about(session, application, message)
    return message


async def get_message(
    session: AsyncSession, principal: Principal, application: Application, message_id: uuid.UUID
) -> Message:
    """The message if the caller may see it; an internal one is a 404 to an enterprise (as if it did not exist)."""
    message = await session.get(Message, message_id)
    if (
        message is None
        or message.application_id != application.id
        or (message.visibility == Visibility.INTERNAL and not sees_internal(principal))
    ):
        raise NotFound(code="message_not_found", params={"message_id": str(message_id)})
    return message


def ensure_may_attach(principal: Principal, message: Message) -> None:
    """Only the message's author adds its attachments (the message is what they are sent with)."""
    if message.author_subject != principal.subject:
        raise Forbidden(code="message_attachment_forbidden")


async def list_messages(
    session: AsyncSession, principal: Principal, application: Application, *, limit: int, cursor: str | None
) -> tuple[list[MessagePublic], str | None]:
    """The thread, oldest first (ids are time-ordered), each message with its attachments."""
    statement = select(Message).where(Message.application_id == application.id, *_visible(principal))
    messages, next_cursor = await page_by_id(session, statement, Message.id, limit=limit, cursor=cursor)
    return await to_public(session, messages), next_cursor


async def to_public(session: AsyncSession, messages: list[Message]) -> list[MessagePublic]:
    attachments: dict[uuid.UUID, list[Document]] = defaultdict(list)
    if messages:
        rows = await session.exec(
            select(Document).where(Document.message_id.in_([m.id for m in messages])).order_by(Document.id)  # type: ignore[union-attr]
        )
        for document in rows.all():
            attachments[document.message_id].append(document)  # type: ignore[index]
    return [
        public_from(MessagePublic, m, attachments=[documents.to_public(d) for d in attachments[m.id]]) for m in messages
    ]
