"""Attachments of an application: who may add them, when, and how they are listed."""

from __future__ import annotations

import uuid

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.auth import Principal
from cleanprod_kit.changes import public_from
from cleanprod_kit.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from cleanprod_kit.pagination import page_by_id
from cleanprod_kit.roles import Role

from ..access import owns, sees_internal
from ..applications.audit import audit_application
from ..applications.models import Application
from ..domain import ApplicationStatus
from .models import Document, DocumentKind
from .schemas import DocumentPublic
from .storage import FileType, ReceivedFile, stored_fields

UPLOAD_STATUSES = frozenset(
    {
        ApplicationStatus.DRAFT,
        ApplicationStatus.CHANGES_REQUESTED,  # the dossier's attachments
        ApplicationStatus.APPROVED,
        ApplicationStatus.IN_PROGRESS,
        ApplicationStatus.COMPLETED,  # contracts, reports
    }
)
"""While submitted/under review the dossier is frozen for the reviewers; final statuses take nothing more."""


def to_public(document: Document) -> DocumentPublic:
    return public_from(
        DocumentPublic, document, download_url=f"/api/v1/applications/{document.application_id}/documents/{document.id}"
    )


# The verifier's evidence arrives while the project is measured and concluded, not with the dossier.
EVIDENCE_STATUSES = frozenset({ApplicationStatus.APPROVED, ApplicationStatus.IN_PROGRESS, ApplicationStatus.COMPLETED})


def ensure_may_upload(principal: Principal, application: Application, kind: DocumentKind | None = None) -> None:
    """Before the file arrives (`kind` None) and again with its kind. The caller could read the application, so a
    verifier here is the one assigned to its case: they add measurement evidence, nothing else."""
    if not (principal.has(Role.OFFICER) or owns(principal, application)):
        if not principal.has(Role.VERIFIER):
            raise Forbidden(code="attach_forbidden")
        if kind not in (None, DocumentKind.MEASUREMENT_EVIDENCE):
            raise Forbidden(code="verifier_attaches_evidence_only")
        if application.status not in EVIDENCE_STATUSES:
            raise Conflict(
                code="not_accepting_documents",
                slug="not-accepting-documents",
                params={"status": str(application.status)},
                status_now=str(application.status),
            )
        return
    # Under review the dossier is frozen, except for what an open supplement request asks for.
    if application.status not in UPLOAD_STATUSES and application.open_supplement_id is None:
        raise Conflict(
            code="not_accepting_documents",
            slug="not-accepting-documents",
            params={"status": str(application.status)},
            status_now=str(application.status),
        )


def document_kind(received: ReceivedFile) -> DocumentKind:
    raw = received.fields.get("kind") or DocumentKind.OTHER.value
    try:
        return DocumentKind(raw)
    except ValueError:
        params = {"kind": raw, "kinds": ", ".join(k.value for k in DocumentKind)}
        raise Unprocessable(
            code="unknown_document_kind",
            params=params,
            errors=[field_error("kind", None, "unknown_document_kind", **params)],
        ) from None


async def record_document(
    session: AsyncSession,
    principal: Principal,
    application: Application,
    received: ReceivedFile,
    kind: DocumentKind,
    file_type: FileType,
    *,
    message_id: uuid.UUID | None = None,
    internal: bool = False,
) -> Document:
    """`message_id`/`internal`: an attachment of a message, with its visibility (audited as an internal action
    when internal, so the enterprise's history never shows it)."""
    document = Document(
        application_id=application.id,
        kind=kind,
        message_id=message_id,
        internal=internal,
        **stored_fields(received, file_type, principal),
    )
    session.add(document)
    await session.flush()
    audit_application(
        session,
        principal,
        application,
        "attach_internal_document" if internal else "attach_document",
        details={
            "document_id": str(document.id),
            "message_id": str(message_id) if message_id else None,
            "kind": str(kind),
            "filename": document.filename,
            "media_type": document.media_type,
            "size_bytes": document.size_bytes,
            "sha256": document.sha256,
        },
    )
    return document


async def list_documents(
    session: AsyncSession, principal: Principal, application: Application, *, limit: int, cursor: str | None
) -> tuple[list[Document], str | None]:
    statement = select(Document).where(Document.application_id == application.id)
    if not sees_internal(principal):
        statement = statement.where(Document.internal == False)  # noqa: E712 - SQL, not Python
    return await page_by_id(session, statement, Document.id, limit=limit, cursor=cursor)


async def get_document(
    session: AsyncSession, principal: Principal, application: Application, document_id: uuid.UUID
) -> Document:
    """The document if the caller may see it; an internal one is a 404 to the others (as if it did not exist)."""
    document = await session.get(Document, document_id)
    if (
        document is None
        or document.application_id != application.id
        or (document.internal and not sees_internal(principal))
    ):
        raise NotFound(code="document_not_found", params={"document_id": str(document_id)})
    return document
