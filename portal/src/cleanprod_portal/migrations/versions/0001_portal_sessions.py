"""portal sessions and pending logins

Revision ID: 0001
Revises:
Create Date: 2026-12-01 09:30:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "portal_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("last_seen_at", ts, nullable=False),
        sa.Column("expires_at", ts, nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("display_name", sa.String(500), nullable=False),
        sa.Column("roles", postgresql.ARRAY(sa.String(32)), nullable=False),
        sa.Column("tax_code", sa.String(14), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("access_expires_at", ts, nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=True),
        sa.Column("refresh_expires_at", ts, nullable=True),
        sa.Column("id_token", sa.Text(), nullable=True),
    )
    op.create_index("ix_portal_sessions_expires", "portal_sessions", ["expires_at"])
    op.create_table(
        "portal_logins",
        sa.Column("state", sa.String(64), primary_key=True),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("next_path", sa.String(2000), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_index("ix_portal_logins_created", "portal_logins", ["created_at"])


def downgrade() -> None:
    op.drop_table("portal_logins")
    op.drop_table("portal_sessions")
