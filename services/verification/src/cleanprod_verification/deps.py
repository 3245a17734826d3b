"""What the verification service's routes depend on, as `Annotated` dependencies, so a route's signature says
what it needs and no view reads `request.app.state`: `SettingsDep`, `MVSettingsDep`, `RegistryDep` (the facility
registry), `DatabaseDep` (exports that outlive the request's session), `SummariesDep` (programme summaries), and `CaseChange`, the kit's change pipeline
(`cleanprod_kit.changes.Change`) for the case in the path: the route calls `change.lock()` (read access → row
lock → If-Match), one service function, then `change.answer(response, …)` (commit → ETag → schema)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request

from cleanprod_kit.auth import CurrentPrincipal
from cleanprod_kit.changes import Change
from cleanprod_kit.db import Database, SessionDep

from .cases.models import VerificationCase
from .cases.service import readable_case
from .config import VerificationSettings
from .mv import MVSettings
from .programme.service import Summaries
from .registry import RegistryClient


def _settings(request: Request) -> VerificationSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _mv_settings(request: Request) -> MVSettings:
    return request.app.state.mv_settings  # type: ignore[no-any-return]


def _registry(request: Request) -> RegistryClient:
    return request.app.state.registry()  # type: ignore[no-any-return]


def _summaries(request: Request) -> Summaries:
    return request.app.state.programme_summaries  # type: ignore[no-any-return]


def _database(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


SettingsDep = Annotated[VerificationSettings, Depends(_settings)]
MVSettingsDep = Annotated[MVSettings, Depends(_mv_settings)]
"""The M&V rules (acceptance criteria, verdict rules) built from the settings at start-up."""
RegistryDep = Annotated[RegistryClient, Depends(_registry)]
"""The facility registry, asked with this service's own token. Call it with no transaction open."""
DatabaseDep = Annotated[Database, Depends(_database)]
"""The database itself, for work that opens its own sessions (an export reads page by page)."""
SummariesDep = Annotated[Summaries, Depends(_summaries)]
"""The programme summaries computed so far, reused while no conclusion changes them (programme/service.py)."""


async def _case_change(
    case_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Change[VerificationCase]:
    """A change of the case in the path: readable by the caller (404/403 otherwise), If-Match required unless the
    route says otherwise; the route's `check` is the transition's own rule (who may act, in which status)."""
    return Change(request, session, principal, lambda: readable_case(session, principal, case_id))


CaseChange = Annotated[Change[VerificationCase], Depends(_case_change)]
