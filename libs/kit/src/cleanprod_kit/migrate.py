"""Container entry step: migrate a service's database to head before the server starts.

    python -m cleanprod_kit.migrate cleanprod_registry REGISTRY_
    python -m cleanprod_kit.migrate --wait cleanprod_registry REGISTRY_

reads REGISTRY_DATABASE_URL and runs the package's Alembic tree (`cleanprod_registry:migrations`). With `--wait`
it changes nothing: it waits until the database is at this code's head (the Kubernetes pods' init step, so a new
version never serves before its migration Job has run; infra/k8s, docs/operations.md) and fails after
CLEANPROD_MIGRATION_WAIT_SECONDS (default 900)."""

from __future__ import annotations

import os
import sys
import time

from sqlalchemy.exc import DBAPIError

from .migrations import at_head, upgrade


def wait_for_head(script_location: str, url: str, timeout: float, interval: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if at_head(script_location, url):
                return True
        except (OSError, DBAPIError) as exc:  # not reachable yet, or its role or database not created yet
            print(f"waiting for the database: {exc}", file=sys.stderr)
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def main(argv: list[str]) -> int:
    wait = "--wait" in argv
    argv = [a for a in argv if a != "--wait"]
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    package, prefix = argv
    url = os.environ.get(f"{prefix}DATABASE_URL")
    if not url:
        print(f"{prefix}DATABASE_URL is not set", file=sys.stderr)
        return 2
    if wait:
        timeout = float(os.environ.get("CLEANPROD_MIGRATION_WAIT_SECONDS", "900"))
        if wait_for_head(f"{package}:migrations", url, timeout):
            return 0
        print(
            f"{package}: the database is not at this version's migration head; has the migration Job run?",
            file=sys.stderr,
        )
        return 1
    upgrade(f"{package}:migrations", url)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
