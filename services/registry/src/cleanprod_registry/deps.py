"""What the registry's routes depend on, as `Annotated` dependencies, so a route's signature says what it needs
and no view reads `request.app.state`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from cleanprod_kit.db import Database
from cleanprod_kit.errors import ServiceUnavailable

from .accounts.directory import AccountDirectory
from .config import RegistrySettings


def _settings(request: Request) -> RegistrySettings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _database(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


SettingsDep = Annotated[RegistrySettings, Depends(_settings)]
DatabaseDep = Annotated[Database, Depends(_database)]
"""The database itself, for work that opens its own sessions (an export reads page by page)."""


def _directory(request: Request, settings: SettingsDep) -> AccountDirectory:
    """Keycloak's admin API with this service's own account, made on first use and kept for the process."""
    found: AccountDirectory | None = getattr(request.app.state, "account_directory", None)
    if found is None:
        if not (settings.service_client_id and settings.service_client_secret):
            raise ServiceUnavailable(code="accounts_not_configured")
        found = AccountDirectory(keycloak_url=settings.keycloak_server_url, realm=settings.realm,
                                 client_id=settings.service_client_id, client_secret=settings.service_client_secret)
        request.app.state.account_directory = found
    return found


DirectoryDep = Annotated[AccountDirectory, Depends(_directory)]
"""The enterprise logins and staff accounts in Keycloak (HTTP: call it with no transaction open)."""
