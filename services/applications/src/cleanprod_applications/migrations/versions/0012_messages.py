"""Messages on an application (shared / internal) and documents attached to a message

Revision ID: 0012_messages
Revises: 0011_notifications
Create Date: 2026-12-01 15:30:00

Existing documents are dossier documents: no message, not internal.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_messages"
down_revision = "0011_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("author_subject", sa.String(length=255), nullable=False),
        sa.Column("author_name", sa.String(length=255), nullable=True),
        sa.Column("author_role", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("visibility IN ('shared', 'internal')", name="ck_messages_visibility"),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_messages_application", "messages", ["application_id", "id"])
    op.add_column("documents", sa.Column("message_id", sa.Uuid(), nullable=True))
    op.create_foreign_key("documents_message_id_fkey", "documents", "messages", ["message_id"], ["id"])
    op.add_column("documents", sa.Column("internal", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    op.drop_column("documents", "internal")
    op.drop_constraint("documents_message_id_fkey", "documents", type_="foreignkey")
    op.drop_column("documents", "message_id")
    op.drop_index("ix_messages_application", table_name="messages")
    op.drop_table("messages")
