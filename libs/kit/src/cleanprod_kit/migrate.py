"""Container entry step: migrate a service's database to head before the server starts.

    python -m cleanprod_kit.migrate cleanprod_registry REGISTRY_

reads REGISTRY_DATABASE_URL and runs the package's Alembic tree (`cleanprod_registry:migrations`)."""

from __future__ import annotations

import os
import sys

from .migrations import upgrade


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    package, prefix = argv
    url = os.environ.get(f"{prefix}DATABASE_URL")
    if not url:
        print(f"{prefix}DATABASE_URL is not set", file=sys.stderr)
        return 2
    upgrade(f"{package}:migrations", url)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
