"""Applications record where their facility is (ward, district) for the officers' place filters

Revision ID: 0010_application_place
Revises: 0009_handbooks
Create Date: 2026-12-01 14:00:00

Existing applications keep NULL: the registry is not asked from a migration (no HTTP in a schema change); their
place shows as unknown and a place filter does not list them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_application_place"
down_revision = "0009_handbooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("applications", sa.Column("ward", sa.String(120), nullable=True))
    op.add_column("applications", sa.Column("district", sa.String(120), nullable=True))


def downgrade() -> None:
    op.drop_column("applications", "district")
    op.drop_column("applications", "ward")
