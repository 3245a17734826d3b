"""the programme summary's generation

Revision ID: 0005_summary_generation
Revises: 0004_adjustments_refreezes
Create Date: 2026-12-01 18:30:00

`programme_summary_generation`: one row, moved on by statement triggers whenever a conclusion is written or a case's
grouping columns change (docs/performance.md "Programme summary"), so a computed summary can be reused exactly while
the number stays.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_summary_generation"
down_revision = "0004_adjustments_refreezes"
branch_labels = None
depends_on = None

GROUPING_COLUMNS = "sector_code, district, ward, enterprise_tax_code, enterprise_id, facility_id"


def upgrade() -> None:
    op.create_table(
        "programme_summary_generation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO programme_summary_generation (id, generation) VALUES (1, 0)")
    op.execute(
        """CREATE FUNCTION programme_summary_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE programme_summary_generation SET generation = generation + 1 WHERE id = 1;
            RETURN NULL;
        END $$"""
    )
    op.execute(
        "CREATE TRIGGER conclusions_summary_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON conclusions "
        "FOR EACH STATEMENT EXECUTE FUNCTION programme_summary_changed()"
    )
    op.execute(
        f"CREATE TRIGGER cases_summary_changed AFTER UPDATE OF {GROUPING_COLUMNS} OR DELETE OR TRUNCATE "
        "ON verification_cases FOR EACH STATEMENT EXECUTE FUNCTION programme_summary_changed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS cases_summary_changed ON verification_cases")
    op.execute("DROP TRIGGER IF EXISTS conclusions_summary_changed ON conclusions")
    op.execute("DROP FUNCTION IF EXISTS programme_summary_changed()")
    op.drop_table("programme_summary_generation")
