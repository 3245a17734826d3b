"""Rows a change queues on its session (audit entries, outbox events, idempotency records, notifications) and
that are written together, as one INSERT statement, when the session commits (issue 16).

A change used to add one ORM object per row: each object built field by field, tracked by the unit of work and
flushed in its own INSERT, often in several flushes (every query in between flushes what is pending). A queued
row is a plain dict of column values; at commit the session first flushes its ORM objects, then writes every
queued row in one statement (per table `INSERT … SELECT … FROM jsonb_to_recordset(<the rows as one JSON
parameter>)`, the tables joined as data-modifying CTEs), then commits. Queued rows commit with the change or not at all: a rollback drops them, and a row that breaks a
constraint makes the commit raise the `IntegrityError` (the change is not committed).

A new row the change answers from memory and never reads back (a created application draft) can be queued too
(`row_of`): one statement writes it with its audit entry and idempotency record.

What a queued row is not: visible to a query of the same transaction before the commit (nothing needs that — the
rows are read by other requests, the feed and the dispatcher). `db.release()` refuses a session holding queued
rows, as it refuses unsaved ORM changes: its commit would write them before the change is complete.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson
from sqlalchemy import Table, TextClause, event, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

if TYPE_CHECKING:
    from .db import Database

_PENDING = "cleanprod.queued_rows"


class Group(NamedTuple):
    """The rows of one table written alike: inserted (a conflict on the unique index `ignore_conflicts_on` is
    skipped; empty: a conflict raises), or, with `update_by` (the primary key's columns), updated."""

    table: Table
    ignore_conflicts_on: tuple[str, ...] = ()
    update_by: tuple[str, ...] = ()


def _sync(session: AsyncSession | Session) -> Session:
    return session.sync_session if isinstance(session, AsyncSession) else session


def queue_row(
    session: AsyncSession | Session, table: Table, row: dict[str, Any], *, ignore_conflicts_on: Sequence[str] = ()
) -> None:
    """Write `row` (column name → value, the same columns in every row of one table) when `session` commits.
    `ignore_conflicts_on` names a unique index: a row that conflicts on it is skipped (ON CONFLICT DO NOTHING)."""
    _pending(_sync(session)).setdefault(Group(table, tuple(ignore_conflicts_on)), []).append(row)


def _pending(sync: Session) -> dict[Group, list[dict[str, Any]]]:
    if not sync.in_transaction():
        sync.begin()  # no I/O (the connection is taken by the first statement); a rollback now drops the rows
    return sync.info.setdefault(_PENDING, {})  # type: ignore[no-any-return]


def queue_changes(session: AsyncSession | Session, instance: Any) -> None:
    """Write the changed columns of `instance` (a row of the session, changed in memory) with the queued rows, in
    their one statement — an UPDATE by primary key as one more data-modifying CTE — instead of in a flush of its
    own: a round trip and the unit of work's UPDATE saved (issue 16). `instance` leaves the session (expunged,
    its values kept for the answer): a change made to it afterwards is not written, and it is no longer refreshed
    or flushed. Nothing changed: nothing queued."""
    sync = _sync(session)
    state = sa_inspect(instance)
    values: dict[str, Any] = {}
    # Only an attribute set since the row was loaded has history (its old value is in `committed_state`): the
    # others are not asked (a submission sets ~12 of the application's ~60 columns; asking each was ~2 % of its
    # CPU). The mapper's order is kept, so the statement's shape is the same.
    touched = state.committed_state
    for prop in state.mapper.column_attrs:
        if prop.key not in touched:
            continue
        added = state.attrs[prop.key].history.added
        if added:
            values[prop.columns[0].name] = added[0]
    table = state.mapper.local_table
    key = dict(zip((c.name for c in state.mapper.primary_key), state.identity or (), strict=True))
    if values and key:
        _pending(sync).setdefault(Group(table, update_by=tuple(key)), []).append(key | values)
    sync.expunge(instance)


def row_of(instance: Any) -> dict[str, Any]:
    """The column values of a table model's instance that is not in any session (a new row the change answers
    from memory and never reads back): every column but those PostgreSQL fills (generated columns, and an
    identity or server-default column left unset)."""
    table = type(instance).__table__
    values = {}
    for column in table.columns:
        value = getattr(instance, column.name)
        filled_by_server = column.identity is not None or column.server_default is not None
        if column.computed is None and not (value is None and filled_by_server):
            values[column.name] = value
    return values


def queued(session: AsyncSession | Session) -> int:
    """How many rows wait for the commit."""
    return sum(len(rows) for rows in _sync(session).info.get(_PENDING, {}).values())


Shape = tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], bool], ...]
"""Per group: table name, conflict columns, update key columns, column names (in the order of the first row), and
whether it is one row to update (`_update`)."""

_STATEMENTS: dict[Shape, TextClause] = {}
MAX_SHAPES = 256  # a service queues a handful of shapes (create, submit, decide, …): a bound, not a tuning knob
_PG = postgresql.dialect()


