"""`./cleanprod backup` / `restore` (infra/backup.py) on a real PostgreSQL server of its own (restore drops
databases: never the session's shared server): seed every part's database, back up, drop the databases, restore,
and every table's row count, every row's content and every sequence are as they were; a damaged backup is refused
before anything is dropped."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from cleanprod_kit.db import Database
from cleanprod_kit.migrations import upgrade
from cleanprod_registry.seed.demo import load_demo
from infra import backup, postgres_server
from infra.ports import free_port
from infra.processes import record

ROOT = Path(__file__).resolve().parent.parent
DATABASES = {
    "cleanprod_registry": "cleanprod_registry:migrations",
    "cleanprod_applications": "cleanprod_applications:migrations",
    "cleanprod_verification": "cleanprod_verification:migrations",
    "cleanprod_portal": "cleanprod_portal:migrations",
}


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[Path, postgres_server.PostgresInstance]]:
    """A stack data folder like `./cleanprod up`'s: postgres/ (its own server) and documents/. Not under pytest's
    tmp_path: as root the server runs as another user, who must reach the folder (pytest keeps its own 0700)."""
    data = Path(tempfile.mkdtemp(prefix="cleanprod-backup-test-"))
    instance = postgres_server.ensure_postgres(data / "postgres", free_port())
    postgres_server.create_databases(instance, list(DATABASES))
    for database, migrations in DATABASES.items():
        upgrade(migrations, instance.url(database))
    asyncio.run(_seed(instance))
    documents = data / "documents" / "ab"
    documents.mkdir(parents=True)
    (documents / "abcdef").write_bytes("Báo cáo kiểm toán năng lượng — Hà Nội".encode() + bytes(range(256)))
    yield data, instance
    postgres_server.remove_data(data / "postgres")
    shutil.rmtree(data, ignore_errors=True)


async def _seed(instance: postgres_server.PostgresInstance) -> None:
    database = Database(instance.url("cleanprod_registry"), pool_size=1, max_overflow=0)
    async with database.session() as session:
        assert await load_demo(session) > 0
    await database.dispose()
    # Every service database carries the kit's tables: an audit trail and outbox events with Vietnamese text.
    for name in ("cleanprod_registry", "cleanprod_applications", "cleanprod_verification"):
        with psycopg.connect(instance.dsn(name), autocommit=True) as conn:
            for i in range(25):
                conn.execute(
                    "INSERT INTO audit_log (occurred_at, actor_subject, actor_role, entity_type, entity_id, action,"
                    " reason, details) VALUES (now(), %s, 'officer', 'application', %s, 'decide', %s, %s)",
                    (f"officer-{i}", str(i), f"Đạt yêu cầu tiết kiệm năng lượng lần {i}", json.dumps({"điểm": i})),
                )
                conn.execute(
                    "INSERT INTO outbox_events (id, event_type, aggregate_type, aggregate_id, payload, occurred_at,"
                    " attempts) VALUES (gen_random_uuid(), 'application.decided', 'application', %s, %s, now(), 0)",
                    (str(i % 5), json.dumps({"tên": "Công ty Thép Hà Nội", "n": i})),
                )


def _snapshot(instance: postgres_server.PostgresInstance) -> dict[str, dict[str, object]]:
    """Per database: each table's row count and a digest of all its rows, a sample of rows, each sequence's value."""
    snapshot: dict[str, dict[str, object]] = {}
    for name in DATABASES:
        with psycopg.connect(instance.dsn(name), autocommit=True) as conn:
            tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
            state: dict[str, object] = {}
            for table in sorted(tables):
                rows = [r[0] for r in conn.execute(f'SELECT t::text FROM "{table}" t ORDER BY 1')]
                digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
                state[table] = (len(rows), digest, rows[:3] + rows[-3:])
            for (sequence,) in conn.execute("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"):
                state[f"sequence {sequence}"] = conn.execute(f'SELECT last_value FROM "{sequence}"').fetchone()
            snapshot[name] = state
    return snapshot


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "infra.backup", *args], cwd=ROOT, capture_output=True, text=True)


def test_backup_drop_restore_gives_back_every_row(stack: tuple[Path, Any], tmp_path: Path) -> None:
    data_dir, instance = stack
    before = _snapshot(instance)
    assert before["cleanprod_registry"]["enterprises"][0] > 0 and before["cleanprod_applications"]["audit_log"][0] == 25
    assert sum(1 for state in before.values() for key, value in state.items() if not key.startswith("sequence")) > 20

    target = tmp_path / "backup"
    result = _cli("backup", str(target), "--data", str(data_dir), "--port", str(instance.port))
    assert result.returncode == 0, result.stderr
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["databases"] == sorted(DATABASES) and "documents.tar" in manifest["files"]

    for name in DATABASES:
        postgres_server.drop_database(instance, name)
    (data_dir / "documents" / "ab" / "abcdef").unlink()
    assert not set(DATABASES) & set(backup._server(instance)[0])

    result = _cli("restore", str(target), "--data", str(data_dir), "--port", str(instance.port))
    assert result.returncode == 0, result.stderr
    assert _snapshot(instance) == before
    restored = (data_dir / "documents" / "ab" / "abcdef").read_bytes()
    assert restored == "Báo cáo kiểm toán năng lượng — Hà Nội".encode() + bytes(range(256))
    # Search still folds accents after the restore (the extensions and cp_fold came back with the dump).
    with psycopg.connect(instance.dsn("cleanprod_registry")) as conn:
        assert conn.execute("SELECT cp_fold('Hà Nội')").fetchone() == ("ha noi",)


def test_a_damaged_backup_is_refused_before_anything_is_dropped(stack: tuple[Path, Any], tmp_path: Path) -> None:
    data_dir, instance = stack
    target = tmp_path / "backup"
    backup.backup(backup.Target(instance), target)
    before = _snapshot(instance)
    dump = target / "cleanprod_verification.dump"
    dump.write_bytes(dump.read_bytes()[:-10])
    result = _cli("restore", str(target), "--data", str(data_dir), "--port", str(instance.port))
    assert result.returncode == 1 and "does not match its SHA-256" in result.stderr, (result.stdout, result.stderr)
    assert _snapshot(instance) == before
    with pytest.raises(backup.BackupError, match="not empty"):
        backup.backup(backup.Target(instance), target)


def test_restore_refuses_while_the_stack_runs(stack: tuple[Path, Any], tmp_path: Path) -> None:
    data_dir, instance = stack
    target = tmp_path / "backup"
    backup.backup(backup.Target(instance), target)
    # What `./cleanprod up` records; this test's own process plays the running service.
    (data_dir / "processes.json").write_text(json.dumps({"processes": {"applications": record(os.getpid())}}))
    try:
        result = _cli("restore", str(target), "--data", str(data_dir), "--port", str(instance.port))
    finally:
        (data_dir / "processes.json").unlink()
    assert result.returncode == 1 and "applications still run" in result.stderr and "./cleanprod down" in result.stderr
