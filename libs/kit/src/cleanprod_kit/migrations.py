"""Alembic support shared by every service: the async `env.py` body, the kit tables every database carries,
and a programmatic upgrade used by the run script and the tests."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from alembic.config import Config
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import create_async_engine

# Accent-insensitive search: unaccent() is only STABLE, so it cannot back an index or a generated column.
# Wrapping it with the dictionary named explicitly makes the result depend only on the input: IMMUTABLE is safe.
FOLD_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION cp_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, value)) $$
"""

APPEND_ONLY_SQL = (
    """CREATE OR REPLACE FUNCTION cp_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION cp_refuse_change()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION cp_refuse_change()""",
)


def create_search_support() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(FOLD_FUNCTION_SQL)


def drop_search_support() -> None:
    op.execute("DROP FUNCTION IF EXISTS cp_fold(text)")


def create_kit_tables() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("occurred_at", ts, nullable=False),
        sa.Column("actor_subject", sa.String(255), nullable=False),
        sa.Column("actor_name", sa.String(255), nullable=True),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("entity_type", sa.String(64), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("from_state", sa.String(64), nullable=True),
        sa.Column("to_state", sa.String(64), nullable=True),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("details", postgresql.JSONB(), nullable=False),
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity_type", "entity_id", "id"])
    for statement in APPEND_ONLY_SQL:  # asyncpg prepares one statement at a time
        op.execute(statement)
    op.create_table(
        "outbox_events",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False, unique=True),
        sa.Column(
            "txid", sa.BigInteger(), nullable=False, server_default=sa.text("(pg_current_xact_id())::text::bigint")
        ),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("aggregate_type", sa.String(64), nullable=False),
        sa.Column("aggregate_id", sa.String(64), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("occurred_at", ts, nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("published_at", ts, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", ts, nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
    )
    op.create_index("ix_outbox_pending", "outbox_events", ["seq"], postgresql_where=sa.text("published_at IS NULL"))
    op.create_index("ix_outbox_aggregate", "outbox_events", ["aggregate_type", "aggregate_id", "seq"])
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.Uuid(), primary_key=True),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("processed_at", ts, nullable=False),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("principal", sa.String(255), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", postgresql.JSONB(), nullable=True),
        sa.Column("response_headers", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", ts, nullable=False),
    )


def drop_kit_tables() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("processed_events")
    op.drop_table("outbox_events")
    op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    op.drop_table("audit_log")
    op.execute("DROP FUNCTION IF EXISTS cp_refuse_change()")


def run_env(target_metadata: Any) -> None:
    """Body of every service's migrations/env.py (online mode, async engine)."""
    config = context.config
    url = config.get_main_option("sqlalchemy.url")

    def do_run(connection: Any) -> None:
        context.configure(
            connection=connection, target_metadata=target_metadata, compare_type=True, compare_server_default=False
        )
        with context.begin_transaction():
            context.run_migrations()

    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    connection = config.attributes.get("connection")
    if connection is not None:  # a caller (tests) handed us a sync connection
        do_run(connection)
        return

    async def run_async() -> None:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            await conn.run_sync(do_run)
        await engine.dispose()

    asyncio.run(run_async())


def alembic_config(script_location: str, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", script_location)
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(script_location: str, database_url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(script_location, database_url), revision)


def downgrade(script_location: str, database_url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(script_location, database_url), revision)


def at_head(script_location: str, database_url: str) -> bool:
    """Whether the database is migrated for this code: at its head, or at a revision this code does not know — a
    newer release's (revisions are one line of history), so a previous version still starts after a newer one
    migrated (a rollback, or the old ReplicaSet scaling during a rollout). Read only; a fresh database is not."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config(script_location, database_url))
    wanted = set(scripts.get_heads())
    known = {revision.revision for revision in scripts.walk_revisions()}

    async def current() -> set[str]:
        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as conn:
                return set(await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_heads()))
        finally:
            await engine.dispose()

    heads = asyncio.run(current())
    return bool(heads) and all(head in wanted or head not in known for head in heads)
