"""Notifications (one row per thing to tell, addressed to a user, an enterprise or a role), per-user read state and
preferences; reviewer assignments get the date their review is due (for reminders); tranches record their payment

Revision ID: 0011_notifications
Revises: 0010_application_place
Create Date: 2026-12-01 15:30:00

Existing assignments keep `due_on` NULL: no reminder is sent for them (the due date is set when an officer assigns).
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011_notifications"
down_revision = "0010_application_place"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("dedupe_key", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("statutory", sa.Boolean(), nullable=False),
        sa.Column("recipient_user_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("recipient_enterprise_id", sa.Uuid(), nullable=True),
        sa.Column("recipient_role", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("application_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "num_nonnulls(recipient_user_id, recipient_enterprise_id, recipient_role) = 1",
            name="ck_notifications_one_audience",
        ),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index("ix_notifications_user", "notifications", ["recipient_user_id", "created_at"])
    op.create_index("ix_notifications_enterprise", "notifications", ["recipient_enterprise_id", "created_at"])
    op.create_index("ix_notifications_role", "notifications", ["recipient_role", "created_at"])
    op.create_table(
        "notification_reads",
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["notification_id"], ["notifications.id"]),
        sa.PrimaryKeyConstraint("notification_id", "user_id"),
    )
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.CheckConstraint("channel IN ('in_app', 'email')", name="ck_notification_preferences_channel"),
        sa.PrimaryKeyConstraint("user_id", "kind", "channel"),
    )
    op.add_column("reviewer_assignments", sa.Column("due_on", sa.Date(), nullable=True))
    op.add_column("tranches", sa.Column("paid_on", sa.Date(), nullable=True))
    op.add_column(
        "tranches", sa.Column("payment_reference", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("tranches", "payment_reference")
    op.drop_column("tranches", "paid_on")
    op.drop_column("reviewer_assignments", "due_on")
    op.drop_table("notification_preferences")
    op.drop_table("notification_reads")
    op.drop_index("ix_notifications_role", table_name="notifications")
    op.drop_index("ix_notifications_enterprise", table_name="notifications")
    op.drop_index("ix_notifications_user", table_name="notifications")
    op.drop_table("notifications")
