"""Reference data: sectors and the national sector energy-consumption norms (with their sources).

Revision ID: 0002
Revises: 0001
"""

import datetime as dt
import uuid

import sqlalchemy as sa
from alembic import op

from cleanprod_registry.seed.reference import norm_rows, sector_rows

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The ids are derived from the row content so the seed is the same in every database.
_NAMESPACE = uuid.UUID("6f1c1f0e-8a4e-4c55-9d3b-0c1e5d0e2b7a")


def upgrade() -> None:
    sectors = sa.table(
        "sectors",
        sa.column("code"),
        sa.column("name_vi"),
        sa.column("name_en"),
        sa.column("priority"),
        sa.column("version"),
        sa.column("created_at"),
    )
    norms = sa.table(
        "sector_norms",
        *[
            sa.column(c)
            for c in (
                "id",
                "circular",
                "sector_code",
                "product",
                "capacity_band",
                "unit",
                "value",
                "valid_from",
                "valid_to",
                "source_url",
                "band_min",
                "band_min_inclusive",
                "band_max",
                "band_max_inclusive",
                "version",
                "created_at",
            )
        ],
    )
    now = dt.datetime.now(dt.UTC)
    op.bulk_insert(sectors, [{**row, "version": 1, "created_at": now} for row in sector_rows()])
    rows = []
    for row in norm_rows():
        key = f"{row['circular']}|{row['sector_code']}|{row['product']}|{row['capacity_band']}|{row['valid_from']}"
        rows.append({**row, "id": uuid.uuid5(_NAMESPACE, key), "version": 1, "created_at": now})
    op.bulk_insert(norms, rows)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM sector_norms"))
    op.execute(sa.text("DELETE FROM sectors"))
