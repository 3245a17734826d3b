"""Supplement requests: itemised requests to supplement a dossier under review, and the open one on the application

Revision ID: 0007_supplement_requests
Revises: 0006_statutory_deadlines
Create Date: 2026-12-01 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_supplement_requests"
down_revision = "0006_statutory_deadlines"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supplement_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("requested_by_subject", sa.String(length=255), nullable=False),
        sa.Column("requested_by_name", sa.String(length=255), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('open', 'answered')", name="ck_supplement_requests_status"),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_supplement_requests_application", "supplement_requests", ["application_id", "id"])
    op.create_table(
        "supplement_items",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("needed", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("document_id", sa.Uuid(), nullable=True),
        sa.Column("answered_by_subject", sa.String(length=255), nullable=True),
        sa.Column("answered_by_name", sa.String(length=255), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["supplement_requests.id"]),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "position", name="uq_supplement_items_position"),
    )
    op.add_column("applications", sa.Column("open_supplement_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    op.drop_column("applications", "open_supplement_id")
    op.drop_table("supplement_items")
    op.drop_index("ix_supplement_requests_application", table_name="supplement_requests")
    op.drop_table("supplement_requests")
