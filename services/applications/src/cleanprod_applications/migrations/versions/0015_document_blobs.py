"""Document bytes in the database: `document_blobs` (one row per SHA-256) and `document_blob_chunks` (its pieces),
used when APPLICATIONS_DOCUMENT_STORAGE=postgres so every replica serves what any replica stored (issue 11).

Revision ID: 0015_document_blobs
Revises: 0014_funding_payments
Create Date: 2026-12-01 18:00:00

Files already in a local document folder are not copied by this migration: `python -m
cleanprod_applications.documents.blob_copy` does that (docs/applications.md "Storage").
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0015_document_blobs"
down_revision = "0014_funding_payments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_blobs",
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="ck_document_blobs_sha256"),
        sa.CheckConstraint("size_bytes >= 0 AND chunk_count >= 0", name="ck_document_blobs_size"),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "document_blob_chunks",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["sha256"], ["document_blobs.sha256"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("sha256", "seq"),
    )
    # Already-compressed content (PDF, JPEG, PNG, OOXML): out of line, never pglz-compressed.
    op.execute("ALTER TABLE document_blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("document_blob_chunks")
    op.drop_table("document_blobs")
