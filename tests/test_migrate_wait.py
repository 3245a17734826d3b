"""The image entrypoint's database steps (infra/docker/entrypoint.sh, run here with the venv's python):
`wait-for-migrations` (the Kubernetes pods' init step, `python -m cleanprod_kit.migrate --wait`) waits while the
database is not at the code's migration head and never migrates; `migrate` (the migration Jobs) brings it there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
from alembic.script import ScriptDirectory

from cleanprod_kit.migrate import wait_for_head
from cleanprod_kit.migrations import alembic_config, at_head
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


def test_a_newer_release_schema_lets_the_previous_version_start(pg_instance: Any) -> None:
    """Roll back after a newer release migrated: the database is at a revision the old code does not know. An older
    revision the code knows still means wait."""
    drop_database(pg_instance, "wait_newer")
    create_databases(pg_instance, ["wait_newer"])
    url = pg_instance.url("wait_newer")
    assert _entrypoint("migrate", url).returncode == 0

    def set_revision(revision: str) -> None:
        with psycopg.connect(pg_instance.dsn("wait_newer"), autocommit=True) as conn:
            conn.execute("UPDATE alembic_version SET version_num = %s", (revision,))

    set_revision("f00d_from_a_newer_release")
    assert at_head(MIGRATIONS, url) and _entrypoint("wait-for-migrations", url).returncode == 0
    (base,) = ScriptDirectory.from_config(alembic_config(MIGRATIONS, url)).get_bases()
    set_revision(base)
    assert not at_head(MIGRATIONS, url) and _entrypoint("wait-for-migrations", url).returncode == 1
