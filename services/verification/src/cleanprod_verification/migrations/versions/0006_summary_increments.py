"""the programme summary follows new conclusions incrementally

Revision ID: 0006_summary_increments
Revises: 0005_summary_generation
Create Date: 2026-12-02 03:00:00

Each conclusion is stamped with the generation its transaction made (`conclusions.summary_generation`, indexed),
and the generation row says since when an increment cannot follow (`full_pass_from`: the generation of the last
change that was not only conclusions inserted — a case's grouping columns, an UPDATE/DELETE/TRUNCATE). A summary
kept at generation g' then steps to g by reading only the conclusions stamped (g', g] (docs/performance.md
"Programme summary"). The generation row's lock serialises writers, so stamps follow commit order. The enterprise
key the summary counts gets an index, so "had this enterprise a conclusion in this group before?" is a lookup.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_summary_increments"
down_revision = "0005_summary_generation"
branch_labels = None
depends_on = None

# the summary's distinct-enterprise key (programme/service.py), exactly as its statements write it
ENTERPRISE_KEY = "(COALESCE(enterprise_tax_code, CAST(enterprise_id AS VARCHAR), CAST(facility_id AS VARCHAR)))"


def upgrade() -> None:
    op.add_column(
        "programme_summary_generation",
        sa.Column("full_pass_from", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
    )
    # Conclusions written before this migration count as generation 0: in every full pass, in no increment.
    op.add_column(
        "conclusions", sa.Column("summary_generation", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
    )
    op.create_index("ix_conclusions_summary_generation", "conclusions", ["summary_generation"])
    op.execute(f"CREATE INDEX ix_verification_cases_enterprise_key ON verification_cases {ENTERPRISE_KEY}")

    # Anything but an insert of conclusions: the next read recomputes from scratch.
    op.execute(
        """CREATE OR REPLACE FUNCTION programme_summary_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE programme_summary_generation
               SET generation = generation + 1, full_pass_from = generation + 1 WHERE id = 1;
            RETURN NULL;
        END $$"""
    )
    # Conclusions inserted: the statement moves the generation on (and holds the row until commit), then each of
    # its rows is stamped with the new number.
    op.execute(
        """CREATE FUNCTION programme_summary_conclusions_added() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE programme_summary_generation SET generation = generation + 1 WHERE id = 1;
            RETURN NULL;
        END $$"""
    )
    op.execute(
        """CREATE FUNCTION programme_summary_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.summary_generation := (SELECT generation FROM programme_summary_generation WHERE id = 1);
            RETURN NEW;
        END $$"""
    )
    op.execute("DROP TRIGGER conclusions_summary_changed ON conclusions")
    op.execute(
        "CREATE TRIGGER conclusions_summary_changed AFTER UPDATE OR DELETE OR TRUNCATE ON conclusions "
        "FOR EACH STATEMENT EXECUTE FUNCTION programme_summary_changed()"
    )
    op.execute(
        "CREATE TRIGGER conclusions_summary_added BEFORE INSERT ON conclusions "
        "FOR EACH STATEMENT EXECUTE FUNCTION programme_summary_conclusions_added()"
    )
    op.execute(
        "CREATE TRIGGER conclusions_summary_stamp BEFORE INSERT ON conclusions "
        "FOR EACH ROW EXECUTE FUNCTION programme_summary_stamp()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS conclusions_summary_stamp ON conclusions")
    op.execute("DROP TRIGGER IF EXISTS conclusions_summary_added ON conclusions")
    op.execute("DROP TRIGGER IF EXISTS conclusions_summary_changed ON conclusions")
    op.execute("DROP FUNCTION IF EXISTS programme_summary_stamp()")
    op.execute("DROP FUNCTION IF EXISTS programme_summary_conclusions_added()")
    op.execute(
        """CREATE OR REPLACE FUNCTION programme_summary_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE programme_summary_generation SET generation = generation + 1 WHERE id = 1;
            RETURN NULL;
        END $$"""
    )
    op.execute(
        "CREATE TRIGGER conclusions_summary_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON conclusions "
        "FOR EACH STATEMENT EXECUTE FUNCTION programme_summary_changed()"
    )
    op.execute("DROP INDEX IF EXISTS ix_verification_cases_enterprise_key")
    op.drop_index("ix_conclusions_summary_generation", table_name="conclusions")
    op.drop_column("conclusions", "summary_generation")
    op.drop_column("programme_summary_generation", "full_pass_from")
