"""Draft reviews: a reviewer's unfinished score sheet on the assignment (never counted until submitted)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "reviewer_assignments", sa.Column("draft_scores", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.add_column("reviewer_assignments", sa.Column("draft_recommendation", sa.String(length=16), nullable=True))
    op.add_column("reviewer_assignments", sa.Column("draft_comment", sa.Text(), nullable=True))
    op.add_column("reviewer_assignments", sa.Column("draft_version", sa.Integer(), nullable=True))
    op.add_column("reviewer_assignments", sa.Column("draft_saved_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for column in ("draft_saved_at", "draft_version", "draft_comment", "draft_recommendation", "draft_scores"):
        op.drop_column("reviewer_assignments", column)
