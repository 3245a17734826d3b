"""Queued rows (`rows.py`): audit entries, events and idempotency records a change queues are written at its
commit, in one statement, in the order queued — or not at all when it rolls back or one of them conflicts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import orjson
import pytest
from sqlalchemy import Column, Integer, MetaData, Table, Text, event, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import select

from cleanprod_kit.audit import queue_audit
from cleanprod_kit.auth import Principal
from cleanprod_kit.db import Database, violated_constraint
from cleanprod_kit.models import AuditEntry, IdempotencyRecord, OutboxEvent, utcnow
from cleanprod_kit.outbox import queue_event
from cleanprod_kit.rows import (
    _PENDING,
    Group,
    queue_changes,
    queue_row,
    queued,
    row_of,
    statement,
    write_autocommit,
)

ACTOR = Principal(subject="officer-7", username="Nguyễn Thị Hà", roles=frozenset({"officer"}))


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _key_row(key: str) -> dict[str, object]:
    return {
        "principal": "ent-1",
        "key": key,
        "method": "POST",
        "path": "/things",
        "fingerprint": "f" * 64,
        "status_code": 201,
        "response_body": {"tên": "Hà Nội"},
        "response_headers": {},
        "created_at": utcnow(),
    }


async def _events_of(database: Database, aggregate: str) -> list[OutboxEvent]:
    async with database.session() as session:
        found = await session.exec(
            select(OutboxEvent).where(OutboxEvent.aggregate_id == aggregate).order_by(OutboxEvent.seq)  # type: ignore[arg-type]
        )
        return list(found.all())


async def test_queued_rows_are_written_at_commit_in_one_statement(database: Database) -> None:
    aggregate = f"thing-{uuid.uuid4()}"
    async with database.session() as session:
        await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        for n in range(3):
            queue_audit(session, ACTOR, entity_type="thing", entity_id=aggregate, action=f"step-{n}", to_state="ổn")
            queue_event(session, f"thing.step_{n}", aggregate_type="thing", aggregate_id=aggregate, payload={"n": n})
        queue_row(session, IdempotencyRecord.__table__, _key_row(aggregate))  # type: ignore[attr-defined]
        assert queued(session) == 7
        with statements(database) as seen:
            await session.commit()
        assert len([s for s in seen if "INSERT" in s]) == 1, seen
        assert queued(session) == 0

    events = await _events_of(database, aggregate)
    assert [e.event_type for e in events] == ["thing.step_0", "thing.step_1", "thing.step_2"]  # seq = queue order
    assert [e.payload for e in events] == [{"n": 0}, {"n": 1}, {"n": 2}]
    async with database.session() as session:
        entries = (
            await session.exec(select(AuditEntry).where(AuditEntry.entity_id == aggregate).order_by(AuditEntry.id))  # type: ignore[arg-type]
        ).all()
        record = await session.get(IdempotencyRecord, ("ent-1", aggregate))
    assert [(e.action, e.to_state, e.actor_name, e.actor_role) for e in entries] == [
        (f"step-{n}", "ổn", "Nguyễn Thị Hà", "officer") for n in range(3)
    ]
    assert record is not None and record.response_body == {"tên": "Hà Nội"}


async def test_a_rolled_back_change_writes_none_of_its_queued_rows(database: Database) -> None:
    aggregate = f"thing-{uuid.uuid4()}"
    async with database.session() as session:
        queue_event(session, "thing.dropped", aggregate_type="thing", aggregate_id=aggregate, payload={})
        await session.rollback()
        assert queued(session) == 0
        queue_event(session, "thing.kept", aggregate_type="thing", aggregate_id=aggregate, payload={})
        await session.commit()
    assert [e.event_type for e in await _events_of(database, aggregate)] == ["thing.kept"]


async def test_a_conflicting_queued_row_fails_the_commit_and_nothing_of_the_change_is_written(
    database: Database,
) -> None:
    key = f"key-{uuid.uuid4()}"
    async with database.session() as session:
        queue_row(session, IdempotencyRecord.__table__, _key_row(key))  # type: ignore[attr-defined]
        await session.commit()
    async with database.session() as session:
        queue_event(session, "thing.twin", aggregate_type="thing", aggregate_id=key, payload={})
        queue_row(session, IdempotencyRecord.__table__, _key_row(key))  # type: ignore[attr-defined]
        with pytest.raises(IntegrityError):
            await session.commit()
        await session.rollback()
    assert await _events_of(database, key) == []


async def test_rows_queued_to_skip_conflicts_are_skipped(database: Database) -> None:
    key = f"key-{uuid.uuid4()}"
    table = IdempotencyRecord.__table__  # type: ignore[attr-defined]
    async with database.session() as session:
        queue_row(session, table, _key_row(key), ignore_conflicts_on=("principal", "key"))
        queue_row(session, table, _key_row(key) | {"status_code": 200}, ignore_conflicts_on=("principal", "key"))
        await session.commit()
    async with database.session() as session:
        queue_row(session, table, _key_row(key) | {"status_code": 202}, ignore_conflicts_on=("principal", "key"))
        await session.commit()
        record = await session.get(IdempotencyRecord, ("ent-1", key))
    assert record is not None and record.status_code == 201  # the first one stays


def test_one_shape_of_queued_rows_is_one_statement_given_new_values() -> None:
    table = IdempotencyRecord.__table__  # type: ignore[attr-defined]
    first, first_values = statement({(table, ()): [_key_row("a"), _key_row("b")]})
    second, second_values = statement({(table, ()): [_key_row("c")]})
    assert first is second  # built (and compiled) once, whatever the number of rows
    assert [r["key"] for r in orjson.loads(first_values["q0"])] == ["a", "b"]
    assert [r["key"] for r in orjson.loads(second_values["q0"])] == ["c"]
    other, _ = statement({(table, ("principal", "key")): [_key_row("e")]})
    assert other is not first
    with pytest.raises(ValueError):
        statement({(table, ()): [_key_row("f"), {**_key_row("g"), "extra": 1}]})

    class DriverUUID(uuid.UUID):  # asyncpg reads uuid columns as a subclass of its own
        pass

    value = DriverUUID("01a2336f-7907-7217-8bd5-3c80565b3fc8")
    _, values = statement({(table, ()): [{**_key_row("h"), "response_body": {"id": value}}]})
    assert orjson.loads(values["q0"])[0]["response_body"] == {"id": str(value)}


async def test_a_new_row_built_in_memory_is_queued_with_what_postgresql_fills_left_out(database: Database) -> None:
    aggregate = f"thing-{uuid.uuid4()}"
    event_row = row_of(OutboxEvent(event_type="thing.made", aggregate_type="thing", aggregate_id=aggregate))
    assert "seq" not in event_row and "txid" not in event_row and event_row["payload"] == {}
    async with database.session() as session:
        queue_row(session, OutboxEvent.__table__, event_row)  # type: ignore[attr-defined]
        await session.commit()
    [stored] = await _events_of(database, aggregate)
    assert stored.id == event_row["id"] and stored.seq is not None and stored.txid is not None


async def test_a_rows_changes_are_written_with_the_queued_rows_in_the_one_statement(database: Database) -> None:
    """`queue_changes`: the changed columns of a row read in the session become an UPDATE in the commit's one
    statement (beside the queued INSERTs); the other columns stay as they were, and the row leaves the session."""
    aggregate = f"thing-{uuid.uuid4()}"
    async with database.session() as session:
        queue_event(session, "thing.made", aggregate_type="thing", aggregate_id=aggregate, payload={"tên": "Hà"})
        await session.commit()
    (made,) = await _events_of(database, aggregate)
    async with database.session() as session:
        event_row = await session.get(OutboxEvent, made.id)
        assert event_row is not None
        event_row.attempts = 3
        event_row.last_error = "Máy chủ nhận không trả lời"
        queue_changes(session, event_row)
        assert event_row not in session
        queue_audit(session, ACTOR, entity_type="thing", entity_id=aggregate, action="retry", to_state="lỗi")
        with statements(database) as seen:
            await session.commit()
        writes = [s for s in seen if "INSERT" in s or "UPDATE" in s]
        assert len(writes) == 1 and 'UPDATE "outbox_events" SET' in writes[0] and "INSERT" in writes[0], seen
    (changed,) = await _events_of(database, aggregate)
    assert (changed.attempts, changed.last_error) == (3, "Máy chủ nhận không trả lời")
    assert (changed.payload, changed.event_type, changed.seq) == ({"tên": "Hà"}, "thing.made", made.seq)
    async with database.session() as session:
        unchanged = await session.get(OutboxEvent, made.id)
        queue_changes(session, unchanged)
        assert queued(session) == 0


async def test_a_rows_changes_are_the_columns_whose_history_says_so(database: Database) -> None:
    """`queue_changes` asks only the attributes set since the load (`committed_state`): the columns and values it
    queues are those a walk over every column's history gives, however they were set — changed, set to the same
    value, changed and set back, a JSON value replaced, one changed in place and flagged, one expired and set."""
    aggregate = f"thing-{uuid.uuid4()}"
    async with database.session() as session:
        queue_event(session, "thing.made", aggregate_type="thing", aggregate_id=aggregate, payload={"tên": "Hà"})
        await session.commit()
    (made,) = await _events_of(database, aggregate)

    def every_columns_history(row: OutboxEvent) -> dict[str, object]:
        state = sa_inspect(row)
        added = {prop.columns[0].name: state.attrs[prop.key].history.added for prop in state.mapper.column_attrs}
        return {name: values[0] for name, values in added.items() if values}

    ways = [
        lambda row: setattr(row, "attempts", 3),
        lambda row: setattr(row, "event_type", row.event_type),
        lambda row: (setattr(row, "last_error", "tạm"), setattr(row, "last_error", None)),
        lambda row: setattr(row, "payload", {"tên": "Huế"}),
        lambda row: (row.payload.update({"thêm": 1}), flag_modified(row, "payload")),
        lambda row: (session.expire(row, ["request_id"]), setattr(row, "request_id", "req-9")),
    ]
    for count in range(len(ways) + 1):
        async with database.session() as session:
            row = await session.get(OutboxEvent, made.id)
            assert row is not None
            for way in ways[:count]:
                way(row)
            expected = every_columns_history(row)
            queue_changes(session, row)
            groups = session.sync_session.info.get(_PENDING, {})
            queued_values = [values for group, rows in groups.items() if group.update_by for values in rows]
            if expected:
                assert queued_values == [{"id": made.id} | expected]
            else:
                assert queued_values == []
            await session.rollback()


async def test_one_row_to_update_is_found_by_its_key_and_several_by_the_recordset(database: Database) -> None:
    """One queued change (a submission's application) is updated through an index look-up by its primary key, not
    a hash join over the whole table (PostgreSQL takes a JSON recordset for 100 rows: with a few thousand rows in
    the table it scanned them all); several are still written through the recordset, each its own values."""
    things = Table(
        f"update_probe_{uuid.uuid4().hex[:8]}",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("label", Text, nullable=False),
    )
    async with database.engine.begin() as connection:
        await connection.run_sync(things.metadata.create_all)
        await connection.execute(
            text(f"INSERT INTO {things.name} SELECT n, 'mục ' || n FROM generate_series(1, 3000) AS n")
        )
        await connection.execute(text(f"ANALYZE {things.name}"))
    try:
        one, parameters = statement({Group(things, update_by=("id",)): [{"id": 7, "label": "đã sửa"}]})
        async with database.engine.begin() as connection:
            plan = "\n".join((await connection.execute(text(f"EXPLAIN {one.text}"), parameters)).scalars())
            assert "Index Scan" in plan and "Seq Scan" not in plan, plan
            await connection.execute(one, parameters)
        several = statement(
            {
                Group(things, update_by=("id",)): [
                    {"id": 8, "label": "tám"},
                    {"id": 9, "label": "chín"},
                    {"id": 0, "label": "-"},
                ]
            }
        )
        async with database.engine.begin() as connection:
            await connection.execute(*several)
            labels = (
                await connection.execute(text(f"SELECT id, label FROM {things.name} WHERE id <= 10 ORDER BY id"))
            ).all()
        assert [tuple(row) for row in labels] == [
            (n, {7: "đã sửa", 8: "tám", 9: "chín"}.get(n, f"mục {n}")) for n in range(1, 11)
        ]
    finally:
        async with database.engine.begin() as connection:
            await connection.run_sync(things.metadata.drop_all)


async def test_queued_rows_written_in_autocommit_on_the_driver(database: Database) -> None:
    """`write_autocommit` (a create made of queued rows, `idempotency.insert_once`): the rows in one statement
    sent on the driver (`Database.write`), not through the engine; a conflict raises SQLAlchemy's
    `IntegrityError` naming the constraint, as the engine's would, and writes none of the statement's rows."""
    key = f"key-{uuid.uuid4()}"
    async with database.session() as session:
        queue_audit(session, ACTOR, entity_type="thing", entity_id=key, action="create")
        queue_row(session, IdempotencyRecord.__table__, _key_row(key))  # type: ignore[attr-defined]
        with statements(database) as seen:
            await write_autocommit(database, session)
        assert seen == [] and queued(session) == 0
    async with database.session() as session:
        record = await session.get(IdempotencyRecord, ("ent-1", key))
        assert record is not None and record.response_body == {"tên": "Hà Nội"}
        queue_event(session, "thing.twin", aggregate_type="thing", aggregate_id=key, payload={})
        queue_row(session, IdempotencyRecord.__table__, _key_row(key))  # type: ignore[attr-defined]
        with pytest.raises(IntegrityError) as raised:
            await write_autocommit(database, session)
    assert violated_constraint(raised.value) == "idempotency_keys_pkey"
    assert await _events_of(database, key) == []
