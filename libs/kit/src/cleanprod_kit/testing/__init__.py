"""Test support shared by every service's tests (real PostgreSQL, a real JWKS endpoint over HTTP)."""
