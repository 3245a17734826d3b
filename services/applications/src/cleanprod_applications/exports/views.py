"""Exports: the applications list and its tranches as CSV or XLSX (same filters and access rules as
`GET /applications`), and one application's dossier ZIP."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import StreamingResponse

from cleanprod_kit.auth import CurrentPrincipal, Principal, require_roles
from cleanprod_kit.db import Database, SessionDep
from cleanprod_kit.exports import EXPORT_RESPONSES, PAGE_SIZE, ExportFormat, Fetch, export_response, file_chunks
from cleanprod_kit.roles import OVERSIGHT

from ..access import READ_ROLES, readable_application
from ..applications import service as applications
from ..applications.filters import ApplicationFilters
from ..deps import BlobStoreDep, DatabaseDep, VerificationDep
from . import dossier
from .columns import APPLICATION_COLUMNS, TRANCHE_COLUMNS

router = APIRouter(prefix="/api/v1/applications", tags=["exports"])
readers = [Depends(require_roles(*READ_ROLES))]
FormatParam = Annotated[ExportFormat, Query(alias="format", description="csv (UTF-8 with BOM) or xlsx")]


def _pages(database: Database, principal: Principal, filters: ApplicationFilters) -> Fetch:
    """The list's query, one keyset page per call, each in its own short session (the stream outlives the
    request's session)."""

    async def fetch(cursor: str | None) -> tuple[list[Any], str | None]:
        async with database.session() as session:
            return await applications.list_applications(
                session, principal, **filters.as_kwargs(), limit=PAGE_SIZE, cursor=cursor
            )

    return fetch


@router.get("/export", dependencies=readers, response_class=StreamingResponse, responses=EXPORT_RESPONSES)
async def export_applications(
    request: Request,
    principal: CurrentPrincipal,
    database: DatabaseDep,
    filters: Annotated[ApplicationFilters, Depends()],
    export_format: FormatParam = "csv",
) -> StreamingResponse:
    """The filtered applications list as a file: the same filters and the same rows as `GET /applications`
    (an enterprise exports only its own). Headers in Vietnamese unless Accept-Language prefers English."""
    return await export_response(
        request, export_format, "applications", APPLICATION_COLUMNS, _pages(database, principal, filters)
    )


@router.get("/tranches/export", dependencies=readers, response_class=StreamingResponse, responses=EXPORT_RESPONSES)
async def export_tranches(
    request: Request,
    principal: CurrentPrincipal,
    database: DatabaseDep,
    filters: Annotated[ApplicationFilters, Depends()],
    export_format: FormatParam = "csv",
) -> StreamingResponse:
    """One row per payment tranche of the applications the same filters select (advance, balance, recovery)."""
    fetch_applications = _pages(database, principal, filters)

    async def fetch(cursor: str | None) -> tuple[list[Any], str | None]:
        rows, next_cursor = await fetch_applications(cursor)
        return [(a, t) for a in rows for t in a.tranches], next_cursor

    return await export_response(request, export_format, "tranches", TRANCHE_COLUMNS, fetch)


@router.get(
    "/{application_id}/dossier.zip",
    response_class=StreamingResponse,
    dependencies=[Depends(require_roles(*OVERSIGHT))],
    responses={200: {"content": {"application/zip": {}}}, 404: {"description": "No such application"}},
)
async def dossier_zip(
    application_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    blobs: BlobStoreDep,
    verification: VerificationDep,
) -> StreamingResponse:
    """Everything on one application in one ZIP (see docs/applications.md "Dossier ZIP")."""
    application = await readable_application(session, principal, application_id)
    name = dossier.filename(application)  # before build() ends the transaction (and expires the row)
    file = await dossier.build(session, principal, application, verification=verification, blobs=blobs)
    return StreamingResponse(
        file_chunks(file),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
