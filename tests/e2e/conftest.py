"""Fixtures the end-to-end test modules share (the stack, tokens and gateway client: tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from e2e_helpers import Api

from infra.devstack import Stack


@pytest.fixture(scope="module")
def api(gateway: httpx.Client, tokens: Any, stack: Stack) -> Api:
    """The gateway with real Keycloak tokens, one per test module (it caches the demo users' subjects)."""
    return Api(gateway, tokens, stack)
