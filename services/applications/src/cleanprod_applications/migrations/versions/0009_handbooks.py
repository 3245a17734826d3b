"""Handbooks library: handbooks per sector with vi/en titles and numbered PDF versions

Revision ID: 0009_handbooks
Revises: 0008_showcase_consents
Create Date: 2026-12-01 10:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_handbooks"
down_revision = "0008_showcase_consents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "handbooks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sector_code", sa.String(length=32), nullable=False),
        sa.Column("title_vi", sa.String(length=300), nullable=False),
        sa.Column("title_en", sa.String(length=300), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handbooks_sector", "handbooks", ["sector_code", "id"])
    op.create_table(
        "handbook_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("handbook_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=128), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_subject", sa.String(length=255), nullable=False),
        sa.Column("uploaded_by_name", sa.String(length=255), nullable=True),
        sa.Column("uploaded_at", ts, nullable=False),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="ck_handbook_versions_sha256"),
        sa.CheckConstraint("size_bytes >= 0", name="ck_handbook_versions_size"),
        sa.ForeignKeyConstraint(["handbook_id"], ["handbooks.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("handbook_id", "number", name="uq_handbook_versions_number"),
    )


def downgrade() -> None:
    op.drop_table("handbook_versions")
    op.drop_index("ix_handbooks_sector", table_name="handbooks")
    op.drop_table("handbooks")
