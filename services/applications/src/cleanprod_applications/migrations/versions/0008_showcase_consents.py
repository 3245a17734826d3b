"""Showcase consents: the enterprise's consent to list a verified project publicly

Revision ID: 0008_showcase_consents
Revises: 0007_supplement_requests
Create Date: 2026-12-01 10:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_showcase_consents"
down_revision = "0007_supplement_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "showcase_consents",
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("given", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_by", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.PrimaryKeyConstraint("application_id"),
    )


def downgrade() -> None:
    op.drop_table("showcase_consents")
