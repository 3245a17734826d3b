from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, Integer, LargeBinary, String
from sqlmodel import Field

from cleanprod_kit.ids import uuid7

from ..db_types import ServiceTable, created_at


class DocumentKind(StrEnum):
    APPLICATION_FORM = "application_form"
    FEASIBILITY_STUDY = "feasibility_study"
    TECHNICAL_SPECIFICATION = "technical_specification"
    QUOTATION = "quotation"
    ENERGY_AUDIT = "energy_audit"
    CONTRACT = "contract"
    INVOICE = "invoice"
    COMPLETION_REPORT = "completion_report"
    CONSULTANT_REPORT = "consultant_report"  # the deliverable of a cleaner-production assessment
    MEASUREMENT_EVIDENCE = "measurement_evidence"  # what the verifier collected: meter readings, bills, photos
    OTHER = "other"


class StoredFileColumns(ServiceTable):
    """The columns of a row naming stored bytes (filled by `storage.stored_fields`): download name, type, size,
    SHA-256, and who uploaded it when. The bytes themselves live in the blob store under the SHA-256 (blobs.py)."""

    filename: str = Field(max_length=255)
    media_type: str = Field(max_length=128)
    size_bytes: int = Field(sa_type=BigInteger)
    sha256: str = Field(max_length=64)
    uploaded_by_subject: str = Field(max_length=255)
    uploaded_by_name: str | None = Field(default=None, max_length=255)
    uploaded_at: dt.datetime = created_at()


class Document(StoredFileColumns, table=True):
    """An attachment of an application. The bytes live in the blob store under their SHA-256 (content-addressed: the same
    file uploaded twice is stored once); this row says whose it is, what it is and who uploaded it."""

    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint("size_bytes >= 0", name="ck_documents_size"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="ck_documents_sha256"),
        Index("ix_documents_application", "application_id", "id"),
        Index("ix_documents_sha256", "sha256"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    application_id: uuid.UUID = Field(foreign_key="applications.id")
    kind: DocumentKind = Field(sa_type=String(32))
    # A message's attachment names its message and carries its visibility; internal ones are never listed, served
    # or exported to a caller who does not see internal content (`access.sees_internal`).
    message_id: uuid.UUID | None = Field(default=None, foreign_key="messages.id")
    internal: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})


class DocumentBlob(ServiceTable, table=True):
    """Stored bytes in the database (`APPLICATIONS_DOCUMENT_STORAGE=postgres`, documents/blobs.py), named by their
    SHA-256 like the files of the local folder; the bytes are `chunk_count` rows of `document_blob_chunks`. Written
    in one transaction with its chunks, so a row here always has all of them."""

    __tablename__ = "document_blobs"
    __table_args__ = (
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="ck_document_blobs_sha256"),
        CheckConstraint("size_bytes >= 0 AND chunk_count >= 0", name="ck_document_blobs_size"),
    )

    sha256: str = Field(max_length=64, primary_key=True)
    size_bytes: int = Field(sa_type=BigInteger)
    chunk_count: int
    created_at: dt.datetime = created_at()


class DocumentBlobChunk(ServiceTable, table=True):
    """One piece (at most `APPLICATIONS_DOCUMENT_CHUNK_BYTES`) of a stored blob; read one row per query, so a slow
    download holds no pooled connection between pieces. The column is not compressed (STORAGE EXTERNAL): PDFs,
    images and Office files are compressed already."""

    __tablename__ = "document_blob_chunks"

    sha256: str = Field(
        sa_column=Column(
            String(64), ForeignKey("document_blobs.sha256", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    seq: int = Field(sa_column=Column(Integer, primary_key=True, nullable=False))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
