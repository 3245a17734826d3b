"""Save as you go: a draft needs only its call and facility, so the dossier's content columns may be empty

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CONTENT = {
    "title": sa.String(length=300),
    "technology": sa.Text(),
    "total_cost_vnd": sa.BigInteger(),
    "eligible_cost_vnd": sa.BigInteger(),
    "requested_support_vnd": sa.BigInteger(),
    "claimed_overall_saving_pct": sa.Float(),
    "implementation_start": sa.Date(),
    "implementation_end": sa.Date(),
}


def upgrade() -> None:
    for name, type_ in CONTENT.items():
        op.alter_column("applications", name, existing_type=type_, nullable=True)


def downgrade() -> None:
    # Refuses (NOT NULL violation) while incomplete drafts exist: finish or withdraw and delete them first.
    for name, type_ in CONTENT.items():
        op.alter_column("applications", name, existing_type=type_, nullable=False)
