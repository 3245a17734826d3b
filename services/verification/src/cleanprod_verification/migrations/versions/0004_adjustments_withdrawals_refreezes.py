"""non-routine adjustments, withdrawn measurements, baseline re-freezes

Revision ID: 0004_adjustments_refreezes
Revises: 0003_mv_plan_reporting_start
Create Date: 2026-12-01 16:00:00

`baseline_adjustments` (IPMVP non-routine adjustments, recorded by the verifier and decided by an officer),
`withdrawn` on measurements and their revisions (a withdrawal is an appended revision), and
`baseline_refreezes` (an officer proposes the registry's current baseline, the verifier confirms; the old
baseline and the figures on it are kept).
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_adjustments_refreezes"
down_revision = "0003_mv_plan_reporting_start"
branch_labels = None
depends_on = None

_S255 = sqlmodel.sql.sqltypes.AutoString(length=255)


def upgrade() -> None:
    op.add_column("measurements", sa.Column("withdrawn", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column(
        "measurement_revisions", sa.Column("withdrawn", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.create_table(
        "baseline_adjustments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("carrier", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("amount_toe", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("recorded_by_subject", _S255, nullable=False),
        sa.Column("recorded_by_name", _S255, nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_subject", _S255, nullable=True),
        sa.Column("decided_by_name", _S255, nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["verification_cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_baseline_adjustments_case", "baseline_adjustments", ["case_id", "recorded_at"], unique=False)
    op.create_table(
        "baseline_refreezes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("old_baseline", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("new_baseline", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("requested_by_subject", _S255, nullable=False),
        sa.Column("requested_by_name", _S255, nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by_subject", _S255, nullable=True),
        sa.Column("confirmed_by_name", _S255, nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("old_result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("new_result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["verification_cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_baseline_refreezes_case", "baseline_refreezes", ["case_id", "requested_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_baseline_refreezes_case", table_name="baseline_refreezes")
    op.drop_table("baseline_refreezes")
    op.drop_index("ix_baseline_adjustments_case", table_name="baseline_adjustments")
    op.drop_table("baseline_adjustments")
    op.drop_column("measurement_revisions", "withdrawn")
    op.drop_column("measurements", "withdrawn")