def _shape(groups: dict[Group, list[dict[str, Any]]]) -> Shape:
    return tuple(
        (g.table.name, g.ignore_conflicts_on, g.update_by, tuple(rows[0]), bool(g.update_by) and len(rows) == 1)
        for g, rows in groups.items()
    )


def _insert(g: int, table: Table, conflict_columns: tuple[str, ...], names: tuple[str, ...]) -> str:
    """`INSERT INTO table (…) SELECT … FROM jsonb_to_recordset(:q<g>)`, in the rows' order (identity columns such
    as the outbox's `seq` are numbered in that order)."""
    columns = ", ".join(f'"{name}"' for name in names)
    record = ", ".join(f'"{name}" {table.c[name].type.compile(dialect=_PG)}' for name in names)
    rows = f"jsonb_to_recordset(CAST(CAST(:q{g} AS TEXT) AS JSONB)) AS ({record})"
    sql = (
        f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM ROWS FROM ({rows}) WITH ORDINALITY '
        f"AS queued({columns}, queued_order) ORDER BY queued_order"
    )
    if conflict_columns:
        sql += f" ON CONFLICT ({', '.join(conflict_columns)}) DO NOTHING"
    return sql


def _update(g: int, table: Table, key: tuple[str, ...], names: tuple[str, ...], one: bool) -> str:
    """`UPDATE table SET … FROM jsonb_to_recordset(:q<g>) WHERE` the primary key matches (no row: nothing).

    One row (a submission's application) is read with `jsonb_to_record`: PostgreSQL takes a set-returning
    function for 100 rows, and for 100 rows a hash join over the whole table looks cheaper than 100 look-ups by
    key while the table is small (a few thousand rows) — every submission read every application. One record
    is one look-up by the primary key."""
    record = ", ".join(f'"{name}" {table.c[name].type.compile(dialect=_PG)}' for name in names)
    function = "jsonb_to_record" if one else "jsonb_to_recordset"
    rows = f"{function}(CAST(CAST(:q{g} AS TEXT) AS JSONB)) AS queued({record})"
    assignments = ", ".join(f'"{name}" = queued."{name}"' for name in names if name not in key)
    matches = " AND ".join(f'"{table.name}"."{name}" = queued."{name}"' for name in key)
    return f'UPDATE "{table.name}" SET {assignments} FROM {rows} WHERE {matches}'


def _build(shape: Shape, tables: list[Table]) -> TextClause:
    """One statement for every queued row: the first table's INSERT as the main statement, each other table's as a
    data-modifying CTE (PostgreSQL runs every such CTE exactly once, referenced or not). Each table's rows are one
    JSON parameter, so a shape's SQL does not depend on how many rows there are, and SQLAlchemy compiles it once
    (it does not cache the compiled form of a multi-row VALUES: that was compiled anew on every commit)."""
    writes = [
        _update(g, table, key, names, one) if key else _insert(g, table, conflict, names)
        for g, (table, (_, conflict, key, names, one)) in enumerate(zip(tables, shape, strict=True))
    ]
    main, *others = writes
    ctes = ", ".join(f"queued_{g} AS ({sql})" for g, sql in enumerate(others, start=1))
    return text(f"WITH {ctes} {main}" if ctes else main)


def _json_default(value: Any) -> Any:
    """What orjson does not write itself: UUID subclasses (asyncpg reads uuid columns as its own UUID type), and
    decimals (as text: PostgreSQL reads a numeric from it exactly)."""
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def statement(groups: dict[Group, list[dict[str, Any]]]) -> tuple[TextClause, dict[str, Any]]:
    """The INSERT of `groups` and its parameters (a JSON array of rows per table; one row to update: its object)."""
    groups = {Group(*group): rows for group, rows in groups.items()}  # a plain (table, conflict columns) too
    shape = _shape(groups)
    built = _STATEMENTS.get(shape)
    if built is None:
        built = _build(shape, [group.table for group in groups])
        if len(_STATEMENTS) < MAX_SHAPES:
            _STATEMENTS[shape] = built
    parameters = {}
    for g, rows in enumerate(groups.values()):
        names = set(shape[g][3])
        if any(row.keys() != names for row in rows):
            raise ValueError(f"queued rows of {shape[g][0]} name different columns")
        value = rows[0] if shape[g][4] else rows  # one row to update: the record itself (`_update`)
        parameters[f"q{g}"] = orjson.dumps(value, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode()
    return built, parameters


async def write_autocommit(database: Database, session: AsyncSession) -> None:
    """Write what `session` has queued as one statement in autocommit, on a connection of its own, instead of
    at the session's commit: no BEGIN and no COMMIT round trip (idempotency.insert_once), sent on the driver
    (`Database.write`). For a change made of queued rows alone: ORM changes in the session would not be written,
    so they are refused."""
    sync = _sync(session)
    if sync.new or sync.dirty or sync.deleted:
        raise RuntimeError("write_autocommit writes queued rows only; this session has ORM changes")
    groups = sync.info.pop(_PENDING, None)
    if not groups:
        return
    await database.write(*statement(groups))


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
