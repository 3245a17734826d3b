"""Mail from the notifications: which notifications the sender has resolved to recipients, and one delivery per
(notification, user)

Revision ID: 0013_mail_deliveries
Revises: 0012_messages
Create Date: 2026-12-01 16:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0013_mail_deliveries"
down_revision = "0012_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The sender looks for unseen notifications among the recent ones (mail/models.py).
    op.create_index("ix_notifications_created_at", "notifications", ["created_at"])
    op.create_table(
        "mail_resolutions",
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["notification_id"], ["notifications.id"]),
        sa.PrimaryKeyConstraint("notification_id"),
    )
    op.create_index(
        "ix_mail_resolutions_due",
        "mail_resolutions",
        ["next_attempt_at"],
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    op.create_table(
        "mail_deliveries",
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("full_name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="ck_mail_deliveries_status"),
        sa.ForeignKeyConstraint(["notification_id"], ["notifications.id"]),
        sa.PrimaryKeyConstraint("notification_id", "user_id"),
    )
    op.create_index(
        "ix_mail_deliveries_due", "mail_deliveries", ["next_attempt_at"], postgresql_where=sa.text("status = 'pending'")
    )


def downgrade() -> None:
    op.drop_index("ix_mail_deliveries_due", table_name="mail_deliveries")
    op.drop_table("mail_deliveries")
    op.drop_index("ix_mail_resolutions_due", table_name="mail_resolutions")
    op.drop_table("mail_resolutions")
    op.drop_index("ix_notifications_created_at", table_name="notifications")
