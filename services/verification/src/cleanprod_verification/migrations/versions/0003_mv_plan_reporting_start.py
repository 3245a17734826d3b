"""M&V plan (baseline model, degree-day basis) and an officer-approved reporting start on the case

Revision ID: 0003_mv_plan_reporting_start
Revises: 0002_audit_search_fold
Create Date: 2026-12-01 15:30:00

`mv_plan` holds the verifier's choice of baseline model (production / weather / both) with the degree-day unit
and base temperatures; `reporting_start` is the first reporting day an officer approved when it is not the day
after the project's completion.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_mv_plan_reporting_start"
down_revision = "0002_audit_search_fold"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("verification_cases", sa.Column("mv_plan", postgresql.JSONB(), nullable=True))
    op.add_column("verification_cases", sa.Column("reporting_start", sa.Date(), nullable=True))
    op.add_column("verification_cases", sa.Column("reporting_start_note", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("verification_cases", "reporting_start_note")
    op.drop_column("verification_cases", "reporting_start")
    op.drop_column("verification_cases", "mv_plan")
