"""The portal's own tables: browser sessions and logins in progress. No business data lives here."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData()
TS = sa.DateTime(timezone=True)

# One row per logged-in browser. The cookie holds a random id; the row is keyed by its SHA-256, so a leaked
# database dump does not hand out live cookies. Tokens never leave this table except towards the gateway.
portal_sessions = sa.Table(
    "portal_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("last_seen_at", TS, nullable=False),
    sa.Column("expires_at", TS, nullable=False),  # absolute end (PORTAL_SESSION_LIFETIME_SECONDS)
    sa.Column("subject", sa.String(255), nullable=False),
    sa.Column("username", sa.String(255), nullable=False),
    sa.Column("display_name", sa.String(500), nullable=False),
    sa.Column("roles", postgresql.ARRAY(sa.String(32)), nullable=False),
    sa.Column("tax_code", sa.String(14), nullable=True),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("access_token", sa.Text(), nullable=False),
    sa.Column("access_expires_at", TS, nullable=False),
    sa.Column("refresh_token", sa.Text(), nullable=True),
    sa.Column("refresh_expires_at", TS, nullable=True),
    sa.Column("id_token", sa.Text(), nullable=True),
)
sa.Index("ix_portal_sessions_expires", portal_sessions.c.expires_at)

# A login started at /login and not yet finished at /auth/callback: the PKCE verifier, nonce and where to go back.
portal_logins = sa.Table(
    "portal_logins",
    metadata,
    sa.Column("state", sa.String(64), primary_key=True),
    sa.Column("code_verifier", sa.String(128), nullable=False),
    sa.Column("nonce", sa.String(64), nullable=False),
    sa.Column("next_path", sa.String(2000), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("created_at", TS, nullable=False),
)
sa.Index("ix_portal_logins_created", portal_logins.c.created_at)
