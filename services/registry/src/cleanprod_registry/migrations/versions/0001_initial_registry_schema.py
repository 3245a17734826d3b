"""initial registry schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 19:12:54.990954
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
        "enterprises",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tax_code", sqlmodel.sql.sqltypes.AutoString(length=14), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("name_en", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("legal_form", sa.String(length=32), nullable=False),
        sa.Column("size_class", sa.String(length=16), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("ward", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("district", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("province", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("contact_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("contact_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("contact_phone", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column(
            "search_text",
            sa.Text(),
            sa.Computed(
                "cp_fold(coalesce(name, '') || ' ' || coalesce(name_en, '') || ' ' || coalesce(tax_code, '') || ' ' || coalesce(address, '') || ' ' || coalesce(ward, '') || ' ' || coalesce(district, ''))",
                persisted=True,
            ),
            nullable=True,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tax_code"),
    )
    op.create_index("ix_enterprises_district", "enterprises", ["district"], unique=False)
    op.create_index(
        "ix_enterprises_search",
        "enterprises",
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_index("ix_enterprises_ward", "enterprises", ["ward"], unique=False)
    op.create_table(
        "sectors",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name_vi", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("name_en", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("priority", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "facilities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("sector_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("products", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("capacity_quantity", sa.Float(), nullable=True),
        sa.Column("capacity_unit", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("ward", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("district", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "search_text",
            sa.Text(),
            sa.Computed(
                "cp_fold(coalesce(name, '') || ' ' || coalesce(address, '') || ' ' || coalesce(ward, '') || ' ' || coalesce(district, ''))",
                persisted=True,
            ),
            nullable=True,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
        ),
        sa.ForeignKeyConstraint(
            ["sector_code"],
            ["sectors.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_facilities_district", "facilities", ["district"], unique=False)
    op.create_index("ix_facilities_enterprise", "facilities", ["enterprise_id", "id"], unique=False)
    op.create_index(
        "ix_facilities_search",
        "facilities",
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_index("ix_facilities_sector", "facilities", ["sector_code", "id"], unique=False)
    op.create_index("ix_facilities_ward", "facilities", ["ward"], unique=False)
    op.create_table(
        "sector_norms",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("circular", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("sector_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("product", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("capacity_band", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("band_min", sa.Float(), nullable=True),
        sa.Column("band_min_inclusive", sa.Boolean(), nullable=False),
        sa.Column("band_max", sa.Float(), nullable=True),
        sa.Column("band_max_inclusive", sa.Boolean(), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("value", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("source_url", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sector_code"],
            ["sectors.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sector_norms_lookup", "sector_norms", ["sector_code", "product", "valid_from"], unique=False)
    op.create_table(
        "baselines",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("facility_id", sa.Uuid(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("production_quantity", sa.Float(), nullable=False),
        sa.Column("production_unit", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("consumption", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("cdd", sa.Float(), nullable=True),
        sa.Column("hdd", sa.Float(), nullable=True),
        sa.Column("estimated", sa.Boolean(), nullable=False),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("period_end >= period_start", name="ck_baselines_period_order"),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["facilities.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("facility_id", "period_start", name="uq_baselines_facility_start"),
    )
    op.create_index("ix_baselines_facility", "baselines", ["facility_id", "period_start"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_baselines_facility", table_name="baselines")
    op.drop_table("baselines")
    op.drop_index("ix_sector_norms_lookup", table_name="sector_norms")
    op.drop_table("sector_norms")
    op.drop_index("ix_facilities_ward", table_name="facilities")
    op.drop_index("ix_facilities_sector", table_name="facilities")
    op.drop_index(
        "ix_facilities_search",
        table_name="facilities",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_index("ix_facilities_enterprise", table_name="facilities")
    op.drop_index("ix_facilities_district", table_name="facilities")
    op.drop_table("facilities")
    op.drop_table("sectors")
    op.drop_index("ix_enterprises_ward", table_name="enterprises")
    op.drop_index(
        "ix_enterprises_search",
        table_name="enterprises",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_index("ix_enterprises_district", table_name="enterprises")
    op.drop_table("enterprises")
    drop_kit_tables()
    drop_search_support()
