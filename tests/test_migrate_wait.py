"""The image entrypoint's database steps (infra/docker/entrypoint.sh, run here with the venv's python):
`wait-for-migrations` (the Kubernetes pods' init step, `python -m cleanprod_kit.migrate --wait`) waits while the
database is not at the code's migration head and never migrates; `migrate` (the migration Jobs) brings it there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from cleanprod_kit.migrate import wait_for_head
from cleanprod_kit.migrations import at_head
from infra.postgres_server import create_databases, drop_database

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = "cleanprod_verification:migrations"


def _entrypoint(mode: str, url: str, wait_seconds: str = "1") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "SERVICE": "verification",
        "VERIFICATION_DATABASE_URL": url,
        "CLEANPROD_MIGRATION_WAIT_SECONDS": wait_seconds,
    }
    command = ["sh", "infra/docker/entrypoint.sh", mode]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_waits_for_the_migration_and_never_migrates(pg_instance: Any) -> None:
    drop_database(pg_instance, "wait_test")
    create_databases(pg_instance, ["wait_test"])
    url = pg_instance.url("wait_test")
    result = _entrypoint("wait-for-migrations", url)
    assert result.returncode == 1 and "migration Job" in result.stderr
    assert not at_head(MIGRATIONS, url)  # the wait changed nothing
    result = _entrypoint("migrate", url)
    assert result.returncode == 0, result.stderr
    assert at_head(MIGRATIONS, url)
    assert _entrypoint("wait-for-migrations", url).returncode == 0


def test_an_unreachable_database_is_waited_for_until_the_timeout(pg_instance: Any) -> None:
    url = pg_instance.url("no_such_database")
    assert wait_for_head(MIGRATIONS, url, timeout=0.5, interval=0.1) is False
