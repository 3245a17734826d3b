"""initial applications schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 19:24:14.209406
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

from cleanprod_kit.migrations import create_kit_tables, create_search_support, drop_kit_tables, drop_search_support

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_search_support()
    create_kit_tables()
    op.create_table(
        "calls",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("budget_vnd", sa.BigInteger(), nullable=False),
        sa.Column("committed_vnd", sa.BigInteger(), nullable=False),
        sa.Column("support_rate_bp", sa.Integer(), nullable=False),
        sa.Column("cap_per_project_vnd", sa.BigInteger(), nullable=False),
        sa.Column("eligible_sectors", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("criteria", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("min_reviews", sa.Integer(), nullable=False),
        sa.Column("pass_score_pct", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("cap_per_project_vnd > 0", name="ck_calls_cap_positive"),
        sa.CheckConstraint("closes_on >= opens_on", name="ck_calls_dates_in_order"),
        sa.CheckConstraint(
            "committed_vnd >= 0 AND committed_vnd <= budget_vnd", name="ck_calls_budget_not_overcommitted"
        ),
        sa.CheckConstraint("min_reviews >= 1", name="ck_calls_min_reviews"),
        sa.CheckConstraint("pass_score_pct >= 0 AND pass_score_pct <= 100", name="ck_calls_pass_score"),
        sa.CheckConstraint("support_rate_bp BETWEEN 1 AND 10000", name="ck_calls_support_rate"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code", name="uq_calls_code"),
    )
    op.create_table(
        "dossier_sequences",
        sa.Column("agency_id", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("agency_id", "day"),
    )
    op.create_table(
        "applications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("call_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("dossier_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("facility_id", sa.Uuid(), nullable=False),
        sa.Column("facility_name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_tax_code", sqlmodel.sql.sqltypes.AutoString(length=14), nullable=False),
        sa.Column("enterprise_name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("sector_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("technology", sa.Text(), nullable=False),
        sa.Column("supplier_name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("supplier_tax_code", sqlmodel.sql.sqltypes.AutoString(length=14), nullable=True),
        sa.Column("total_cost_vnd", sa.BigInteger(), nullable=False),
        sa.Column("eligible_cost_vnd", sa.BigInteger(), nullable=False),
        sa.Column("requested_support_vnd", sa.BigInteger(), nullable=False),
        sa.Column("claimed_savings", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("claimed_overall_saving_pct", sa.Float(), nullable=False),
        sa.Column("implementation_start", sa.Date(), nullable=False),
        sa.Column("implementation_end", sa.Date(), nullable=False),
        sa.Column("first_submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("screening_reasons", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("review_score_pct", sa.Float(), nullable=True),
        sa.Column("approved_support_vnd", sa.BigInteger(), nullable=True),
        sa.Column("award_limit", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("verification_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("achieved_ratio", sa.Float(), nullable=True),
        sa.Column("verified_savings_pct", sa.Float(), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column(
            "search_text",
            sa.Text(),
            sa.Computed(
                "cp_fold(coalesce(title, '') || ' ' || coalesce(enterprise_name, '') || ' ' || coalesce(facility_name, '') || ' ' || coalesce(dossier_code, ''))",
                persisted=True,
            ),
            nullable=True,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'under_review', 'changes_requested', 'approved', 'rejected', 'in_progress', 'completed', 'verified', 'not_achieved', 'withdrawn', 'ineligible')",
            name="ck_applications_status",
        ),
        sa.CheckConstraint(
            "approved_support_vnd IS NULL OR approved_support_vnd >= 0", name="ck_applications_approved"
        ),
        sa.CheckConstraint(
            "total_cost_vnd >= 0 AND eligible_cost_vnd >= 0 AND requested_support_vnd >= 0",
            name="ck_applications_amounts",
        ),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dossier_code", name="uq_applications_dossier_code"),
    )
    op.create_index("ix_applications_call", "applications", ["call_id", "id"], unique=False)
    op.create_index("ix_applications_enterprise", "applications", ["enterprise_id", "id"], unique=False)
    op.create_index(
        "ix_applications_search",
        "applications",
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_index("ix_applications_status", "applications", ["status", "id"], unique=False)
    op.create_index("ix_applications_tax_code", "applications", ["enterprise_tax_code", "id"], unique=False)
    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("uploaded_by_subject", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("uploaded_by_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="ck_documents_sha256"),
        sa.CheckConstraint("size_bytes >= 0", name="ck_documents_size"),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_documents_application", "documents", ["application_id", "id"], unique=False)
    op.create_index("ix_documents_sha256", "documents", ["sha256"], unique=False)
    op.create_table(
        "pending_verdicts",
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
        ),
        sa.PrimaryKeyConstraint("application_id"),
    )
    op.create_table(
        "reviewer_assignments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("reviewer_subject", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("reviewer_username", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("assigned_by", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("conflict_declared", sa.Boolean(), nullable=True),
        sa.Column("conflict_statement", sa.Text(), nullable=True),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scores", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("score_pct", sa.Float(), nullable=True),
        sa.Column("recommendation", sa.String(length=16), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id", "reviewer_subject", name="uq_reviewer_assignments_reviewer"),
    )
    op.create_index(
        "ix_reviewer_assignments_reviewer", "reviewer_assignments", ["reviewer_subject", "application_id"], unique=False
    )
    op.create_table(
        "tranches",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("planned_vnd", sa.BigInteger(), nullable=False),
        sa.Column("amount_vnd", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("basis", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("planned_vnd >= 0 AND (amount_vnd IS NULL OR amount_vnd >= 0)", name="ck_tranches_amounts"),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id", "kind", name="uq_tranches_application_kind"),
    )
    op.create_index("ix_tranches_application", "tranches", ["application_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_tranches_application", table_name="tranches")
    op.drop_table("tranches")
    op.drop_index("ix_reviewer_assignments_reviewer", table_name="reviewer_assignments")
    op.drop_table("reviewer_assignments")
    op.drop_table("pending_verdicts")
    op.drop_index("ix_documents_sha256", table_name="documents")
    op.drop_index("ix_documents_application", table_name="documents")
    op.drop_table("documents")
    op.drop_index("ix_applications_tax_code", table_name="applications")
    op.drop_index("ix_applications_status", table_name="applications")
    op.drop_index(
        "ix_applications_search",
        table_name="applications",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_index("ix_applications_enterprise", table_name="applications")
    op.drop_index("ix_applications_call", table_name="applications")
    op.drop_table("applications")
    op.drop_table("dossier_sequences")
    op.drop_table("calls")
    drop_kit_tables()
    drop_search_support()
