"""accent-insensitive search support (cp_fold) for the audit search

Revision ID: 0002_audit_search_fold
Revises: 0001
Create Date: 2026-12-01 10:15:00

The kit's audit search (`GET /api/v1/audit/verification`) folds names and texts with `cp_fold`, which the
registry and applications databases already have; the verification database had no text search until now.
"""

from cleanprod_kit.migrations import create_search_support, drop_search_support

revision = "0002_audit_search_fold"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_search_support()


def downgrade() -> None:
    drop_search_support()
