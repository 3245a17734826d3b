"""A real PgBouncer (Debian's `pgbouncer` package) in transaction mode in front of a local PostgreSQL, for the test
that the services work behind the Kubernetes manifests' pooler (CloudNativePG `Pooler`, infra/k8s). PgBouncer
refuses to run as root: then it runs as the same unprivileged user as the embedded PostgreSQL server."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .ports import free_port, port_open
from .postgres_server import PG_SYSTEM_USER, SUPERUSER, PostgresInstance

BINARY = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


@dataclass
class PgBouncer:
    port: int
    folder: Path
    process: subprocess.Popen[bytes]

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


def available() -> bool:
    return os.path.exists(BINARY)


def start_pgbouncer(server: PostgresInstance, *, pool_size: int = 1, timeout: float = 20.0) -> PgBouncer:
    """Transaction pooling with `pool_size` server connections per database and user."""
    folder = Path(tempfile.mkdtemp(prefix="cleanprod-pgbouncer-"))
    port = free_port()
    (folder / "userlist.txt").write_text(f'"{SUPERUSER}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        f"""[databases]
* = host={server.host} port={server.port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder / "userlist.txt"}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 200
logfile = {folder / "pgbouncer.log"}
"""
    )
    command = [BINARY, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        import pwd

        entry = pwd.getpwnam(PG_SYSTEM_USER)
        os.chmod(folder, 0o755)
        for path in [folder, *folder.iterdir()]:
            os.chown(path, entry.pw_uid, entry.pw_gid)
        command = [BINARY, "-u", PG_SYSTEM_USER, str(folder / "pgbouncer.ini")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if process.poll() is not None or time.monotonic() > deadline:
            log = (folder / "pgbouncer.log").read_text() if (folder / "pgbouncer.log").exists() else ""
            process.kill()
            raise RuntimeError(f"pgbouncer did not start on port {port}: {log[-2000:]}")
        time.sleep(0.1)
    return PgBouncer(port, folder, process)
