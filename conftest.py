"""Root of the test suite: loads the shared fixtures (real PostgreSQL, token issuer). The repository root and the
test folders whose helper modules are imported by name are on sys.path through pytest's `pythonpath` setting
(pyproject.toml)."""

pytest_plugins = ["cleanprod_kit.testing.fixtures"]
