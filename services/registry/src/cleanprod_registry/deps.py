"""What the registry's routes depend on, as `Annotated` dependencies, so a route's signature says what it needs
and no view reads `request.app.state`: `SettingsDep`, `DatabaseDep` (exports that outlive the request's session),
`DirectoryDep` (Keycloak's admin API), and the change pipeline of each resource a route changes:
`EnterpriseChange`, `FacilityChange`, `BaselineChange`, `SectorChange`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request

from cleanprod_kit.auth import CurrentPrincipal
from cleanprod_kit.changes import Change
from cleanprod_kit.db import Database, SessionDep
from cleanprod_kit.errors import ServiceUnavailable
from cleanprod_kit.fields import Param

from .accounts.directory import AccountDirectory
from .baselines.models import Baseline
from .baselines.service import get_baseline
from .config import RegistrySettings
from .enterprises.models import Enterprise
from .enterprises.service import get_enterprise
from .facilities.models import Facility
from .facilities.service import get_facility
from .sectors.models import Sector
from .sectors.service import get_sector


# `async def`: FastAPI runs a plain `def` dependency in its thread pool, a thread hop per request for a lookup
# (session 7, docs/performance.md "Facility search").
async def _settings(request: Request) -> RegistrySettings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def _database(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


SettingsDep = Annotated[RegistrySettings, Depends(_settings)]
DatabaseDep = Annotated[Database, Depends(_database)]
"""The database itself, for work that opens its own sessions (an export reads page by page)."""


def account_directory(request: Request, settings: SettingsDep) -> AccountDirectory:
    """Keycloak's admin API with this service's own account, made on first use and kept for the process."""
    found: AccountDirectory | None = getattr(request.app.state, "account_directory", None)
    if found is None:
        if not (settings.service_client_id and settings.service_client_secret):
            raise ServiceUnavailable(code="accounts_not_configured")
        found = AccountDirectory(
            keycloak_url=settings.keycloak_server_url,
            realm=settings.realm,
            client_id=settings.service_client_id,
            client_secret=settings.service_client_secret,
        )
        request.app.state.account_directory = found
    return found


DirectoryDep = Annotated[AccountDirectory, Depends(account_directory)]
"""The enterprise logins and staff accounts in Keycloak (HTTP: call it with no transaction open)."""


# --- The kit's change pipeline (`cleanprod_kit.changes.Change`) for each resource a route changes: the route calls
# `change.lock()` (read access → row lock → If-Match), one service function, then `change.answer(response, …)`.


async def _enterprise_change(
    enterprise_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Change[Enterprise]:
    return Change(request, session, principal, lambda: get_enterprise(session, principal, enterprise_id))


async def _facility_change(
    facility_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Change[Facility]:
    async def read() -> Facility:
        facility, _ = await get_facility(session, principal, facility_id)
        return facility

    return Change(request, session, principal, read)


async def _baseline_change(
    facility_id: uuid.UUID, baseline_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Change[Baseline]:
    return Change(request, session, principal, lambda: get_baseline(session, principal, facility_id, baseline_id))


async def _sector_change(
    code: Param, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Change[Sector]:
    """Every caller with a role reads sectors; the route checks that an officer changes it."""
    return Change(request, session, principal, lambda: get_sector(session, code))


EnterpriseChange = Annotated[Change[Enterprise], Depends(_enterprise_change)]
FacilityChange = Annotated[Change[Facility], Depends(_facility_change)]
BaselineChange = Annotated[Change[Baseline], Depends(_baseline_change)]
SectorChange = Annotated[Change[Sector], Depends(_sector_change)]
