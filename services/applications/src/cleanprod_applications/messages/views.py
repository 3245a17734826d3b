from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, Response

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.changes import lock_row
from cleanprod_kit.db import SessionDep
from cleanprod_kit.idempotency import Created, create_once
from cleanprod_kit.pagination import CursorParam, LimitParam, Page
from cleanprod_kit.roles import Role

from ..access import READ_ROLES, readable_application
from ..deps import BlobStoreDep, SettingsDep
from ..documents import service as documents
from ..documents.schemas import DocumentPublic
from ..documents.storage import multipart_upload, receive_and_store
from . import service
from .models import Visibility
from .schemas import MessageBody, MessagePublic

router = APIRouter(prefix="/api/v1/applications", tags=["messages"])
readers = [Depends(require_roles(*READ_ROLES))]
writers = [Depends(require_roles(Role.ENTERPRISE, Role.OFFICER))]


@router.post("/{application_id}/messages", status_code=201, response_model=MessagePublic, dependencies=writers)
async def post_message(
    application_id: uuid.UUID, body: MessageBody, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Write to the application's thread. Officers choose `shared` or `internal`; the enterprise writes shared
    messages. Attach files afterwards (`…/messages/{id}/attachments`). Idempotency-Key accepted."""

    async def create() -> Created:
        application = await lock_row(session, await readable_application(session, principal, application_id))
        message = await service.post_message(session, principal, application, body)
        (public,) = await service.to_public(session, [message])
        return Created(201, public, {"Location": f"/api/v1/applications/{application_id}/messages/{message.id}"})

    fingerprint = {"application_id": str(application_id), **body.model_dump(mode="json")}
    return await create_once(request, session, principal, fingerprint, create)


@router.get("/{application_id}/messages", response_model=Page[MessagePublic], dependencies=readers)
async def list_messages(
    application_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[MessagePublic]:
    """The thread, oldest first. An enterprise (and anyone outside the Department) sees the shared messages only."""
    application = await readable_application(session, principal, application_id)
    items, next_cursor = await service.list_messages(session, principal, application, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)


@router.get("/{application_id}/messages/{message_id}", response_model=MessagePublic, dependencies=readers)
async def get_message(
    application_id: uuid.UUID, message_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> MessagePublic:
    application = await readable_application(session, principal, application_id)
    message = await service.get_message(session, principal, application, message_id)
    (public,) = await service.to_public(session, [message])
    return public


@router.post(
    "/{application_id}/messages/{message_id}/attachments",
    status_code=201,
    response_model=DocumentPublic,
    dependencies=writers,
    openapi_extra=multipart_upload(kind={"type": "string", "description": "a document kind (default other)"}),
    responses={
        413: {"description": "File above the size limit"},
        415: {"description": "Not a PDF, PNG, JPEG, XLSX or DOCX by content"},
    },
)
async def attach(
    application_id: uuid.UUID,
    message_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    blobs: BlobStoreDep,
) -> Response:
    """Add a file to one's own message (multipart, part `file`): stored under the documents' rules and listed
    among the application's documents with the message's visibility, at any status of the application."""
    application = await readable_application(session, principal, application_id)
    service.ensure_may_attach(principal, await service.get_message(session, principal, application, message_id))
    await session.rollback()  # no transaction stays open while the file arrives

    received, file_type, kind = await receive_and_store(
        request,
        blobs=blobs,
        tmp_dir=settings.upload_tmp_dir,
        max_bytes=settings.max_document_bytes,
        check=lambda file, _: documents.document_kind(file),
    )

    async def create() -> Created:
        locked = await lock_row(session, await readable_application(session, principal, application_id))
        message = await service.get_message(session, principal, locked, message_id)
        document = await documents.record_document(
            session,
            principal,
            locked,
            received,
            kind,
            file_type,
            message_id=message.id,
            internal=message.visibility == Visibility.INTERNAL,
        )
        return Created(
            201,
            documents.to_public(document),
            {"Location": f"/api/v1/applications/{application_id}/documents/{document.id}"},
        )

    fingerprint = {
        "message_id": str(message_id),
        "sha256": received.sha256,
        "kind": kind,
        "filename": received.filename,
    }
    return await create_once(request, session, principal, fingerprint, create)
