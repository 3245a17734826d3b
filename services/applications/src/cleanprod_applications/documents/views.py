from __future__ import annotations

import logging
import uuid

from fastapi import APIRouter, Depends, Request, Response
from starlette.responses import StreamingResponse

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.changes import lock_row
from cleanprod_kit.db import SessionDep
from cleanprod_kit.idempotency import Created, create_once
from cleanprod_kit.pagination import CursorParam, LimitParam, Page
from cleanprod_kit.roles import Role

from ..access import READ_ROLES, readable_application
from ..deps import BlobStoreDep, SettingsDep
from . import service
from .schemas import DocumentPublic
from .storage import ALLOWED, multipart_upload, receive_and_store, stored_file

log = logging.getLogger("cleanprod.applications.documents")
router = APIRouter(prefix="/api/v1/applications", tags=["documents"])
readers = [Depends(require_roles(*READ_ROLES))]


@router.post(
    "/{application_id}/documents",
    status_code=201,
    response_model=DocumentPublic,
    dependencies=[Depends(require_roles(Role.ENTERPRISE, Role.OFFICER, Role.VERIFIER))],
    openapi_extra=multipart_upload(
        kind={
            "type": "string",
            "description": "application_form, feasibility_study, technical_specification, quotation, energy_audit, "
            "contract, invoice, completion_report, consultant_report, measurement_evidence (the assigned verifier's only kind) or other "
            "(default)",
        }
    ),
    responses={
        413: {"description": "File above the size limit"},
        415: {"description": "Not a PDF, PNG, JPEG, XLSX or DOCX by content"},
    },
)
async def upload_document(
    application_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    blobs: BlobStoreDep,
) -> Response:
    """Attach a file (multipart/form-data, part `file`; optional field `kind`). Streamed to a scratch file,
    then into the blob store under its SHA-256; the type is checked by content."""
    application = await readable_application(session, principal, application_id)
    service.ensure_may_upload(principal, application)
    await session.rollback()  # no transaction stays open while the file arrives

    received, file_type, kind = await receive_and_store(
        request,
        blobs=blobs,
        tmp_dir=settings.upload_tmp_dir,
        max_bytes=settings.max_document_bytes,
        check=lambda file, _: service.document_kind(file),
    )

    async def create() -> Created:
        # Locked (so the document serialises with decisions), but not a change of what the client saw: no If-Match.
        locked = await lock_row(session, await readable_application(session, principal, application_id))
        service.ensure_may_upload(principal, locked, kind)
        document = await service.record_document(session, principal, locked, received, kind, file_type)
        return Created(
            201,
            service.to_public(document),
            {"Location": f"/api/v1/applications/{application_id}/documents/{document.id}"},
        )

    fingerprint = {
        "application_id": application_id,
        "sha256": received.sha256,
        "kind": kind,
        "filename": received.filename,
    }
    return await create_once(request, session, principal, fingerprint, create)


@router.get("/{application_id}/documents", response_model=Page[DocumentPublic], dependencies=readers)
async def list_documents(
    application_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[DocumentPublic]:
    application = await readable_application(session, principal, application_id)
    documents, next_cursor = await service.list_documents(session, principal, application, limit=limit, cursor=cursor)
    return Page(items=[service.to_public(d) for d in documents], next_cursor=next_cursor)


@router.get(
    "/{application_id}/documents/{document_id}",
    response_class=StreamingResponse,
    dependencies=readers,
    responses={
        200: {
            "description": "The file, streamed with the type detected from its content at upload",
            "content": {t.media_type: {"schema": {"type": "string", "format": "binary"}} for t in ALLOWED},
        }
    },
)
async def download_document(
    application_id: uuid.UUID,
    document_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    blobs: BlobStoreDep,
) -> StreamingResponse:
    application = await readable_application(session, principal, application_id)
    document = await service.get_document(session, principal, application, document_id)
    return await stored_file(blobs, document, private=True, log=log, what="document", document_id=str(document.id))
