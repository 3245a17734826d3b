"""Statutory deadlines: processing days promised at reception, the clock's stops, the stored due date

Existing dossiers get the default 30 working days and a due date on the holiday calendar; one waiting in
changes_requested gets a clock stopped at its last update (the moment it was sent back, as far as the row knows).

Revision ID: 0006_statutory_deadlines
Revises: 0005
Create Date: 2026-12-01 10:40:00
"""

import datetime as dt
import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from cleanprod_applications.domain.deadlines import ClockStop, statutory_deadline
from cleanprod_applications.holiday_calendar import default_calendar

revision = "0006_statutory_deadlines"
down_revision = "0005"
branch_labels = None
depends_on = None

DEFAULT_PROCESSING_DAYS = 30


def upgrade() -> None:
    op.add_column("applications", sa.Column("processing_days", sa.Integer(), nullable=True))
    op.add_column(
        "applications",
        sa.Column(
            "clock_stops",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            server_default=sa.text("'[]'::jsonb"),
        ),
    )
    op.add_column("applications", sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.alter_column("applications", "clock_stops", server_default=None)
    op.create_index("ix_applications_due", "applications", ["due_at", "id"])
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT id, status, first_submitted_at, updated_at FROM applications WHERE first_submitted_at IS NOT NULL"
        )
    )
    calendar = default_calendar()
    for row in rows.mappings().all():
        stops = (
            [ClockStop(stopped_at=max(row["updated_at"], row["first_submitted_at"]))]
            if row["status"] == "changes_requested"
            else []
        )
        deadline = statutory_deadline(row["first_submitted_at"], DEFAULT_PROCESSING_DAYS, stops, calendar)
        connection.execute(
            sa.text(
                "UPDATE applications SET processing_days = :days, due_at = :due, "
                "clock_stops = CAST(:stops AS jsonb) WHERE id = :id"
            ),
            {
                "days": DEFAULT_PROCESSING_DAYS,
                "due": deadline.due_at,
                "id": row["id"],
                "stops": json.dumps(
                    [{"stopped_at": s.stopped_at.astimezone(dt.UTC).isoformat(), "restarted_at": None} for s in stops]
                ),
            },
        )


def downgrade() -> None:
    op.drop_index("ix_applications_due", table_name="applications")
    for column in ("due_at", "clock_stops", "processing_days"):
        op.drop_column("applications", column)
