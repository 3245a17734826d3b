"""Rows a change queues on its session (audit entries, outbox events, idempotency records, notifications) and
that are written together, as one INSERT statement, when the session commits (issue 16).

A change used to add one ORM object per row: each object built field by field, tracked by the unit of work and
flushed in its own INSERT, often in several flushes (every query in between flushes what is pending). A queued
row is a plain dict of column values; at commit the session first flushes its ORM objects, then writes every
queued row in one statement (`INSERT … VALUES (…), (…)` per table, the tables joined as data-modifying CTEs), then
commits. Queued rows commit with the change or not at all: a rollback drops them, and a row that breaks a
constraint makes the commit raise the `IntegrityError` (the change is not committed).

What a queued row is not: visible to a query of the same transaction before the commit (nothing needs that — the
rows are read by other requests, the feed and the dispatcher), nor to `db.release()`'s check for unsaved work
(use `emit`/`record_audit`'s ORM rows in a session that calls `release()`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, bindparam, event
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert
from sqlmodel.ext.asyncio.session import AsyncSession

_PENDING = "cleanprod.queued_rows"

Group = tuple[Table, tuple[str, ...]]
"""The table, and the columns of the unique index whose conflicts are ignored (empty: a conflict raises)."""


def _sync(session: AsyncSession | Session) -> Session:
    return session.sync_session if isinstance(session, AsyncSession) else session


def queue_row(
    session: AsyncSession | Session, table: Table, row: dict[str, Any], *, ignore_conflicts_on: Sequence[str] = ()
) -> None:
    """Write `row` (column name → value, the same columns in every row of one table) when `session` commits.
    `ignore_conflicts_on` names a unique index: a row that conflicts on it is skipped (ON CONFLICT DO NOTHING)."""
    sync = _sync(session)
    if not sync.in_transaction():
        sync.begin()  # no I/O (the connection is taken by the first statement); a rollback now drops the rows
    pending: dict[Group, list[dict[str, Any]]] = sync.info.setdefault(_PENDING, {})
    pending.setdefault((table, tuple(ignore_conflicts_on)), []).append(row)


def queued(session: AsyncSession | Session) -> int:
    """How many rows wait for the commit."""
    return sum(len(rows) for rows in _sync(session).info.get(_PENDING, {}).values())


Shape = tuple[tuple[str, tuple[str, ...], tuple[str, ...], int], ...]
"""Per group: table name, conflict columns, column names, number of rows."""

_STATEMENTS: dict[Shape, Insert] = {}
MAX_SHAPES = 256  # a service queues a handful of shapes (create, submit, decide, …): a bound, not a tuning knob


def _shape(groups: dict[Group, list[dict[str, Any]]]) -> Shape:
    return tuple((t.name, conflict, tuple(rows[0]), len(rows)) for (t, conflict), rows in groups.items())


def _build(groups: dict[Group, list[dict[str, Any]]]) -> Insert:
    """One INSERT for every queued row: the first table's rows in the main statement, each other table's as a
    data-modifying CTE (PostgreSQL runs every such CTE exactly once, referenced or not). Every value is a named
    parameter, so the statement of one shape is built and compiled once and then only given new values."""
    inserts = []
    for g, ((table, conflict_columns), rows) in enumerate(groups.items()):
        names = list(rows[0])
        values = [
            {name: bindparam(f"q{g}_{i}_{name}", type_=table.c[name].type) for name in names} for i in range(len(rows))
        ]
        one = insert(table).values(values)
        if conflict_columns:
            one = one.on_conflict_do_nothing(index_elements=list(conflict_columns))
        inserts.append(one)
    main, *others = inserts
    for n, other in enumerate(others):
        main = main.add_cte(other.cte(f"queued_{n}"))
    return main


def statement(groups: dict[Group, list[dict[str, Any]]]) -> tuple[Insert, dict[str, Any]]:
    """The INSERT of `groups` and its parameters."""
    shape = _shape(groups)
    built = _STATEMENTS.get(shape)
    if built is None:
        built = _build(groups)
        if len(_STATEMENTS) < MAX_SHAPES:
            _STATEMENTS[shape] = built
    parameters = {}
    for g, rows in enumerate(groups.values()):
        names = shape[g][2]
        for i, row in enumerate(rows):
            if len(row) != len(names):
                raise ValueError(f"queued rows of {shape[g][0]} name different columns: {sorted(row)} / {names}")
            for name in names:
                parameters[f"q{g}_{i}_{name}"] = row[name]
    return built, parameters


def write_queued(session: Session) -> None:
    """Write what is queued now (the commit does it by itself)."""
    groups = session.info.pop(_PENDING, None)
    if groups:
        session.connection().execute(*statement(groups))


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.info.get(_PENDING):
        session.flush()  # the ORM rows first: a queued row may refer to one (e.g. a notification to its dossier)
        write_queued(session)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: Any) -> None:
    session.info.pop(_PENDING, None)
