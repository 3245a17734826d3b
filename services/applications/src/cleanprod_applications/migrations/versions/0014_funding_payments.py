"""Money: support types per call and application, funding sources with award allocations, tranches per source with
payment bookkeeping (prepared → approved → paid) and recovery collections

Revision ID: 0014_funding_payments
Revises: 0013_mail_deliveries
Create Date: 2026-12-01 16:00:00

Existing data: every call funds technology transfer and every application is one; every call gets one source, its
city budget (`city-budget`, amount = the call's budget, committed = the call's committed), which then pays every
award and tranche under it. A tranche that was `payable` stays payable (it still has to be prepared and approved).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014_funding_payments"
down_revision = "0013_mail_deliveries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "calls",
        sa.Column(
            "support_types",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            server_default=sa.text("'[\"technology_transfer\"]'::jsonb"),
        ),
    )
    op.add_column(
        "applications",
        sa.Column("support_type", sa.String(32), nullable=False, server_default="technology_transfer"),
    )
    op.create_table(
        "funding_sources",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("call_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("amount_vnd", sa.BigInteger(), nullable=False),
        sa.Column("committed_vnd", sa.BigInteger(), nullable=False),
        sa.Column("support_types", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_vnd > 0", name="ck_funding_sources_amount_positive"),
        sa.CheckConstraint(
            "committed_vnd >= 0 AND committed_vnd <= amount_vnd", name="ck_funding_sources_not_overcommitted"
        ),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id", "code", name="uq_funding_sources_call_code"),
    )
    op.create_index("ix_funding_sources_call", "funding_sources", ["call_id", "rank", "id"])
    op.create_table(
        "award_allocations",
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("amount_vnd", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_vnd > 0", name="ck_award_allocations_amount_positive"),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.ForeignKeyConstraint(["source_id"], ["funding_sources.id"]),
        sa.PrimaryKeyConstraint("application_id", "source_id"),
    )
    # The implicit city-budget source of every existing call (uuid v4 ids: the migration has no uuid7).
    op.execute(
        """
        INSERT INTO funding_sources (id, call_id, code, name, kind, rank, amount_vnd, committed_vnd, support_types,
                                     conditions, version, created_at, updated_at)
        SELECT gen_random_uuid(), id, 'city-budget', 'Ngân sách thành phố', 'city_budget', 0, budget_vnd,
               committed_vnd, '[]'::jsonb, NULL, 1, created_at, updated_at
        FROM calls
        """
    )
    op.execute(
        """
        INSERT INTO award_allocations (application_id, source_id, amount_vnd, created_at)
        SELECT a.id, s.id, a.approved_support_vnd, coalesce(a.decided_at, a.updated_at)
        FROM applications a JOIN funding_sources s ON s.call_id = a.call_id
        WHERE a.approved_support_vnd > 0
        """
    )
    op.add_column("tranches", sa.Column("source_id", sa.Uuid(), nullable=True))
    op.execute(
        """
        UPDATE tranches t SET source_id = s.id
        FROM applications a JOIN funding_sources s ON s.call_id = a.call_id
        WHERE a.id = t.application_id
        """
    )
    op.alter_column("tranches", "source_id", nullable=False)
    op.create_foreign_key("tranches_source_id_fkey", "tranches", "funding_sources", ["source_id"], ["id"])
    op.drop_constraint("uq_tranches_application_kind", "tranches", type_="unique")
    op.create_unique_constraint(
        "uq_tranches_application_kind_source", "tranches", ["application_id", "kind", "source_id"]
    )
    for name, type_ in (
        ("prepared_by", sa.String(255)),
        ("prepared_by_name", sa.String(255)),
        ("prepared_at", sa.DateTime(timezone=True)),
        ("approved_by", sa.String(255)),
        ("approved_by_name", sa.String(255)),
        ("approved_at", sa.DateTime(timezone=True)),
        ("paid_on", sa.Date()),
        ("paid_vnd", sa.BigInteger()),
        ("payment_reference", sa.String(64)),
        ("paid_recorded_by", sa.String(255)),
    ):
        op.add_column("tranches", sa.Column(name, type_, nullable=True))
    op.add_column("tranches", sa.Column("collected_vnd", sa.BigInteger(), nullable=False, server_default="0"))
    op.add_column("tranches", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.create_check_constraint(
        "ck_tranches_collected", "tranches", "collected_vnd >= 0 AND collected_vnd <= coalesce(amount_vnd, 0)"
    )
    op.create_table(
        "recovery_collections",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tranche_id", sa.Uuid(), nullable=False),
        sa.Column("amount_vnd", sa.BigInteger(), nullable=False),
        sa.Column("collected_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("recorded_by", sa.String(255), nullable=False),
        sa.Column("recorded_by_name", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_vnd > 0", name="ck_recovery_collections_amount_positive"),
        sa.ForeignKeyConstraint(["tranche_id"], ["tranches.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_recovery_collections_tranche", "recovery_collections", ["tranche_id"])


def downgrade() -> None:
    op.drop_index("ix_recovery_collections_tranche", table_name="recovery_collections")
    op.drop_table("recovery_collections")
    op.drop_constraint("ck_tranches_collected", "tranches", type_="check")
    for name in (
        "version",
        "collected_vnd",
        "paid_recorded_by",
        "payment_reference",
        "paid_vnd",
        "paid_on",
        "approved_at",
        "approved_by_name",
        "approved_by",
        "prepared_at",
        "prepared_by_name",
        "prepared_by",
    ):
        op.drop_column("tranches", name)
    # Back to one tranche per kind: the tranches of every source but the first (by rank) of a call are folded
    # into it, so no money disappears from the books on the way down.
    op.execute(
        """
        WITH first AS (
            SELECT DISTINCT ON (call_id) call_id, id FROM funding_sources ORDER BY call_id, rank, id
        ), folded AS (
            SELECT t.application_id, t.kind, sum(t.planned_vnd) AS planned, sum(t.amount_vnd) AS amount
            FROM tranches t GROUP BY t.application_id, t.kind HAVING count(*) > 1
        )
        UPDATE tranches t SET planned_vnd = f.planned, amount_vnd = f.amount
        FROM folded f, applications a, first
        WHERE t.application_id = f.application_id AND t.kind = f.kind AND a.id = t.application_id
          AND first.call_id = a.call_id AND t.source_id = first.id
        """
    )
    op.execute(
        """
        DELETE FROM tranches t USING applications a, funding_sources s
        WHERE a.id = t.application_id AND s.id = t.source_id
          AND s.id <> (SELECT id FROM funding_sources f WHERE f.call_id = a.call_id ORDER BY rank, id LIMIT 1)
        """
    )
    op.execute("UPDATE tranches SET status = 'payable' WHERE status IN ('prepared', 'approved', 'paid')")
    op.execute("UPDATE tranches SET status = 'recovery_due' WHERE status = 'recovered'")
    op.drop_constraint("uq_tranches_application_kind_source", "tranches", type_="unique")
    op.create_unique_constraint("uq_tranches_application_kind", "tranches", ["application_id", "kind"])
    op.drop_constraint("tranches_source_id_fkey", "tranches", type_="foreignkey")
    op.drop_column("tranches", "source_id")
    op.drop_table("award_allocations")
    op.drop_index("ix_funding_sources_call", table_name="funding_sources")
    op.drop_table("funding_sources")
    op.drop_column("applications", "support_type")
    op.drop_column("calls", "support_types")
