"""What the verification service's routes depend on, as `Annotated` dependencies, so a route's signature says
what it needs and no view reads `request.app.state`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from cleanprod_kit.db import Database

from .config import VerificationSettings
from .mv import MVSettings
from .registry import RegistryClient


def _settings(request: Request) -> VerificationSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _mv_settings(request: Request) -> MVSettings:
    return request.app.state.mv_settings  # type: ignore[no-any-return]


def _registry(request: Request) -> RegistryClient:
    return request.app.state.registry()  # type: ignore[no-any-return]


def _database(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


SettingsDep = Annotated[VerificationSettings, Depends(_settings)]
MVSettingsDep = Annotated[MVSettings, Depends(_mv_settings)]
"""The M&V rules (acceptance criteria, verdict rules) built from the settings at start-up."""
RegistryDep = Annotated[RegistryClient, Depends(_registry)]
"""The facility registry, asked with this service's own token. Call it with no transaction open."""
DatabaseDep = Annotated[Database, Depends(_database)]
"""The database itself, for work that opens its own sessions (an export reads page by page)."""
