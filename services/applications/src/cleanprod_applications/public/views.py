"""Anonymous routes under /api/v1/public: no `require_roles`, no principal (the gateway sends no token here)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path

from cleanprod_kit.db import SessionDep
from cleanprod_kit.fields import Param
from cleanprod_kit.pagination import CursorParam, LimitParam, Page

from ..deps import SettingsDep
from . import service
from .schemas import PublicCall, PublicDossierStatus

router = APIRouter(prefix="/api/v1/public", tags=["public"])


@router.get("/calls", response_model=Page[PublicCall])
async def list_open_calls(session: SessionDep, limit: LimitParam = 50, cursor: CursorParam = None) -> Page[PublicCall]:
    """Calls not yet closed (closes_on ≥ today, Hanoi calendar), by closing date."""
    items, next_cursor = await service.open_calls(session, limit=limit, cursor=cursor)
    return Page(items=[service.to_public_call(c) for c in items], next_cursor=next_cursor)


@router.get("/calls/{call_id}", response_model=PublicCall, responses={404: {"description": "No such call"}})
async def read_public_call(call_id: uuid.UUID, session: SessionDep) -> PublicCall:
    """Any call, also a closed one."""
    return service.to_public_call(await service.call(session, call_id))


@router.get(
    "/dossiers/{dossier_code}",
    response_model=PublicDossierStatus,
    responses={404: {"description": "No dossier has this code (or it is not a dossier code)"}},
)
async def public_dossier_status(
    session: SessionDep,
    settings: SettingsDep,
    dossier_code: Annotated[Param, Path(examples=["000.00.01.H26-261128-0001"])],
) -> PublicDossierStatus:
    """A dossier's status and dates for anyone holding its code. Anything that is not a known dossier code, also a
    malformed or overlong one, is 404 (no length limit as 422 here: the page only says "no such dossier")."""
    return await service.dossier_status(session, settings, dossier_code)
