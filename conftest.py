"""Root of the test suite: makes `infra` importable and loads the shared fixtures (real PostgreSQL, token issuer)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

pytest_plugins = ["cleanprod_kit.testing.fixtures"]
