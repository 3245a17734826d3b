"""Verifier assignments learnt from the verification service (who may read an application as its verifier)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verifier_assignments",
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("verification_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("verifier_subject", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("verifier_username", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
        ),
        sa.PrimaryKeyConstraint("application_id"),
    )
    op.create_index(
        "ix_verifier_assignments_verifier", "verifier_assignments", ["verifier_subject", "application_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_verifier_assignments_verifier", table_name="verifier_assignments")
    op.drop_table("verifier_assignments")
